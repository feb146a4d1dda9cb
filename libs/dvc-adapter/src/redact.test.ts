import { isSecretName, redactArgs, redactText } from './redact.js';

test('URL credentials are replaced, the rest of the URL is kept', () => {
  const text = 'failed to connect to s3://AKIA:verysecret@bucket/path and https://tok3n@example.com/x';
  const out = redactText(text);
  expect(out).not.toContain('verysecret');
  expect(out).not.toContain('tok3n');
  expect(out).toContain('s3://***@bucket/path');
  expect(out).toContain('https://***@example.com/x');
});

test('secret key/value pairs and known secret values are replaced', () => {
  const out = redactText('secret_access_key = abc123XYZ\npassword: hunter22\nurl = /tmp/x\nsaw value s3cr3tvalue here', ['s3cr3tvalue']);
  expect(out).not.toMatch(/abc123XYZ|hunter22|s3cr3tvalue/);
  expect(out).toContain('url = /tmp/x');
});

test('remote modify values of secret options are redacted, others kept', () => {
  expect(redactArgs(['remote', 'modify', 'store', 'secret_access_key', 'TOPSECRET'])).toEqual(['remote', 'modify', 'store', 'secret_access_key', '***']);
  expect(redactArgs(['remote', 'modify', '--local', 'store', 'password', 'pw1234'])).toEqual(['remote', 'modify', '--local', 'store', 'password', '***']);
  expect(redactArgs(['remote', 'modify', 'store', 'endpointurl', 'http://127.0.0.1:9000'])).toEqual(['remote', 'modify', 'store', 'endpointurl', 'http://127.0.0.1:9000']);
  expect(isSecretName('access_key_id')).toBe(true);
  expect(isSecretName('AWS_SECRET_ACCESS_KEY')).toBe(true);
  expect(isSecretName('endpointurl')).toBe(false);
  expect(isSecretName('keyfile')).toBe(false);
});
