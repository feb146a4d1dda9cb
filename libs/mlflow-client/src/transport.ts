import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { Agent, interceptors, request, type Dispatcher, type RetryHandler } from 'undici';
import { z } from 'zod';
import { type CredentialsProvider, type MlflowConfig, redactedUri } from './config.js';
import { apiErrorFor, MlflowConnectionError, MlflowCredentialsError, MlflowResponseError, MlflowTlsError, MlflowValidationError, redact, truncate } from './errors.js';
import { toMlflowJson } from './json.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type QueryValue = string | number | boolean | undefined | readonly (string | number)[];

export interface RequestOptions {
  method: HttpMethod;
  /** Path below the tracking URI, starting with `/api/...`. */
  path: string;
  query?: Record<string, QueryValue>;
  /** Safe to send twice (reads, idempotent writes). Only such requests are retried on 429/5xx/connection loss. */
  idempotent: boolean;
  /** Override the configured number of retries (e.g. 0 for a buffered logger that keeps its own back-off). */
  maxRetries?: number;
  signal?: AbortSignal;
}

export interface JsonRequestOptions<S extends z.ZodType> extends RequestOptions {
  body?: unknown;
  schema: S;
}

export interface RawRequestOptions extends RequestOptions {
  /**
   * A buffer (resent as is on a retry), or a factory for a stream body. A stream is read once: a request with a
   * stream body is retried only when nothing of it was sent yet (connection refused).
   */
  body?: Buffer | string | (() => Readable);
  headers?: Record<string, string>;
}

export interface TransportEvents {
  /** Called before each retry with the reason (no credentials in it). */
  onRetry?: (info: { endpoint: string; attempt: number; delayMs: number; reason: string }) => void;
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
/** Errors after which the request surely never reached the server: safe to resend even when not idempotent. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'UND_ERR_CONNECT_TIMEOUT']);
/** OpenSSL / Node TLS failures: a configuration problem, never retried. */
const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_OSSL/;

function walkCodes(err: unknown, pick: (code: string, e: object) => boolean): { code: string; message: string } | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && pick(code, e)) return { code, message: e instanceof Error ? e.message : '' };
    const errors = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const inner = walkCodes(errors[0], pick);
      if (inner) return inner;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
const connectionCode = (err: unknown) => walkCodes(err, (c) => CONNECTION_CODES.has(c))?.code;
const tlsFailure = (err: unknown) => walkCodes(err, (c) => TLS_CODE.test(c));

const CredentialsSchema = z.union([
  z.object({ username: z.string().min(1), password: z.string() }).strict(),
  z.object({ token: z.string().min(1) }).strict(),
  z.undefined(),
  z.null(),
]);

interface Auth {
  header: string | undefined;
  kind: 'basic' | 'bearer' | 'none';
  secrets: string[];
}

function authOf(c: { username?: string | undefined; password?: string | undefined; token?: string | undefined } | null | undefined): Auth {
  if (c?.token) return { header: `Bearer ${c.token}`, kind: 'bearer', secrets: [c.token] };
  if (c?.username) {
    const b64 = Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64');
    return { header: `Basic ${b64}`, kind: 'basic', secrets: [c.password ?? '', b64].filter((s) => s !== '') };
  }
  return { header: undefined, kind: 'none', secrets: [] };
}

function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new MlflowValidationError(`MLflow config ${key} (${file})`, `cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** undici Agent `connect` options for the configured TLS (files read now, errors naming the file). */
export function tlsConnectOptions(tls: MlflowConfig['tls']): { rejectUnauthorized?: boolean; ca?: Buffer; cert?: Buffer; key?: Buffer } {
  if (!tls) return {};
  const out: { rejectUnauthorized?: boolean; ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  if (tls.insecure) out.rejectUnauthorized = false;
  if (tls.caCertPath) out.ca = readPem(tls.caCertPath, 'tls.caCertPath');
  if (tls.clientCertPath) {
    out.cert = readPem(tls.clientCertPath, 'tls.clientCertPath');
    // MLflow's MLFLOW_TRACKING_CLIENT_CERT_PATH may hold certificate and key in one PEM file.
    out.key = tls.clientKeyPath ? readPem(tls.clientKeyPath, 'tls.clientKeyPath') : out.cert;
  }
  return out;
}

/**
 * The HTTP layer: one undici Agent per client (TLS options from the config), undici's retry interceptor with this
 * client's policy (see {@link RetryConfigSchema}), the auth header from fixed credentials or a per-request provider,
 * protobuf-JSON encoding, zod-checked responses, typed errors with redacted messages.
 */
export class Transport {
  readonly baseUrl: string;
  readonly server: string;
  private readonly agent: Dispatcher;
  private readonly dispatcher: Dispatcher;
  private readonly ownsAgent: boolean;
  private readonly staticAuth: Auth;
  private readonly provider: CredentialsProvider | undefined;

  constructor(
    private readonly config: MlflowConfig,
    private readonly events: TransportEvents = {},
    dispatcher?: Dispatcher,
  ) {
    this.baseUrl = config.trackingUri.replace(/\/+$/, '');
    this.server = redactedUri(this.baseUrl);
    this.ownsAgent = !dispatcher;
    this.agent =
      dispatcher ??
      new Agent({
        connect: { timeout: config.timeouts.connectMs, ...tlsConnectOptions(config.tls) },
        headersTimeout: config.timeouts.requestMs,
        bodyTimeout: config.timeouts.requestMs,
        keepAliveTimeout: 4_000,
        connections: 16,
      });
    // The policy is decided per request (see retryPolicy); the interceptor does the resending.
    this.dispatcher = this.agent.compose(interceptors.retry({ throwOnError: false, maxRetries: config.retries.maxRetries }));
    this.staticAuth = authOf(config);
    this.provider = config.credentials;
  }

  /** JSON request, response validated with `schema`. */
  async json<S extends z.ZodType>(opts: JsonRequestOptions<S>): Promise<z.output<S>> {
    const body = opts.body === undefined ? undefined : toMlflowJson(opts.body);
    const { res, auth } = await this.send({
      ...opts,
      body,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
    });
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw new MlflowResponseError({ server: this.server, endpoint: `${opts.method} ${opts.path}`, problem: `not JSON: ${truncate(redact(text, auth.secrets), 200)}` });
    }
    const r = opts.schema.safeParse(parsed);
    if (!r.success) {
      const problem = r.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw new MlflowResponseError({ server: this.server, endpoint: `${opts.method} ${opts.path}`, problem });
    }
    return r.data;
  }

  /** A request whose 2xx body is returned as a stream (artifact download) or ignored (upload). */
  async raw(opts: RawRequestOptions): Promise<Dispatcher.ResponseData<unknown>> {
    return (await this.send(opts)).res;
  }

  async close(): Promise<void> {
    if (this.ownsAgent) await this.agent.close();
  }

  url(path: string, query?: Record<string, QueryValue>): string {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const item of v) qs.append(k, String(item));
      else qs.append(k, String(v));
    }
    const s = qs.toString();
    return `${this.baseUrl}${path}${s ? `?${s}` : ''}`;
  }

  /** The credentials for one request: the fixed ones, or a fresh answer of the provider. */
  private async auth(): Promise<Auth & { fromProvider: boolean }> {
    if (!this.provider) return { ...this.staticAuth, fromProvider: false };
    let got: unknown;
    try {
      got = await this.provider();
    } catch (e) {
      throw new MlflowCredentialsError(this.server, e);
    }
    const r = CredentialsSchema.safeParse(got);
    if (!r.success) {
      throw new MlflowValidationError('credentials provider result', 'expected { username, password }, { token } or undefined');
    }
    return { ...authOf(r.data), fromProvider: true };
  }

  private async send(opts: RawRequestOptions): Promise<{ res: Dispatcher.ResponseData<unknown>; auth: Auth }> {
    const endpoint = `${opts.method} ${opts.path}`;
    const url = this.url(opts.path, opts.query);
    const auth = await this.auth();
    const headers: Record<string, string> = { accept: 'application/json', ...(opts.headers ?? {}) };
    if (auth.header) headers['authorization'] = auth.header;
    const body = typeof opts.body === 'function' ? opts.body() : opts.body;
    const state = { attempts: 1 };
    const retryOptions = this.retryPolicy(opts, endpoint, auth.secrets, state);
    let res: Dispatcher.ResponseData<unknown>;
    try {
      res = await request(url, {
        method: opts.method,
        headers,
        body,
        dispatcher: this.dispatcher,
        signal: opts.signal,
        // Read by undici's retry interceptor (per-request options override the interceptor's).
        retryOptions,
      } as Parameters<typeof request>[1]);
    } catch (err) {
      if (body && typeof body === 'object' && 'destroy' in body) (body as Readable).destroy();
      if (opts.signal?.aborted) throw err;
      const tls = tlsFailure(err);
      if (tls) throw new MlflowTlsError({ server: this.server, endpoint, tlsCode: tls.code, reason: redact(tls.message, auth.secrets) }, err);
      const code = connectionCode(err);
      if (!code) throw err;
      const message = err instanceof Error ? err.message : '';
      const reason = `${code}${message && !message.includes(code) ? ` (${redact(message, auth.secrets)})` : ''}`;
      throw new MlflowConnectionError({ server: this.server, endpoint, attempts: state.attempts, reason }, err);
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return { res, auth };
    const text = await res.body.text().catch(() => '');
    throw this.toApiError(res.statusCode, text, endpoint, auth);
  }

  /**
   * The retry decision for undici's RetryHandler: which failures are resent (statuses from the config for idempotent
   * requests, lost connections for idempotent ones, refused connections for all), how long to wait (exponential
   * back-off with jitter, at least the server's Retry-After), and the `onRetry` event.
   */
  private retryPolicy(opts: RawRequestOptions, endpoint: string, secrets: string[], state: { attempts: number }): RetryHandler.RetryOptions {
    const { backoffMs, maxBackoffMs, statusCodes } = this.config.retries;
    const maxRetries = opts.maxRetries ?? this.config.retries.maxRetries;
    const retry: RetryHandler.RetryCallback = (err, { state: s }, cb) => {
      const attempt = s.counter; // attempts made so far, this failed one included
      state.attempts = attempt;
      const status = (err as { statusCode?: unknown }).statusCode;
      let retryable = false;
      let reason = '';
      let retryAfterMs: number | undefined;
      if (typeof status === 'number') {
        retryable = opts.idempotent && statusCodes.includes(status);
        reason = `HTTP ${status}`;
        const ra = (err as { headers?: Record<string, string | string[] | undefined> }).headers?.['retry-after'];
        const secs = Number(Array.isArray(ra) ? ra[0] : ra);
        if (Number.isFinite(secs) && secs > 0) retryAfterMs = secs * 1000;
      } else {
        const code = connectionCode(err);
        if (code && !tlsFailure(err)) {
          retryable = opts.idempotent || NOT_SENT_CODES.has(code);
          const message = err.message && !err.message.includes(code) ? ` (${redact(err.message, secrets)})` : '';
          reason = `${code}${message}`;
        }
      }
      if (!retryable || attempt > maxRetries || opts.signal?.aborted) {
        cb(err);
        return;
      }
      const base = Math.min(maxBackoffMs, backoffMs * 2 ** (attempt - 1));
      const delayMs = Math.round(Math.min(maxBackoffMs, Math.max(retryAfterMs ?? 0, base + Math.random() * base * 0.25)));
      this.events.onRetry?.({ endpoint, attempt, delayMs, reason });
      setTimeout(() => cb(null), delayMs);
    };
    return { retry, maxRetries, throwOnError: false };
  }

  private toApiError(status: number, text: string, endpoint: string, auth: Auth & { fromProvider: boolean }) {
    let errorCode = status === 404 ? 'ENDPOINT_NOT_FOUND' : status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'PERMISSION_DENIED' : 'UNPARSEABLE_HTTP_ERROR';
    let message = text;
    try {
      const j = JSON.parse(text) as { error_code?: unknown; message?: unknown };
      if (typeof j.error_code === 'string') errorCode = j.error_code;
      if (typeof j.message === 'string') message = j.message;
    } catch {
      message = text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
    }
    return apiErrorFor(
      { errorCode, httpStatus: status, endpoint, serverMessage: redact(message, auth.secrets), server: this.server },
      auth.kind,
      auth.fromProvider,
    );
  }
}
