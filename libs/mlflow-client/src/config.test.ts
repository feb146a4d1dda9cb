import { mlflowConfigFromEnv, parseMlflowConfig } from './config.js';
import { apiErrorFor, MlflowAuthError, MlflowNotFoundError, redact } from './errors.js';
import { proxyRootOf } from './artifacts.js';

test('config from MLflow env var names; unset URI means "use the embedded server"', () => {
  expect(mlflowConfigFromEnv({})).toBeUndefined();
  const c = mlflowConfigFromEnv({ MLFLOW_TRACKING_URI: 'http://h:5000/', MLFLOW_TRACKING_TOKEN: 'tok', MLFLOW_HTTP_REQUEST_MAX_RETRIES: '2' })!;
  expect(c.trackingUri).toBe('http://h:5000');
  expect(c.token).toBe('tok');
  expect(c.retries.maxRetries).toBe(2);
  const b = mlflowConfigFromEnv({ MLFLOW_TRACKING_URI: 'http://h', MLFLOW_TRACKING_USERNAME: 'u', MLFLOW_TRACKING_PASSWORD: 'p' })!;
  expect([b.username, b.password, b.token]).toEqual(['u', 'p', undefined]);
  expect(() => mlflowConfigFromEnv({ MLFLOW_TRACKING_URI: 'http://h', MLFLOW_HTTP_REQUEST_MAX_RETRIES: 'many' })).toThrow(/MLFLOW_HTTP_REQUEST_MAX_RETRIES/);
});

test('credentials in the URL move to basic auth and leave the URI', () => {
  const c = parseMlflowConfig({ trackingUri: 'http://alice:s%40cret@host:5000' });
  expect(c.trackingUri).toBe('http://host:5000');
  expect(c.username).toBe('alice');
  expect(c.password).toBe('s@cret');
});

test('bad config names the key', () => {
  expect(() => parseMlflowConfig({ trackingUri: 'file:///tmp/mlruns' })).toThrow(/trackingUri/);
  expect(() => parseMlflowConfig({ trackingUri: 'http://h', token: 't', username: 'u' })).toThrow(/either/);
});

test('redaction removes user-info and authorization values', () => {
  expect(redact('GET http://bob:pw@h/x failed; Authorization: Bearer abc.def', ['pw'])).toBe('GET http://***@h/x failed; Authorization: Bearer ***');
});

test('errors are typed by error_code / status', () => {
  const base = { httpStatus: 404, endpoint: 'GET /x', serverMessage: 'm', server: 'http://h' };
  expect(apiErrorFor({ ...base, errorCode: 'RESOURCE_DOES_NOT_EXIST' }, 'none')).toBeInstanceOf(MlflowNotFoundError);
  const auth = apiErrorFor({ ...base, httpStatus: 401, errorCode: 'UNAUTHENTICATED' }, 'basic');
  expect(auth).toBeInstanceOf(MlflowAuthError);
  expect(auth.message).toMatch(/MLFLOW_TRACKING_USERNAME/);
});

test('artifact URIs map to proxy paths', () => {
  expect(proxyRootOf('mlflow-artifacts:/1/abc/artifacts')).toBe('1/abc/artifacts');
  expect(proxyRootOf('mlflow-artifacts://127.0.0.1:5000/1/abc/artifacts')).toBe('1/abc/artifacts');
  expect(proxyRootOf('http://h:1/api/2.0/mlflow-artifacts/artifacts/1/m/artifacts')).toBe('1/m/artifacts');
  expect(() => proxyRootOf('s3://bucket/x')).toThrow(/--serve-artifacts/);
});

test('TLS and S3 settings come from MLflow\'s and AWS\'s variable names', () => {
  const c = mlflowConfigFromEnv({
    MLFLOW_TRACKING_URI: 'https://h',
    MLFLOW_TRACKING_INSECURE_TLS: 'false',
    MLFLOW_TRACKING_SERVER_CERT_PATH: '/etc/ca.pem',
    MLFLOW_TRACKING_CLIENT_CERT_PATH: '/etc/client.pem',
    MLFLOW_S3_ENDPOINT_URL: 'http://minio:9000',
    AWS_ACCESS_KEY_ID: 'AKIA1',
    AWS_SECRET_ACCESS_KEY: 'sekret',
    AWS_DEFAULT_REGION: 'eu-west-1',
    AWS_PROFILE: 'ml',
  })!;
  expect(c.tls).toEqual({ insecure: false, caCertPath: '/etc/ca.pem', clientCertPath: '/etc/client.pem' });
  expect(c.s3).toEqual({ endpointUrl: 'http://minio:9000', region: 'eu-west-1', accessKeyId: 'AKIA1', secretAccessKey: 'sekret', profile: 'ml', ignoreTls: false });
  expect(mlflowConfigFromEnv({ MLFLOW_TRACKING_URI: 'http://h' })).not.toHaveProperty('s3');
  expect(() => mlflowConfigFromEnv({ MLFLOW_TRACKING_URI: 'http://h', MLFLOW_S3_IGNORE_TLS: 'maybe' })).toThrow(/MLFLOW_S3_IGNORE_TLS: expected true or false/);
  expect(() => parseMlflowConfig({ trackingUri: 'http://h', s3: { accessKeyId: 'AKIA1' } })).toThrow(/s3.*accessKeyId and secretAccessKey together/);
  expect(() => parseMlflowConfig({ trackingUri: 'http://h', token: 't', credentials: () => undefined })).toThrow(/credentials provider or username\/password\/token/);
  expect(parseMlflowConfig({ trackingUri: 'http://h' }).retries.statusCodes).toEqual([408, 429, 500, 502, 503, 504]);
});
