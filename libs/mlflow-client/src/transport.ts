import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { type MlflowConfig, redactedUri } from './config.js';
import { apiErrorFor, MlflowConnectionError, MlflowResponseError, redact, truncate } from './errors.js';
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
  /** A buffer, or a factory (called once per attempt) for a stream body. */
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
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
/** Errors after which the request surely never reached the server: safe to resend even when not idempotent. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return code;
    const errors = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const inner = errorCode(errors[0]);
      if (inner) return inner;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The HTTP layer: one undici Agent per client, auth header, retries with exponential back-off and jitter,
 * protobuf-JSON encoding, zod-checked responses, typed errors with redacted messages.
 */
export class Transport {
  readonly baseUrl: string;
  readonly server: string;
  private readonly agent: Dispatcher;
  private readonly ownsAgent: boolean;
  private readonly authHeader: string | undefined;
  private readonly authKind: 'basic' | 'bearer' | 'none';
  private readonly secrets: string[];

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
        connect: { timeout: config.timeouts.connectMs },
        headersTimeout: config.timeouts.requestMs,
        bodyTimeout: config.timeouts.requestMs,
        keepAliveTimeout: 4_000,
        connections: 16,
      });
    if (config.token) {
      this.authHeader = `Bearer ${config.token}`;
      this.authKind = 'bearer';
    } else if (config.username) {
      this.authHeader = `Basic ${Buffer.from(`${config.username}:${config.password ?? ''}`).toString('base64')}`;
      this.authKind = 'basic';
    } else {
      this.authKind = 'none';
    }
    this.secrets = [config.password, config.token, this.authHeader?.split(' ')[1]].filter((s): s is string => !!s);
  }

  /** JSON request, response validated with `schema`. */
  async json<S extends z.ZodType>(opts: JsonRequestOptions<S>): Promise<z.output<S>> {
    const body = opts.body === undefined ? undefined : toMlflowJson(opts.body);
    const res = await this.send({
      ...opts,
      body,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
    });
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw new MlflowResponseError({ server: this.server, endpoint: `${opts.method} ${opts.path}`, problem: `not JSON: ${truncate(redact(text, this.secrets), 200)}` });
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
  async raw(opts: RawRequestOptions): Promise<Dispatcher.ResponseData> {
    return this.send(opts);
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

  private async send(opts: RawRequestOptions): Promise<Dispatcher.ResponseData> {
    const endpoint = `${opts.method} ${opts.path}`;
    const maxRetries = opts.maxRetries ?? this.config.retries.maxRetries;
    const url = this.url(opts.path, opts.query);
    const headers: Record<string, string> = { accept: 'application/json', ...(opts.headers ?? {}) };
    if (this.authHeader) headers['authorization'] = this.authHeader;
    for (let attempt = 1; ; attempt++) {
      const body = typeof opts.body === 'function' ? opts.body() : opts.body;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, { method: opts.method, headers, body, dispatcher: this.agent, signal: opts.signal });
      } catch (err) {
        if (body && typeof body === 'object' && 'destroy' in body) (body as Readable).destroy();
        const code = errorCode(err);
        if (!code || opts.signal?.aborted) throw err;
        const reason = `${code}${err instanceof Error && err.message && !err.message.includes(code) ? ` (${redact(err.message, this.secrets)})` : ''}`;
        const retryable = opts.idempotent || NOT_SENT_CODES.has(code);
        if (retryable && attempt <= maxRetries) {
          await this.backoff(endpoint, attempt, reason, undefined, opts.signal);
          continue;
        }
        throw new MlflowConnectionError({ server: this.server, endpoint, attempts: attempt, reason }, err);
      }
      if (res.statusCode >= 200 && res.statusCode < 300) return res;
      const text = await res.body.text().catch(() => '');
      const retryableStatus = res.statusCode === 429 || res.statusCode >= 500;
      if (retryableStatus && opts.idempotent && attempt <= maxRetries) {
        const ra = Number(res.headers['retry-after']);
        await this.backoff(endpoint, attempt, `HTTP ${res.statusCode}`, Number.isFinite(ra) ? ra * 1000 : undefined, opts.signal);
        continue;
      }
      throw this.toApiError(res.statusCode, text, endpoint);
    }
  }

  private toApiError(status: number, text: string, endpoint: string) {
    let errorCode = status === 404 ? 'ENDPOINT_NOT_FOUND' : status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'PERMISSION_DENIED' : 'UNPARSEABLE_HTTP_ERROR';
    let message = text;
    try {
      const j = JSON.parse(text) as { error_code?: unknown; message?: unknown };
      if (typeof j.error_code === 'string') errorCode = j.error_code;
      if (typeof j.message === 'string') message = j.message;
    } catch {
      message = text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    }
    return apiErrorFor({ errorCode, httpStatus: status, endpoint, serverMessage: redact(message, this.secrets), server: this.server }, this.authKind);
  }

  private async backoff(endpoint: string, attempt: number, reason: string, retryAfterMs: number | undefined, signal?: AbortSignal) {
    const { backoffMs, maxBackoffMs } = this.config.retries;
    const base = Math.min(maxBackoffMs, backoffMs * 2 ** (attempt - 1));
    const delayMs = Math.round(Math.min(maxBackoffMs, Math.max(retryAfterMs ?? 0, base + Math.random() * base * 0.25)));
    this.events.onRetry?.({ endpoint, attempt, delayMs, reason });
    await sleep(delayMs, undefined, signal ? { signal } : undefined);
  }
}
