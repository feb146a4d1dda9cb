/**
 * The ClearML REST transport: `POST {apiHost}/v{version}/{service}.{action}` with a JSON (or json-lines) body,
 * `auth.login` with HTTP Basic key:secret for a token that is refreshed before it expires, `Authorization: Bearer`,
 * the `{meta, data}` envelope parsed with zod, typed errors, retries with backoff on 429/502/503/504 and on lost
 * connections, and a one-time check that the server speaks the API version this client needs.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { resolveClearmlConfig, retryOptionsSchema, type ClearmlConfig, type ResolvedClearmlConfig, type RetryOptions } from './config.js';
import {
  ClearmlApiError,
  ClearmlAuthError,
  ClearmlResponseError,
  ClearmlUnreachableError,
  ClearmlValidationError,
  ClearmlVersionError,
  redact,
  truncate,
} from './errors.js';

/** The oldest API version this client works with (the SDK 2.1's `v2_23`); `server.info` must say at least this. */
export const CLEARML_MIN_API_VERSION = '2.23';

export const envelopeSchema = z.object({
  meta: z
    .object({
      id: z.string().optional(),
      trx: z.string().optional(),
      endpoint: z.object({ name: z.string().optional(), requested_version: z.unknown(), actual_version: z.unknown() }).partial().nullish(),
      result_code: z.number(),
      result_subcode: z.number().nullish(),
      result_msg: z.string().nullish(),
      error_stack: z.unknown().nullish(),
      error_data: z.record(z.string(), z.unknown()).nullish(),
    })
    .loose(),
  data: z.unknown(),
});
export type ClearmlEnvelope = z.output<typeof envelopeSchema>;

export interface CallOptions {
  /** Send `body` (an array) as `application/json-lines`, one JSON value per line (`events.add_batch`). */
  jsonLines?: boolean;
  /** Override the configured retries for this call (e.g. 0 for a logger that keeps its own backoff). */
  maxRetries?: number;
  signal?: AbortSignal;
  /** Per-call timeout (ms). */
  timeoutMs?: number;
}

export interface TransportEvents {
  /** Before each retry, with the reason (never credentials). */
  onRetry?: (info: { endpoint: string; attempt: number; delayMs: number; reason: string }) => void;
  /** After each successful `auth.login` (for logs and tests). */
  onLogin?: (info: { expiresAt: number | undefined }) => void;
  /** Before each request is sent (first attempt only): the endpoint, the API version in its path and the body (never credentials). */
  onRequest?: (info: { endpoint: string; apiVersion: string | undefined; body: unknown }) => void;
}

export interface TransportOptions extends TransportEvents {
  /** An undici dispatcher to use instead of the transport's own Agent (not closed by `close()`). */
  dispatcher?: Dispatcher;
  /** Ask `auth.login` for tokens of this lifetime (seconds); default: the server's (30 days on a stock server). */
  tokenExpirationSec?: number;
}

export interface ServerInfo {
  version: string | undefined;
  apiVersion: string;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** The first connection-level error code found in an error, its `cause`s or an AggregateError's `errors`. */
export function connectionCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 6 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return code;
    const errors = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const inner = connectionCode(errors[0]);
      if (inner) return inner;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const loginSchema = z.object({ token: z.string().min(1) }).loose();
const serverInfoSchema = z.object({ version: z.string().optional(), api_version: z.string() }).loose();

/** `exp` of a JWT (seconds since the epoch), or undefined. */
function jwtExpiry(token: string): number | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { exp?: unknown; iat?: unknown };
    return typeof payload.exp === 'number' ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}

/** `Retry-After` (seconds, or an HTTP date) in ms, or undefined. */
export function parseRetryAfter(h: string | string[] | undefined): number | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

interface Token {
  value: string;
  /** ms since the epoch, when known */
  expiresAt: number | undefined;
  /** ms since the epoch */
  obtainedAt: number;
}

/** One ClearML API server connection. Create one per server; `close()` when done. */
export class ClearmlTransport {
  readonly config: ResolvedClearmlConfig;
  /** The API server URL (for messages; no credentials). */
  readonly server: string;
  /** The version the server must speak at least: `config.apiVersion`, and never below {@link CLEARML_MIN_API_VERSION}. */
  readonly requiredApiVersion: string;
  /** The version in the request paths: `config.apiVersion` when pinned, else the newest the server speaks (known after the first call). */
  apiVersion: string | undefined;
  readonly retries: RetryOptions;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly events: TransportEvents;
  private readonly tokenExpirationSec: number | undefined;
  private token: Token | undefined;
  private loggingIn: Promise<Token> | undefined;
  private versionChecked: Promise<ServerInfo> | undefined;
  private closed = false;

  constructor(config: ClearmlConfig, opts: TransportOptions = {}) {
    this.config = resolveClearmlConfig(config);
    this.server = this.config.apiHost;
    const pinned = this.config.apiVersion;
    this.requiredApiVersion = pinned && compareVersions(pinned, CLEARML_MIN_API_VERSION) > 0 ? pinned : CLEARML_MIN_API_VERSION;
    this.apiVersion = pinned;
    this.retries = retryOptionsSchema.parse(this.config.retries ?? {});
    this.ownsDispatcher = !opts.dispatcher;
    this.dispatcher = opts.dispatcher ?? new Agent({ connections: 8, keepAliveTimeout: 10_000 });
    this.events = {
      ...(opts.onRetry ? { onRetry: opts.onRetry } : {}),
      ...(opts.onLogin ? { onLogin: opts.onLogin } : {}),
      ...(opts.onRequest ? { onRequest: opts.onRequest } : {}),
    };
    this.tokenExpirationSec = opts.tokenExpirationSec;
  }

  /**
   * Call `endpoint` (`service.action`) with `body` and parse the envelope's `data` with `schema`.
   * Throws {@link ClearmlApiError} (or {@link ClearmlAuthError}) for a rejected request, {@link ClearmlUnreachableError}
   * when the server cannot be reached after the retries, {@link ClearmlResponseError} when `data` does not match.
   */
  async call<S extends z.ZodType>(endpoint: string, body: unknown, schema: S, opts: CallOptions = {}): Promise<z.output<S>> {
    if (!/^[a-z_]+\.[a-z_0-9]+$/.test(endpoint)) throw new ClearmlValidationError('endpoint', `'${endpoint}' is not service.action`);
    await this.checkVersion();
    const data = await this.authedCall(endpoint, body, opts);
    return this.parseData(endpoint, data, schema);
  }

  /** The `Authorization` header value for the fileserver and other raw requests (logs in when needed). */
  async authorization(): Promise<string> {
    return `Bearer ${(await this.validToken()).value}`;
  }

  /** The undici dispatcher (for raw requests such as fileserver uploads sharing this connection pool). */
  get httpDispatcher(): Dispatcher {
    return this.dispatcher;
  }

  /** `server.info` (checked once per transport against the required API version). */
  serverInfo(): Promise<ServerInfo> {
    return this.checkVersion();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private checkVersion(): Promise<ServerInfo> {
    this.versionChecked ??= (async () => {
      const raw = await this.authedCall('server.info', {}, {});
      const info = this.parseData('server.info', raw, serverInfoSchema);
      if (compareVersions(info.api_version, this.requiredApiVersion) < 0) {
        throw new ClearmlVersionError({ server: this.server, serverApiVersion: info.api_version, requiredApiVersion: this.requiredApiVersion, serverVersion: info.version });
      }
      this.apiVersion ??= info.api_version;
      return { version: info.version, apiVersion: info.api_version };
    })();
    this.versionChecked.catch(() => {
      this.versionChecked = undefined; // try again on the next call (e.g. after an outage)
    });
    return this.versionChecked;
  }

  private parseData<S extends z.ZodType>(endpoint: string, data: unknown, schema: S): z.output<S> {
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      const problem = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`)
        .join('; ');
      throw new ClearmlResponseError({ server: this.server, endpoint, problem });
    }
    return parsed.data;
  }

  private async validToken(): Promise<Token> {
    const t = this.token;
    if (t && !this.expiresSoon(t)) return t;
    this.loggingIn ??= this.login().finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  /** Refresh when less than a quarter of the lifetime (at most one hour) is left. */
  private expiresSoon(t: Token): boolean {
    if (t.expiresAt === undefined) return false;
    const lifetime = t.expiresAt - t.obtainedAt;
    const margin = Math.min(3_600_000, Math.max(0, lifetime / 4));
    return Date.now() >= t.expiresAt - margin;
  }

  private async login(): Promise<Token> {
    const basic = Buffer.from(`${this.config.credentials.accessKey}:${this.config.credentials.secretKey}`).toString('base64');
    const body = this.tokenExpirationSec ? { expiration_sec: this.tokenExpirationSec } : {};
    const data = await this.send('auth.login', body, `Basic ${basic}`, {});
    const parsed = this.parseData('auth.login', data, loginSchema);
    const exp = jwtExpiry(parsed.token);
    const token: Token = { value: parsed.token, expiresAt: exp !== undefined ? exp * 1000 : undefined, obtainedAt: Date.now() };
    this.token = token;
    this.events.onLogin?.({ expiresAt: token.expiresAt });
    return token;
  }

  private async authedCall(endpoint: string, body: unknown, opts: CallOptions): Promise<unknown> {
    const token = await this.validToken();
    try {
      return await this.send(endpoint, body, `Bearer ${token.value}`, opts);
    } catch (e) {
      // An expired or revoked token (401/30, 401/31): log in again once and resend.
      if (e instanceof ClearmlAuthError && e.httpStatus === 401 && (e.resultSubcode === 30 || e.resultSubcode === 31 || e.resultSubcode === 20)) {
        if (this.token === token) this.token = undefined;
        const fresh = await this.validToken();
        return this.send(endpoint, body, `Bearer ${fresh.value}`, opts);
      }
      throw e;
    }
  }

  /** One request with retries; returns the envelope's `data` or throws. */
  private async send(endpoint: string, body: unknown, authorization: string, opts: CallOptions): Promise<unknown> {
    if (this.closed) throw new ClearmlValidationError('transport', `the transport to ${this.server} is closed`);
    let payload: string;
    let contentType: string;
    if (opts.jsonLines) {
      if (!Array.isArray(body)) throw new ClearmlValidationError('body', `${endpoint} with jsonLines takes an array`);
      payload = body.map((x) => JSON.stringify(x)).join('\n');
      contentType = 'application/json-lines';
    } else {
      payload = JSON.stringify(body ?? {});
      contentType = 'application/json';
    }
    // auth.login and server.info go unversioned, so an older server can still say which version it speaks.
    const versioned = endpoint !== 'auth.login' && endpoint !== 'server.info';
    const url = versioned ? `${this.server}/v${this.apiVersion ?? CLEARML_MIN_API_VERSION}/${endpoint}` : `${this.server}/${endpoint}`;
    this.events.onRequest?.({ endpoint, apiVersion: versioned ? (this.apiVersion ?? CLEARML_MIN_API_VERSION) : undefined, body });
    const maxRetries = opts.maxRetries ?? this.retries.maxRetries;
    const timeout = opts.timeoutMs ?? this.config.timeoutMs ?? 60_000;
    let lastReason = '';
    for (let attempt = 0; ; attempt++) {
      let retryReason: string | undefined;
      let retryAfterMs: number | undefined;
      let cause: unknown;
      try {
        const res = await request(url, {
          method: 'POST',
          dispatcher: this.dispatcher,
          headers: { 'content-type': contentType, authorization, accept: 'application/json', 'x-clearml-client': '@mlops-ts/clearml-client' },
          body: payload,
          headersTimeout: timeout,
          bodyTimeout: timeout,
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        const text = await res.body.text();
        if (this.retries.statuses.includes(res.statusCode)) {
          retryReason = `HTTP ${res.statusCode}${text ? `: ${truncate(redact(text.replace(/\s+/g, ' ')), 120)}` : ''}`;
          retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        } else {
          return this.unwrap(endpoint, res.statusCode, text);
        }
      } catch (e) {
        const code = connectionCode(e);
        if (!code || opts.signal?.aborted) throw e;
        retryReason = code;
        cause = e;
      }
      lastReason = retryReason;
      if (attempt >= maxRetries) {
        throw new ClearmlUnreachableError({ server: this.server, endpoint, attempts: attempt + 1, reason: lastReason }, cause);
      }
      const base = Math.min(this.retries.maxDelayMs, this.retries.initialDelayMs * 2 ** attempt);
      // a Retry-After from the server (429/503) is honoured, up to maxDelayMs
      const delayMs = Math.max(Math.round(base / 2 + Math.random() * (base / 2)), Math.min(retryAfterMs ?? 0, this.retries.maxDelayMs));
      this.events.onRetry?.({ endpoint, attempt: attempt + 1, delayMs, reason: lastReason });
      await sleep(delayMs, opts.signal);
    }
  }

  private unwrap(endpoint: string, httpStatus: number, text: string): unknown {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const env = envelopeSchema.safeParse(json);
    if (!env.success) {
      const fields = {
        endpoint,
        server: this.server,
        httpStatus,
        resultCode: httpStatus,
        resultSubcode: 0,
        serverMessage: text ? redact(text.replace(/\s+/g, ' ').slice(0, 300)) : '(empty body)',
      };
      if (httpStatus === 401 || httpStatus === 403) throw new ClearmlAuthError(fields);
      if (httpStatus >= 200 && httpStatus < 300) {
        throw new ClearmlResponseError({ server: this.server, endpoint, problem: `no {meta, data} envelope: ${fields.serverMessage}` });
      }
      throw new ClearmlApiError(fields);
    }
    const meta = env.data.meta;
    if (meta.result_code === 200 && httpStatus < 300) return env.data.data ?? {};
    const secrets = [this.config.credentials.secretKey];
    const fields = {
      endpoint,
      server: this.server,
      httpStatus,
      resultCode: meta.result_code,
      resultSubcode: meta.result_subcode ?? 0,
      serverMessage: redact(meta.result_msg ?? '', secrets),
      errorData: meta.error_data ?? undefined,
    };
    if (httpStatus === 401 || httpStatus === 403 || meta.result_code === 401 || meta.result_code === 403) throw new ClearmlAuthError(fields);
    throw new ClearmlApiError(fields);
  }
}
