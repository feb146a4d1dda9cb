// A real S3-compatible server on loopback for integration tests: moto's server mode (see tools/s3/README.md)
// with IAM authentication on, so wrong credentials are refused the way S3 refuses them.
import { execa, type ResultPromise } from 'execa';
import { createInterface } from 'node:readline';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { z } from 'zod';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const INSTALL_SCRIPT = join(ROOT, 'tools/s3/install.sh');
const LAUNCHER = join(ROOT, 'tools/s3/moto_server.py');

export interface StartS3ServerOptions {
  /** Bucket to create before the server is handed out (default `dvc-test`). */
  bucket?: string;
  /** Give up when the server is not ready this long after the install step (default 60 s). */
  startTimeoutMs?: number;
  /** Progress lines of the install step and the server (never contain the secret). */
  onLog?: (line: string) => void;
}

export interface S3Server {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  region: string;
  bucket: string;
  /** Access key of an IAM user the server created for this run (S3 access only). */
  accessKeyId: string;
  secretAccessKey: string;
  /** How long the install check and the start took (ms). */
  timings: { installMs: number; startMs: number };
  /**
   * Lists the objects under `prefix` in `bucket` (default: the server's bucket) with the server's own key, through
   * boto3 in the server's venv: an independent view of what a client really stored.
   */
  listObjects(options?: { prefix?: string; bucket?: string }): Promise<S3Object[]>;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). Safe to call twice. */
  stop(): Promise<void>;
}

export interface S3Object {
  key: string;
  size: number;
}

/** Thrown when the server cannot be installed or does not become ready. */
export class S3ServerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'S3ServerError';
  }
}

const ReadyLineSchema = z.object({
  endpoint: z.string().regex(/^http:\/\/127\.0\.0\.1:\d+$/),
  port: z.number().int().positive(),
  bucket: z.string().min(1),
  region: z.string().min(1),
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
});

/** Installs the server when needed (tools/s3/install.sh; quick when already installed) and returns the venv's python. */
export async function installS3Server(options: { onLog?: (line: string) => void } = {}): Promise<string> {
  const child = execa('bash', [INSTALL_SCRIPT], { reject: false, stdin: 'ignore' });
  const stderrLines: string[] = [];
  // Lines as they come: the first install takes a minute.
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderrLines.push(line);
    options.onLog?.(line);
  });
  const result = await child;
  if (result.failed) {
    throw new S3ServerError(`tools/s3/install.sh failed (exit code ${result.exitCode ?? '?'}): ${stderrLines.slice(-5).join('\n')}`);
  }
  const python = String(result.stdout ?? '').trim().split('\n').at(-1) ?? '';
  if (!python.endsWith('/python')) throw new S3ServerError(`tools/s3/install.sh printed no interpreter path (got ${JSON.stringify(python)})`);
  return python;
}

/**
 * Starts the S3 server on a free 127.0.0.1 port, waits until it answers, with `bucket` created and an access key
 * issued. Always `stop()` it (afterAll); it also exits by itself when this process goes away.
 */
export async function startS3Server(options: StartS3ServerOptions = {}): Promise<S3Server> {
  const bucket = options.bucket ?? 'dvc-test';
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const t0 = performance.now();
  const python = await installS3Server(options.onLog ? { onLog: options.onLog } : {});
  const installMs = performance.now() - t0;

  const t1 = performance.now();
  const child = execa(python, [LAUNCHER, '--host', '127.0.0.1', '--port', '0', '--bucket', bucket], {
    reject: false,
    stdin: 'pipe', // the launcher exits when this pipe closes
    buffer: false,
    cleanup: true,
  });
  const stderrTail: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > 20) stderrTail.shift();
    options.onLog?.(line);
  });

  let ready: z.infer<typeof ReadyLineSchema>;
  try {
    ready = await readReadyLine(child, startTimeoutMs);
    await checkReachable(ready.endpoint);
  } catch (err) {
    await stopChild(child);
    const detail = stderrTail.slice(-8).join('\n');
    throw new S3ServerError(`the S3 test server did not start: ${(err as Error).message}${detail ? `\n${detail}` : ''}`, { cause: err });
  }
  const startMs = performance.now() - t1;

  let stopped: Promise<void> | undefined;
  return {
    ...ready,
    timings: { installMs, startMs },
    listObjects: (o = {}) => listObjects(python, ready, o.bucket ?? ready.bucket, o.prefix ?? ''),
    stop: () => (stopped ??= stopChild(child)),
  };
}

const LIST_SCRIPT = `
import json, os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name=os.environ["S3_REGION"],
                  aws_access_key_id=os.environ["S3_KEY_ID"], aws_secret_access_key=os.environ["S3_SECRET"])
out = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=os.environ["S3_BUCKET"], Prefix=os.environ["S3_PREFIX"]):
    out += [{"key": o["Key"], "size": o["Size"]} for o in page.get("Contents", [])]
print(json.dumps(out))
`;
const ObjectListSchema = z.array(z.object({ key: z.string(), size: z.number().int().nonnegative() }));

async function listObjects(python: string, server: z.infer<typeof ReadyLineSchema>, bucket: string, prefix: string): Promise<S3Object[]> {
  // Credentials travel in the environment of the child, never on its command line.
  const result = await execa(python, ['-c', LIST_SCRIPT], {
    reject: false,
    stdin: 'ignore',
    env: {
      S3_ENDPOINT: server.endpoint,
      S3_REGION: server.region,
      S3_KEY_ID: server.accessKeyId,
      S3_SECRET: server.secretAccessKey,
      S3_BUCKET: bucket,
      S3_PREFIX: prefix,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    },
  });
  if (result.failed) {
    const detail = String(result.stderr ?? '').split(server.secretAccessKey).join('***').trim().split('\n').slice(-3).join('\n');
    throw new S3ServerError(`listing s3://${bucket}/${prefix} on ${server.endpoint} failed: ${detail}`);
  }
  return ObjectListSchema.parse(JSON.parse(String(result.stdout)));
}

async function readReadyLine(child: ResultPromise, timeoutMs: number): Promise<z.infer<typeof ReadyLineSchema>> {
  const lines = createInterface({ input: child.stdout! });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise((resolvePromise, reject) => {
      timer = setTimeout(() => reject(new Error(`not ready after ${timeoutMs} ms`)), timeoutMs);
      void child.then((r) => reject(new Error(`the server process exited early (exit code ${r.exitCode ?? r.signal ?? '?'})`)));
      lines.once('line', (line) => {
        let doc: unknown;
        try {
          doc = JSON.parse(line);
        } catch {
          reject(new Error(`unexpected first line on stdout: ${line.slice(0, 200)}`));
          return;
        }
        const parsed = ReadyLineSchema.safeParse(doc);
        if (parsed.success) resolvePromise(parsed.data);
        else reject(new Error(`bad ready line: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`));
      });
    });
  } finally {
    clearTimeout(timer);
    lines.close();
  }
}

/** The server answers HTTP on its endpoint (the launcher has already checked the bucket with the new key). */
async function checkReachable(endpoint: string): Promise<void> {
  const response = await request(`${endpoint}/moto-api/`, { method: 'GET', headersTimeout: 10_000, bodyTimeout: 10_000 });
  await response.body.dump();
  if (response.statusCode !== 200) throw new Error(`${endpoint}/moto-api/ answered HTTP ${response.statusCode}, expected 200`);
}

async function stopChild(child: ResultPromise): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await child;
    clearTimeout(killer);
  }
  child.stdin?.destroy();
}
