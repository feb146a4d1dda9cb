/**
 * Artifact repositories, picked from the artifact URI's scheme as MLflow's `get_artifact_repository(uri)` does:
 * - `mlflow-artifacts:` (and `http(s)://…/api/2.0/mlflow-artifacts/artifacts/…`): through the tracking server's proxy;
 * - `s3://bucket/path`: straight to S3 (or an S3-compatible endpoint) with the AWS SDK, as from a server started
 *   with `--default-artifact-root s3://…` and `--no-serve-artifacts`;
 * - `file:///path` or a plain absolute path: a folder this machine can reach.
 * Paths given to a repository are relative to its root (`a/b.txt`); listings return paths relative to the root too.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { Agent as HttpsAgent } from 'node:https';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { joinArtifactPath, proxyRootOf } from './artifacts.js';
import type { MlflowConfig } from './config.js';
import { MlflowArtifactStoreError, MlflowError, MlflowNotFoundError, MlflowValidationError, redact } from './errors.js';
import * as rest from './rest.js';
import type { FileInfo } from './schemas.js';
import type { Transport } from './transport.js';

export interface ArtifactRepository {
  /** `mlflow-artifacts` (server proxy), `s3` or `local`. */
  readonly kind: 'mlflow-artifacts' | 's3' | 'local';
  /** The root as given (no credentials in any of the supported forms). */
  readonly rootUri: string;
  /** Store one local file at `path`. */
  uploadFile(localFile: string, path: string, contentType: string): Promise<void>;
  uploadBytes(content: Buffer, path: string, contentType: string): Promise<void>;
  /** The direct children of the directory `path` ('' = root), paths relative to the root; [] for a file or nothing. */
  list(path: string): Promise<FileInfo[]>;
  /** Write the file at `path` to `localFile` (through a temporary name: no half-written file is left). */
  downloadFile(path: string, localFile: string): Promise<void>;
  read(path: string): Promise<Buffer>;
}

/** Files up to this size are uploaded from memory, so a failed upload can be retried; larger ones are streamed. */
const BUFFERED_UPLOAD_MAX = 32 * 1024 * 1024;

async function writeAtomically(localFile: string, write: (tmp: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(localFile), { recursive: true });
  const tmp = `${localFile}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await write(tmp);
    await rename(tmp, localFile);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

const byPath = (a: FileInfo, b: FileInfo) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

// ------------------------------------------------------------------ proxied (mlflow-artifacts:)
export class ProxiedArtifactRepository implements ArtifactRepository {
  readonly kind = 'mlflow-artifacts' as const;
  private readonly root: string;
  constructor(
    readonly rootUri: string,
    private readonly transport: Transport,
  ) {
    this.root = proxyRootOf(rootUri);
  }
  private p(path: string): string {
    return joinArtifactPath(this.root, path);
  }
  async uploadFile(localFile: string, path: string, contentType: string): Promise<void> {
    const st = await stat(localFile);
    const body = st.size <= BUFFERED_UPLOAD_MAX ? await readFile(localFile) : () => createReadStream(localFile);
    await rest.uploadArtifact(this.transport, this.p(path), body, { contentType });
  }
  async uploadBytes(content: Buffer, path: string, contentType: string): Promise<void> {
    await rest.uploadArtifact(this.transport, this.p(path), content, { contentType });
  }
  async list(path: string): Promise<FileInfo[]> {
    const base = joinArtifactPath(path);
    const r = await rest.proxyListArtifacts(this.transport, this.p(base));
    const out = r.files.map((f) => ({ ...f, path: joinArtifactPath(base, f.path) }));
    // Listing a file path answers with the file itself: treat it as "not a directory".
    if (out.length === 1 && !out[0]!.is_dir && base && out[0]!.path === joinArtifactPath(base, base.split('/').pop())) return [];
    return out.sort(byPath);
  }
  async downloadFile(path: string, localFile: string): Promise<void> {
    await writeAtomically(localFile, async (tmp) => {
      const res = await rest.downloadArtifact(this.transport, this.p(path));
      await pipeline(res.body, createWriteStream(tmp));
    });
  }
  async read(path: string): Promise<Buffer> {
    const res = await rest.downloadArtifact(this.transport, this.p(path));
    return Buffer.from(await res.body.arrayBuffer());
  }
}

// ------------------------------------------------------------------ S3
/**
 * The AWS SDK, loaded on first use of an s3:// URI (it is large, and most runs never touch S3). Loaded through
 * `require`, which picks the SDK's CommonJS build exactly as Node's own `import` would (its `node` export
 * condition); bundler-style resolvers (vite, with the `module` condition) would pick its extensionless ES build.
 */
function s3Sdk(): typeof S3Sdk {
  return createRequire(import.meta.url)('@aws-sdk/client-s3') as typeof S3Sdk;
}

/** One S3 client per MLflow client, built from the config's `s3` section (endpoint, region, keys or profile). */
export function createS3Client(s3: MlflowConfig['s3']): S3Client {
  const cfg = s3 ?? { ignoreTls: false };
  return new (s3Sdk().S3Client)({
    region: cfg.region ?? 'us-east-1',
    ...(cfg.endpointUrl ? { endpoint: cfg.endpointUrl, forcePathStyle: true } : {}),
    ...(cfg.accessKeyId && cfg.secretAccessKey
      ? { credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey, ...(cfg.sessionToken ? { sessionToken: cfg.sessionToken } : {}) } }
      : {}),
    ...(cfg.profile ? { profile: cfg.profile } : {}),
    ...(cfg.ignoreTls ? { requestHandler: { httpsAgent: new HttpsAgent({ rejectUnauthorized: false }) } } : {}),
    // Checksums only where S3 requires them: S3-compatible stores (MinIO, Ceph, moto) vary in what they accept.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 4,
  });
}

export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(uri);
  if (!m || !m[1]) throw new MlflowValidationError(`artifact location ${JSON.stringify(uri)}`, 'is not an s3://bucket/path URI');
  return { bucket: m[1], prefix: m[2]!.replace(/\/+$/, '') };
}

export class S3ArtifactRepository implements ArtifactRepository {
  readonly kind = 's3' as const;
  private readonly bucket: string;
  private readonly prefix: string;
  constructor(
    readonly rootUri: string,
    private readonly client: () => S3Client,
    /** Secrets to remove from any message (the secret key, a session token). */
    private readonly secrets: readonly string[] = [],
  ) {
    ({ bucket: this.bucket, prefix: this.prefix } = parseS3Uri(rootUri));
  }
  private key(path: string): string {
    return joinArtifactPath(this.prefix, path);
  }
  private fail(operation: string, key: string, e: unknown): never {
    const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; Code?: string };
    const location = `s3://${this.bucket}/${key}`;
    const storeCode = err.Code ?? (err.name && err.name !== 'Error' ? err.name : undefined);
    const problem = redact(err.message || String(e), this.secrets);
    if (storeCode === 'NoSuchKey' || storeCode === 'NotFound' || (err.$metadata?.httpStatusCode === 404 && storeCode !== 'NoSuchBucket')) {
      throw new MlflowNotFoundError({ errorCode: 'RESOURCE_DOES_NOT_EXIST', httpStatus: 404, endpoint: `${operation} ${location}`, serverMessage: problem, server: 's3' });
    }
    throw new MlflowArtifactStoreError({ store: 's3', location, operation, storeCode, problem }, e);
  }
  async uploadFile(localFile: string, path: string, contentType: string): Promise<void> {
    const key = this.key(path);
    const st = await stat(localFile);
    const body = st.size <= BUFFERED_UPLOAD_MAX ? await readFile(localFile) : createReadStream(localFile);
    try {
      await this.client().send(new (s3Sdk().PutObjectCommand)({ Bucket: this.bucket, Key: key, Body: body, ContentLength: st.size, ContentType: contentType }));
    } catch (e) {
      this.fail('upload', key, e);
    }
  }
  async uploadBytes(content: Buffer, path: string, contentType: string): Promise<void> {
    const key = this.key(path);
    try {
      await this.client().send(new (s3Sdk().PutObjectCommand)({ Bucket: this.bucket, Key: key, Body: content, ContentType: contentType }));
    } catch (e) {
      this.fail('upload', key, e);
    }
  }
  async list(path: string): Promise<FileInfo[]> {
    const base = joinArtifactPath(path);
    const dirKey = this.key(base);
    const prefix = dirKey ? `${dirKey}/` : '';
    const out: FileInfo[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client().send(
          new (s3Sdk().ListObjectsV2Command)({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ...(token ? { ContinuationToken: token } : {}) }),
        );
      } catch (e) {
        this.fail('list', prefix, e);
      }
      for (const p of page.CommonPrefixes ?? []) {
        const name = (p.Prefix ?? '').slice(prefix.length).replace(/\/$/, '');
        if (name) out.push({ path: joinArtifactPath(base, name), is_dir: true, file_size: undefined });
      }
      for (const o of page.Contents ?? []) {
        const name = (o.Key ?? '').slice(prefix.length);
        if (name && !name.includes('/')) out.push({ path: joinArtifactPath(base, name), is_dir: false, file_size: o.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort(byPath);
  }
  private async get(path: string) {
    const key = this.key(path);
    try {
      const r = await this.client().send(new (s3Sdk().GetObjectCommand)({ Bucket: this.bucket, Key: key }));
      if (!r.Body) throw new MlflowError(`S3 returned no body for s3://${this.bucket}/${key}`);
      return r.Body;
    } catch (e) {
      if (e instanceof MlflowError) throw e;
      this.fail('download', key, e);
    }
  }
  async downloadFile(path: string, localFile: string): Promise<void> {
    const body = await this.get(path);
    await writeAtomically(localFile, (tmp) => pipeline(body as Readable, createWriteStream(tmp)));
  }
  async read(path: string): Promise<Buffer> {
    return Buffer.from(await (await this.get(path)).transformToByteArray());
  }
}

// ------------------------------------------------------------------ local folder
export class LocalArtifactRepository implements ArtifactRepository {
  readonly kind = 'local' as const;
  readonly root: string;
  constructor(readonly rootUri: string) {
    this.root = /^file:/i.test(rootUri) ? fileURLToPath(rootUri) : resolve(rootUri);
  }
  private file(path: string): string {
    const rel = joinArtifactPath(path);
    return rel ? join(this.root, ...rel.split('/')) : this.root;
  }
  private fail(operation: string, file: string, e: unknown): never {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new MlflowNotFoundError({ errorCode: 'RESOURCE_DOES_NOT_EXIST', httpStatus: 404, endpoint: `${operation} ${file}`, serverMessage: 'no such file', server: 'local' });
    }
    throw new MlflowArtifactStoreError({ store: 'local', location: file, operation, storeCode: code, problem: (e as Error).message }, e);
  }
  async uploadFile(localFile: string, path: string): Promise<void> {
    const dest = this.file(path);
    try {
      await writeAtomically(dest, (tmp) => copyFile(localFile, tmp));
    } catch (e) {
      this.fail('upload', dest, e);
    }
  }
  async uploadBytes(content: Buffer, path: string): Promise<void> {
    const dest = this.file(path);
    try {
      await writeAtomically(dest, (tmp) => writeFile(tmp, content));
    } catch (e) {
      this.fail('upload', dest, e);
    }
  }
  async list(path: string): Promise<FileInfo[]> {
    const base = joinArtifactPath(path);
    const dir = this.file(base);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      this.fail('list', dir, e);
    }
    const out: FileInfo[] = [];
    for (const e of entries) {
      if (e.name.includes('.tmp-')) continue; // an upload in progress
      if (e.isDirectory()) out.push({ path: joinArtifactPath(base, e.name), is_dir: true, file_size: undefined });
      else if (e.isFile()) out.push({ path: joinArtifactPath(base, e.name), is_dir: false, file_size: (await stat(join(dir, e.name))).size });
    }
    return out.sort(byPath);
  }
  async downloadFile(path: string, localFile: string): Promise<void> {
    const src = this.file(path);
    try {
      await writeAtomically(localFile, (tmp) => copyFile(src, tmp));
    } catch (e) {
      this.fail('download', src, e);
    }
  }
  async read(path: string): Promise<Buffer> {
    const src = this.file(path);
    try {
      return await readFile(src);
    } catch (e) {
      this.fail('download', src, e);
    }
  }
}

/**
 * The repository for an artifact URI, by scheme (see the module comment). Any other scheme (gs://, wasbs://, hdfs://,
 * dbfs:/ …) is refused with an error that names it and the way out (`--serve-artifacts` on the server).
 */
export function getArtifactRepository(uri: string, deps: { transport: Transport; s3Client: () => S3Client; s3Secrets?: readonly string[] }): ArtifactRepository {
  if (/^mlflow-artifacts:/i.test(uri)) return new ProxiedArtifactRepository(uri, deps.transport);
  if (/^https?:\/\//i.test(uri)) return new ProxiedArtifactRepository(uri, deps.transport);
  if (/^s3:\/\//i.test(uri)) return new S3ArtifactRepository(uri, deps.s3Client, deps.s3Secrets ?? []);
  if (/^file:/i.test(uri) || isAbsolute(uri) || /^[a-zA-Z]:[\\/]/.test(uri)) return new LocalArtifactRepository(uri);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1] ?? '(none)';
  throw new MlflowValidationError(
    `artifact location ${JSON.stringify(uri.replace(/\/\/[^/@]*@/, '//***@'))}`,
    `uses the scheme "${scheme}", which this client does not write to (supported: mlflow-artifacts, s3, file); start \`mlflow server\` with --serve-artifacts so artifacts go through the tracking server`,
  );
}
