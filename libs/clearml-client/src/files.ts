/**
 * The ClearML fileserver: uploads as the SDK's http storage driver does them (a multipart POST to the files host
 * whose form field name is the object's path), downloads with a GET; both with the API token (`Authorization:
 * Bearer`), attached only to URLs on the configured files host.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, openAsBlob } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FormData, request } from 'undici';
import mime from 'mime-types';
import { z } from 'zod';
import { ClearmlFilesError, ClearmlUnreachableError, truncate } from './errors.js';
import { connectionCode, type ClearmlTransport } from './transport.js';

export interface UploadResult {
  /** Where the object can be downloaded (`<files host>/<key, URL-quoted>`). */
  url: string;
  /** The object's path on the fileserver. */
  key: string;
  size: number;
  /** sha256 of the bytes (hex), as the SDK records artifact hashes. */
  sha256: string;
  contentType: string;
}

export interface UploadOptions {
  /** Default: from the key's extension (mime-types), else `application/octet-stream`. */
  contentType?: string;
  signal?: AbortSignal;
}

/** Quote each path segment the way the SDK's `quote_url` does (spaces → %20; `/` kept). */
export function quoteKey(key: string): string {
  return key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/%40/g, '@').replace(/%2B/g, '+').replace(/%3D/g, '=').replace(/%2C/g, ','))
    .join('/');
}

/** The fileserver of one ClearML server. */
export class ClearmlFiles {
  /** The files host URL, without a trailing slash. */
  readonly host: string;
  constructor(private readonly transport: ClearmlTransport) {
    this.host = transport.config.filesHost;
  }

  /** The download URL of an object key. */
  url(key: string): string {
    return `${this.host}/${quoteKey(key.replace(/^\/+/, ''))}`;
  }

  /** The object key of a URL on this fileserver, or undefined for any other URL. */
  keyOf(url: string): string | undefined {
    if (!url.startsWith(`${this.host}/`)) return undefined;
    return decodeURIComponent(url.slice(this.host.length + 1).split('?')[0]!);
  }

  /** Upload a local file or bytes under `key` (e.g. `project/task.<id>/artifacts/name/file.json`); returns the download URL. */
  async upload(source: string | Uint8Array, key: string, opts: UploadOptions = {}): Promise<string> {
    return (await this.put(source, key, opts)).url;
  }

  /** {@link upload} that also returns the key, size, sha256 and content type of what was stored. */
  async put(source: string | Uint8Array, key: string, opts: UploadOptions = {}): Promise<UploadResult> {
    const cleanKey = key.replace(/^\/+/, '');
    if (!cleanKey || cleanKey.split('/').some((s) => s === '..' || s === '')) {
      throw new ClearmlFilesError({ operation: 'upload', url: this.url(key), problem: `'${key}' is not a valid object key` });
    }
    const url = this.url(cleanKey);
    const contentType = opts.contentType ?? (mime.lookup(cleanKey) || 'application/octet-stream');
    let blob: Blob;
    let size: number;
    let sha256: string;
    if (typeof source === 'string') {
      try {
        size = (await stat(source)).size;
        sha256 = await sha256File(source);
        blob = await openAsBlob(source, { type: contentType });
      } catch (e) {
        throw new ClearmlFilesError({ operation: 'read', url: source, problem: (e as Error).message }, e);
      }
    } else {
      size = source.byteLength;
      sha256 = createHash('sha256').update(source).digest('hex');
      blob = new Blob([source], { type: contentType });
    }
    const form = new FormData();
    form.append(cleanKey, blob, basename(cleanKey));
    let res;
    try {
      res = await request(`${this.host}/`, {
        method: 'POST',
        body: form,
        headers: { authorization: await this.transport.authorization() },
        dispatcher: this.transport.httpDispatcher,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (e) {
      throw this.connectionError(e, 'upload');
    }
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new ClearmlFilesError({ operation: 'upload', url, httpStatus: res.statusCode, problem: text.replace(/\s+/g, ' ') || '(empty body)' });
    const stored = z.array(z.string()).safeParse(safeJson(text));
    if (!stored.success || !stored.data.includes(cleanKey)) {
      throw new ClearmlFilesError({ operation: 'upload', url, httpStatus: res.statusCode, problem: `the fileserver did not confirm the key: ${truncate(text, 200)}` });
    }
    return { url, key: cleanKey, size, sha256, contentType };
  }

  /** Download an object (a URL on this fileserver, or a key) into memory. */
  async download(urlOrKey: string, opts: { signal?: AbortSignal } = {}): Promise<Buffer> {
    const res = await this.get(urlOrKey, opts.signal);
    const chunks: Buffer[] = [];
    for await (const c of res.body) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** Download an object to a file (written to a temporary file beside it, then renamed). Returns size and sha256. */
  async downloadTo(urlOrKey: string, localPath: string, opts: { signal?: AbortSignal } = {}): Promise<{ size: number; sha256: string }> {
    const res = await this.get(urlOrKey, opts.signal);
    const tmp = join(dirname(localPath), `.${basename(localPath)}.${randomBytes(4).toString('hex')}.part`);
    const hash = createHash('sha256');
    let size = 0;
    try {
      await pipeline(
        res.body,
        async function* (src: AsyncIterable<Buffer>) {
          for await (const c of src) {
            hash.update(c);
            size += c.length;
            yield c;
          }
        },
        createWriteStream(tmp),
      );
      await rename(tmp, localPath);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e instanceof ClearmlFilesError ? e : new ClearmlFilesError({ operation: 'download', url: this.resolve(urlOrKey), problem: (e as Error).message }, e);
    }
    return { size, sha256: hash.digest('hex') };
  }

  /** A readable stream of an object. */
  async stream(urlOrKey: string, opts: { signal?: AbortSignal } = {}): Promise<Readable> {
    return (await this.get(urlOrKey, opts.signal)).body;
  }

  /** Delete an object. */
  async delete(urlOrKey: string): Promise<void> {
    const url = this.resolve(urlOrKey);
    let res;
    try {
      res = await request(url, { method: 'DELETE', headers: await this.headersFor(url), dispatcher: this.transport.httpDispatcher });
    } catch (e) {
      throw this.connectionError(e, 'delete');
    }
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new ClearmlFilesError({ operation: 'delete', url, httpStatus: res.statusCode, problem: text.replace(/\s+/g, ' ') || '(empty body)' });
  }

  private resolve(urlOrKey: string): string {
    return /^https?:\/\//i.test(urlOrKey) ? urlOrKey : this.url(urlOrKey);
  }

  /** The token goes only to the configured files host. */
  private async headersFor(url: string): Promise<Record<string, string>> {
    return url.startsWith(`${this.host}/`) ? { authorization: await this.transport.authorization() } : {};
  }

  private async get(urlOrKey: string, signal?: AbortSignal) {
    const url = this.resolve(urlOrKey);
    let res;
    try {
      res = await request(url, { method: 'GET', headers: await this.headersFor(url), dispatcher: this.transport.httpDispatcher, ...(signal ? { signal } : {}) });
    } catch (e) {
      throw this.connectionError(e, 'download', url);
    }
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => '');
      throw new ClearmlFilesError({ operation: 'download', url, httpStatus: res.statusCode, problem: text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim() || '(empty body)' });
    }
    return res;
  }

  private connectionError(e: unknown, operation: 'upload' | 'download' | 'delete', url = this.host): Error {
    const code = connectionCode(e);
    if (code) return new ClearmlUnreachableError({ server: this.host, endpoint: `fileserver ${operation}`, attempts: 1, reason: code }, e);
    return new ClearmlFilesError({ operation, url, problem: (e as Error).message }, e);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const c of createReadStream(path)) hash.update(c as Buffer);
  return hash.digest('hex');
}

