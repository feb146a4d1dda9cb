/**
 * Start a real `mlflow server` on loopback: SQLite backend store and proxied artifacts in `dir`, a free port, health
 * wait, clean stop of the whole process group. Used as the pipeline's embedded default and by the tests.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { request } from 'undici';
import { type MlflowConfig, parseMlflowConfig } from './config.js';
import { MlflowServerError } from './errors.js';

export interface LocalServerOptions {
  /** Folder for mlflow.db, artifacts/ and server.log (created). */
  dir: string;
  host?: string;
  /** Fixed port (e.g. to restart on the same URI); default a free one chosen by the OS. */
  port?: number;
  /** Path of the `mlflow` executable; default `.venv/bin/mlflow` found walking up from `cwd`, then `mlflow` on PATH. */
  mlflowBin?: string;
  cwd?: string;
  /** uvicorn workers (default 1: two-core machines, quick start). */
  workers?: number;
  startTimeoutMs?: number;
  /** Run MLflow's `basic-auth` app with this admin user (needs Flask-WTF, `mlflow[auth]`). */
  basicAuth?: { adminUsername: string; adminPassword: string };
  /** Extra environment for the server process. */
  env?: Record<string, string>;
  /** Progress lines (starting, ready) — never credentials. */
  log?: (line: string) => void;
}

export interface LocalMlflowServer {
  /** http://host:port */
  uri: string;
  port: number;
  pid: number;
  dir: string;
  /** The server's log file. */
  logFile: string;
  /** Stop the server and every process it started; resolves when they are gone. */
  stop(opts?: { signal?: NodeJS.Signals; timeoutMs?: number }): Promise<void>;
  /** Settles when the server process ends, for whatever reason (absent for a reused server). */
  exited?: Promise<{ exitCode: number | undefined; signal: string | undefined }>;
}

/** Ask the OS for a free loopback port. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** `.venv/bin/mlflow` in `from` or an ancestor, else `mlflow` (resolved through PATH when run). */
export function findMlflowBin(from: string = process.cwd()): string {
  let d = resolve(from);
  for (;;) {
    const cand = join(d, '.venv', 'bin', 'mlflow');
    if (existsSync(cand)) return cand;
    const up = dirname(d);
    if (up === d) return 'mlflow';
    d = up;
  }
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n').trim();
  } catch {
    return '';
  }
}

async function healthy(uri: string): Promise<boolean> {
  try {
    const res = await request(`${uri}/health`, { method: 'GET', headersTimeout: 2000, bodyTimeout: 2000 });
    const text = await res.body.text();
    return res.statusCode === 200 && text.trim() === 'OK';
  } catch {
    return false;
  }
}

/** Whether something accepts connections on host:port (a listen attempt that fails with EADDRINUSE). */
async function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', (e: NodeJS.ErrnoException) => res(e.code === 'EADDRINUSE' || e.code === 'EACCES'));
    srv.listen(port, host, () => srv.close(() => res(false)));
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const infoFile = (dir: string, port?: number) => join(resolve(dir), port === undefined ? 'server.json' : `server-${port}.json`);

async function readInfo(file: string): Promise<{ uri: string; port: number; pid: number } | undefined> {
  let info: { uri?: unknown; port?: unknown; pid?: unknown };
  try {
    info = JSON.parse(await readFile(file, 'utf8')) as typeof info;
  } catch {
    return undefined;
  }
  if (typeof info.uri !== 'string' || typeof info.port !== 'number' || typeof info.pid !== 'number') return undefined;
  if (!pidAlive(info.pid) || !(await healthy(info.uri))) return undefined;
  return { uri: info.uri, port: info.port, pid: info.pid };
}

/**
 * A server of this folder that is already running: its `server-<port>.json` (or, without a port, `server.json` — the
 * latest started — then any `server-<port>.json`) names it, its process is alive and it answers `/health`.
 * Undefined otherwise (stale files are ignored).
 */
export async function findRunningLocalServer(dir: string, port?: number): Promise<{ uri: string; port: number; pid: number } | undefined> {
  if (port !== undefined) return readInfo(infoFile(dir, port));
  const latest = await readInfo(infoFile(dir));
  if (latest) return latest;
  const names = await readdir(resolve(dir)).catch(() => [] as string[]);
  for (const n of names.filter((x) => /^server-\d+\.json$/.test(x)).sort()) {
    const found = await readInfo(join(resolve(dir), n));
    if (found) return found;
  }
  return undefined;
}

/**
 * A server for `dir`: the one already running for that folder (reused: `reused` is true and `stop()` leaves it
 * running), else a new one. A fixed `port` held by another process fails with one line naming the port.
 */
export async function ensureLocalMlflowServer(opts: LocalServerOptions): Promise<LocalMlflowServer & { reused: boolean }> {
  const running = await findRunningLocalServer(opts.dir, opts.port);
  if (running) {
    opts.log?.(`reusing the mlflow server of ${resolve(opts.dir)} at ${running.uri} (pid ${running.pid})`);
    return { ...running, dir: resolve(opts.dir), logFile: join(resolve(opts.dir), 'server.log'), reused: true, stop: async () => undefined };
  }
  return { ...(await startLocalMlflowServer(opts)), reused: false };
}

export async function startLocalMlflowServer(opts: LocalServerOptions): Promise<LocalMlflowServer> {
  const host = opts.host ?? '127.0.0.1';
  if (opts.port !== undefined && (await portInUse(host, opts.port))) {
    const running = await findRunningLocalServer(opts.dir, opts.port);
    const whose = running ? `the mlflow server of ${resolve(opts.dir)} (pid ${running.pid}) already serves it` : 'another process holds it';
    throw new MlflowServerError(`port ${opts.port} on ${host} is in use: ${whose}`, '');
  }
  try {
    return await startOnce(opts);
  } catch (e) {
    // The free port we were given can be taken by someone else before the server binds it: try once more.
    if (opts.port === undefined && e instanceof MlflowServerError && /address already in use/i.test(e.logTail)) return startOnce(opts);
    throw e;
  }
}

async function startOnce(opts: LocalServerOptions): Promise<LocalMlflowServer> {
  const dir = resolve(opts.dir);
  const host = opts.host ?? '127.0.0.1';
  await mkdir(join(dir, 'artifacts'), { recursive: true });
  const bin = opts.mlflowBin ?? findMlflowBin(opts.cwd);
  const logFile = join(dir, 'server.log');
  const port = opts.port ?? (await freePort(host));
  const uri = `http://${host}:${port}`;
  const env: Record<string, string> = {
    // The job runner (huey consumers) is for GenAI jobs; it doubles start time and leaves orphans behind.
    MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
    // A loopback server has no business phoning home (and these machines have no internet).
    MLFLOW_DISABLE_TELEMETRY: 'true',
    ...(opts.env ?? {}),
  };
  const args = [
    'server',
    '--backend-store-uri',
    `sqlite:///${join(dir, 'mlflow.db')}`,
    '--serve-artifacts',
    '--artifacts-destination',
    join(dir, 'artifacts'),
    '--host',
    host,
    '--port',
    String(port),
    '--workers',
    String(opts.workers ?? 1),
  ];
  if (opts.basicAuth) {
    const ini = join(dir, 'basic_auth.ini');
    await writeFile(
      ini,
      [
        '[mlflow]',
        'default_permission = READ',
        `database_uri = sqlite:///${join(dir, 'basic_auth.db')}`,
        `admin_username = ${opts.basicAuth.adminUsername}`,
        'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    env['MLFLOW_AUTH_CONFIG_PATH'] = ini;
    env['MLFLOW_AUTH_ADMIN_PASSWORD'] = opts.basicAuth.adminPassword;
    env['MLFLOW_FLASK_SERVER_SECRET_KEY'] ??= randomBytes(16).toString('hex');
    args.push('--app-name', 'basic-auth');
  }
  opts.log?.(`starting mlflow server on ${uri} (data in ${dir})`);
  const child = execa(bin, args, {
    cwd: dir,
    env,
    detached: true, // own process group: stop() ends the server and everything it forked
    stdin: 'ignore',
    stdout: { file: logFile, append: true },
    stderr: { file: logFile, append: true },
    reject: false,
  });
  let exited = false;
  let spawnError: Error | undefined;
  const exitedPromise = child.then((r) => {
    exited = true;
    if (r.failed && r.exitCode === undefined) spawnError = new Error(r.shortMessage);
    return { exitCode: r.exitCode, signal: r.signal };
  });
  const pid = child.pid;
  const stop = async (o: { signal?: NodeJS.Signals; timeoutMs?: number } = {}) => {
    if (!pid || exited) return;
    const kill = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pid, sig);
      } catch {
        /* already gone */
      }
    };
    kill(o.signal ?? 'SIGTERM');
    const deadline = Date.now() + (o.timeoutMs ?? 10_000);
    while (!exited && Date.now() < deadline) await sleep(100);
    kill('SIGKILL'); // any stragglers of the group
    await child;
    // The port is free once nothing accepts connections any more.
    for (let i = 0; i < 50 && (await healthy(uri)); i++) await sleep(100);
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 120_000);
  // Healthy only counts while our own process is alive (another server on the same port must not pass for ours).
  while (!(await healthy(uri)) || exited) {
    if (exited || !pid) {
      throw new MlflowServerError(
        `mlflow server (${bin}) exited before becoming healthy on ${uri}${spawnError ? `: ${spawnError.message}` : ''}`,
        tail(logFile),
      );
    }
    if (Date.now() > deadline) {
      await stop({ signal: 'SIGKILL' });
      throw new MlflowServerError(`mlflow server did not become healthy on ${uri} within ${opts.startTimeoutMs ?? 120_000} ms`, tail(logFile));
    }
    await sleep(200);
  }
  opts.log?.(`mlflow server ready: ${uri} (UI: ${uri}/)`);
  const info = JSON.stringify({ uri, port, pid }) + '\n';
  await writeFile(infoFile(dir, port), info);
  await writeFile(infoFile(dir), info);
  const stopAndForget = async (o?: { signal?: NodeJS.Signals; timeoutMs?: number }) => {
    await stop(o);
    await rm(infoFile(dir, port), { force: true });
    if ((await readFile(infoFile(dir), 'utf8').catch(() => '')) === info) await rm(infoFile(dir), { force: true });
  };
  return { uri, port, pid: pid!, dir, logFile, stop: stopAndForget, exited: exitedPromise };
}

/**
 * The tracking server a pipeline stage should use: the configured one when `config` is given (MLFLOW_TRACKING_URI
 * was set), else an embedded local server in `localDir` whose UI URL is reported through `log`.
 */
export async function resolveTrackingServer(opts: {
  config: MlflowConfig | undefined;
  localDir: string;
  mlflowBin?: string;
  port?: number;
  log?: (line: string) => void;
}): Promise<{ config: MlflowConfig; embedded: LocalMlflowServer | undefined; stop(): Promise<void> }> {
  if (opts.config) return { config: opts.config, embedded: undefined, stop: async () => undefined };
  const server = await startLocalMlflowServer({
    dir: opts.localDir,
    ...(opts.mlflowBin ? { mlflowBin: opts.mlflowBin } : {}),
    ...(opts.port ? { port: opts.port } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  opts.log?.(`MLFLOW_TRACKING_URI is not set: using the embedded MLflow server, UI at ${server.uri}`);
  return { config: parseMlflowConfig({ trackingUri: server.uri }), embedded: server, stop: () => server.stop() };
}
