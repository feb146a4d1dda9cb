import { z } from 'zod';
import { MlflowValidationError } from './errors.js';

export const RetryConfigSchema = z
  .object({
    /** Extra attempts after the first, for requests that are safe to repeat. */
    maxRetries: z.number().int().min(0).max(20).default(5),
    /** First back-off; doubled per attempt (0.5 s, 1 s, 2 s, …) plus up to 25 % jitter. */
    backoffMs: z.number().int().min(0).default(500),
    maxBackoffMs: z.number().int().min(0).default(30_000),
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
    retries: RetryConfigSchema.default({ maxRetries: 5, backoffMs: 500, maxBackoffMs: 30_000 }),
    timeouts: TimeoutConfigSchema.default({ connectMs: 10_000, requestMs: 120_000 }),
  })
  .strict()
  .refine((c) => !(c.token && c.username), { message: 'give either username/password or token, not both' })
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
 * MLFLOW_HTTP_REQUEST_MAX_RETRIES, MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR (seconds), MLFLOW_HTTP_REQUEST_TIMEOUT (seconds).
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
  const maxRetries = num('MLFLOW_HTTP_REQUEST_MAX_RETRIES');
  const backoff = num('MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR');
  const timeout = num('MLFLOW_HTTP_REQUEST_TIMEOUT');
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
