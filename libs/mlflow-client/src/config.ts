import { z } from 'zod';
import { MlflowValidationError } from './errors.js';

/** HTTP statuses MLflow's Python client treats as transient (mlflow/utils/request_utils.py). */
export const DEFAULT_RETRY_STATUS_CODES: readonly number[] = [408, 429, 500, 502, 503, 504];

/**
 * Retry policy of the HTTP layer (carried out by undici's retry interceptor): requests that are safe to repeat are
 * resent on the statuses below and on lost connections; any request is resent when the connection was refused
 * (it never reached the server). Back-off: `backoffMs` doubled per attempt plus up to 25 % jitter, at most
 * `maxBackoffMs`, and never shorter than the server's `Retry-After`.
 */
export const RetryConfigSchema = z
  .object({
    /** Extra attempts after the first, for requests that are safe to repeat. */
    maxRetries: z.number().int().min(0).max(20).default(5),
    /** First back-off; doubled per attempt (0.5 s, 1 s, 2 s, …) plus up to 25 % jitter. */
    backoffMs: z.number().int().min(0).default(500),
    maxBackoffMs: z.number().int().min(0).default(30_000),
    /** Statuses that are retried (default 408, 429, 500, 502, 503, 504 as in MLflow's Python client). */
    statusCodes: z.array(z.number().int().min(400).max(599)).default([...DEFAULT_RETRY_STATUS_CODES]),
  })
  .strict();

export const TimeoutConfigSchema = z
  .object({
    connectMs: z.number().int().positive().default(10_000),
    /** Time to the response headers, and the longest pause while reading a body. */
    requestMs: z.number().int().positive().default(120_000),
  })
  .strict();

/**
 * TLS towards the tracking server (MLflow's MLFLOW_TRACKING_INSECURE_TLS, MLFLOW_TRACKING_SERVER_CERT_PATH,
 * MLFLOW_TRACKING_CLIENT_CERT_PATH). The files are read when the client is built.
 */
export const TlsConfigSchema = z
  .object({
    /** Skip verification of the server certificate (MLFLOW_TRACKING_INSECURE_TLS=true). Not for production. */
    insecure: z.boolean().default(false),
    /** PEM CA bundle that verifies the server certificate (MLFLOW_TRACKING_SERVER_CERT_PATH). */
    caCertPath: z.string().min(1).optional(),
    /** PEM client certificate for mutual TLS; may hold the private key too (MLFLOW_TRACKING_CLIENT_CERT_PATH). */
    clientCertPath: z.string().min(1).optional(),
    /** PEM private key when it is not inside `clientCertPath`. */
    clientKeyPath: z.string().min(1).optional(),
  })
  .strict()
  .refine((t) => !(t.insecure && t.caCertPath), {
    message: 'insecure (MLFLOW_TRACKING_INSECURE_TLS) and caCertPath (MLFLOW_TRACKING_SERVER_CERT_PATH) contradict each other: set one',
  })
  .refine((t) => !t.clientKeyPath || t.clientCertPath, { message: 'clientKeyPath given without clientCertPath' });

/**
 * The S3 artifact store (artifact URIs `s3://bucket/path`, as from `mlflow server --default-artifact-root s3://…`
 * `--no-serve-artifacts`). Unset keys fall back to the AWS SDK's default chain (profile files, SSO, instance roles).
 */
export const S3ConfigSchema = z
  .object({
    /** S3-compatible endpoint, e.g. MinIO (MLFLOW_S3_ENDPOINT_URL). Path-style addressing is used with it. */
    endpointUrl: z.string().url().optional(),
    /** AWS_REGION / AWS_DEFAULT_REGION; default us-east-1. */
    region: z.string().min(1).optional(),
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
    sessionToken: z.string().min(1).optional(),
    /** Named profile of ~/.aws/config (AWS_PROFILE). */
    profile: z.string().min(1).optional(),
    /** Skip TLS verification of the S3 endpoint (MLFLOW_S3_IGNORE_TLS). */
    ignoreTls: z.boolean().default(false),
  })
  .strict()
  .refine((s) => !s.accessKeyId === !s.secretAccessKey, { message: 'give accessKeyId and secretAccessKey together' });

/** What a credentials provider returns: basic auth, a bearer token, or nothing (anonymous). */
export type MlflowCredentials = { username: string; password: string } | { token: string } | undefined;
/**
 * Called before every request (as MLflow's `get_host_creds` is), so tokens that expire can be refreshed. It should
 * cache: it runs once per request, retries of that request reuse its answer.
 */
export type CredentialsProvider = () => MlflowCredentials | Promise<MlflowCredentials>;

/**
 * Everything the client needs. Apps build it (e.g. with {@link mlflowConfigFromEnv}) and pass it in; the library
 * never reads the environment itself.
 */
export const MlflowConfigSchema = z
  .object({
    trackingUri: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//i.test(u), 'the tracking URI must be http:// or https:// (a tracking server)'),
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    token: z.string().min(1).optional(),
    /** Per-request credentials (instead of username/password/token). */
    credentials: z.custom<CredentialsProvider>((v) => typeof v === 'function', 'must be a function returning credentials').optional(),
    retries: RetryConfigSchema.default({ maxRetries: 5, backoffMs: 500, maxBackoffMs: 30_000, statusCodes: [...DEFAULT_RETRY_STATUS_CODES] }),
    timeouts: TimeoutConfigSchema.default({ connectMs: 10_000, requestMs: 120_000 }),
    tls: TlsConfigSchema.optional(),
    s3: S3ConfigSchema.optional(),
  })
  .strict()
  .refine((c) => !(c.token && c.username), { message: 'give either username/password or token, not both' })
  .refine((c) => !(c.credentials && (c.token || c.username)), { message: 'give either a credentials provider or username/password/token, not both' })
  .refine((c) => c.password === undefined || c.username !== undefined, { message: 'password given without username' });

export type MlflowConfigInput = z.input<typeof MlflowConfigSchema>;
export type MlflowConfig = z.output<typeof MlflowConfigSchema>;

/** Parse a config; a bad one throws an {@link MlflowValidationError} naming the key (never echoing secrets). */
export function parseMlflowConfig(input: MlflowConfigInput): MlflowConfig {
  const r = MlflowConfigSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const key = issue.path.join('.') || 'config';
    throw new MlflowValidationError(`MLflow config ${key}`, issue.message);
  }
  const cfg = r.data;
  // Credentials embedded in the URL (http://user:pass@host) become basic auth and leave the URL.
  const url = new URL(cfg.trackingUri);
  if (url.username || url.password) {
    const username = cfg.username ?? decodeURIComponent(url.username);
    const password = cfg.password ?? decodeURIComponent(url.password);
    url.username = '';
    url.password = '';
    return { ...cfg, trackingUri: stripSlash(url.toString()), username, password };
  }
  return { ...cfg, trackingUri: stripSlash(cfg.trackingUri) };
}

function stripSlash(u: string): string {
  return u.replace(/\/+$/, '');
}

/**
 * Build a config from MLflow's own environment variable names. The app passes `process.env` in:
 * MLFLOW_TRACKING_URI, MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD, MLFLOW_TRACKING_TOKEN,
 * MLFLOW_HTTP_REQUEST_MAX_RETRIES, MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR (seconds), MLFLOW_HTTP_REQUEST_TIMEOUT (seconds),
 * MLFLOW_TRACKING_INSECURE_TLS, MLFLOW_TRACKING_SERVER_CERT_PATH, MLFLOW_TRACKING_CLIENT_CERT_PATH, and for an S3
 * artifact store MLFLOW_S3_ENDPOINT_URL, MLFLOW_S3_IGNORE_TLS, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN, AWS_REGION (or AWS_DEFAULT_REGION), AWS_PROFILE.
 * Returns `undefined` when MLFLOW_TRACKING_URI is unset or empty (the app then starts the embedded local server).
 */
export function mlflowConfigFromEnv(
  env: Record<string, string | undefined>,
  overrides: Partial<MlflowConfigInput> = {},
): MlflowConfig | undefined {
  const uri = overrides.trackingUri ?? env['MLFLOW_TRACKING_URI'];
  if (!uri) return undefined;
  const num = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new MlflowValidationError(name, `expected a non-negative number, got ${JSON.stringify(v)}`);
    return n;
  };
  const flag = (name: string): boolean | undefined => {
    const v = env[name]?.trim().toLowerCase();
    if (v === undefined || v === '') return undefined;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new MlflowValidationError(name, `expected true or false, got ${JSON.stringify(env[name])}`);
  };
  const str = (name: string): string | undefined => (env[name] ? env[name] : undefined);
  const maxRetries = num('MLFLOW_HTTP_REQUEST_MAX_RETRIES');
  const backoff = num('MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR');
  const timeout = num('MLFLOW_HTTP_REQUEST_TIMEOUT');
  const insecure = flag('MLFLOW_TRACKING_INSECURE_TLS');
  const tls = {
    ...(insecure !== undefined ? { insecure } : {}),
    ...(str('MLFLOW_TRACKING_SERVER_CERT_PATH') ? { caCertPath: str('MLFLOW_TRACKING_SERVER_CERT_PATH')! } : {}),
    ...(str('MLFLOW_TRACKING_CLIENT_CERT_PATH') ? { clientCertPath: str('MLFLOW_TRACKING_CLIENT_CERT_PATH')! } : {}),
  };
  if (tls.insecure && tls.caCertPath) {
    throw new MlflowValidationError(
      'MLFLOW_TRACKING_INSECURE_TLS',
      "is true while MLFLOW_TRACKING_SERVER_CERT_PATH is set: they contradict each other (MLflow refuses the same); unset one",
    );
  }
  const ignoreS3Tls = flag('MLFLOW_S3_IGNORE_TLS');
  const s3 = {
    ...(str('MLFLOW_S3_ENDPOINT_URL') ? { endpointUrl: str('MLFLOW_S3_ENDPOINT_URL')! } : {}),
    ...(str('AWS_REGION') || str('AWS_DEFAULT_REGION') ? { region: (str('AWS_REGION') ?? str('AWS_DEFAULT_REGION'))! } : {}),
    ...(str('AWS_ACCESS_KEY_ID') && str('AWS_SECRET_ACCESS_KEY')
      ? {
          accessKeyId: str('AWS_ACCESS_KEY_ID')!,
          secretAccessKey: str('AWS_SECRET_ACCESS_KEY')!,
          ...(str('AWS_SESSION_TOKEN') ? { sessionToken: str('AWS_SESSION_TOKEN')! } : {}),
        }
      : {}),
    ...(str('AWS_PROFILE') ? { profile: str('AWS_PROFILE')! } : {}),
    ...(ignoreS3Tls !== undefined ? { ignoreTls: ignoreS3Tls } : {}),
  };
  const input: MlflowConfigInput = {
    trackingUri: uri,
    ...(env['MLFLOW_TRACKING_USERNAME'] ? { username: env['MLFLOW_TRACKING_USERNAME'] } : {}),
    ...(env['MLFLOW_TRACKING_PASSWORD'] !== undefined && env['MLFLOW_TRACKING_USERNAME'] ? { password: env['MLFLOW_TRACKING_PASSWORD'] } : {}),
    ...(env['MLFLOW_TRACKING_TOKEN'] && !env['MLFLOW_TRACKING_USERNAME'] ? { token: env['MLFLOW_TRACKING_TOKEN'] } : {}),
    retries: {
      maxRetries: maxRetries ?? 5,
      backoffMs: backoff !== undefined ? Math.round(backoff * 1000) : 500,
      maxBackoffMs: 30_000,
    },
    timeouts: { connectMs: 10_000, requestMs: timeout !== undefined ? Math.round(timeout * 1000) : 120_000 },
    ...(Object.keys(tls).length ? { tls } : {}),
    ...(Object.keys(s3).length ? { s3 } : {}),
    ...overrides,
  };
  return parseMlflowConfig(input);
}

/** The tracking URI with any user-info removed: safe for logs and messages. */
export function redactedUri(uri: string): string {
  try {
    const u = new URL(uri);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString().replace(/\/+$/, '');
  } catch {
    return '<invalid tracking URI>';
  }
}
