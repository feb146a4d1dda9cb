// The real ClearML server for integration tests, as a vitest globalSetup plus `inject('clearml')`.
//
// Where the server comes from, in this order:
// 1. CLEARML_API_HOST + CLEARML_API_ACCESS_KEY + CLEARML_API_SECRET_KEY in the environment (any server, e.g. the
//    official docker-compose one in CI). CLEARML_WEB_HOST / CLEARML_FILES_HOST / CLEARML_WEB_USER / _PASSWORD are
//    taken when set; web and files hosts are otherwise derived from the API host the SDK's way (:8008 → :8080/:8081).
// 2. Otherwise `start.sh` from ${MLOPS_CLEARML_SERVER_DIR:-<repo>/../shared/clearml-server} (or shared/ beside an
//    ancestor, for git worktrees) (idempotent: 0.4 s when
//    it already runs), then `$CLEARML_SERVER_HOME/env.sh` (default ~/.cache/clearml-server/env.sh) is read.
//    The server is stopped at the end only when this fixture started it, and only by the last test process still
//    using it (leases in $CLEARML_SERVER_HOME/run/mlops-ts-leases/).
// 3. No server: `inject('clearml')` is `{ available: false, reason }`, one loud line is printed, and the suites skip;
//    with CI=true the global setup throws instead, so CI never passes by skipping.
//
// Usage in a project's vitest.config.ts:  test: { globalSetup: ['../../tools/testing/clearml-server.ts'] }
// (or call `clearmlGlobalSetup(project)` from your own globalSetup and return its teardown). In a test:
//   import { inject } from 'vitest';
//   import { requireClearml } from '../../../tools/testing/clearml-server.js';
//   const server = inject('clearml');                        // typed by the `ProvidedContext` declaration below
//   describe.skipIf(!server.available)('…', () => { const s = requireClearml(server); … });
// (This file is loaded by vitest's main process as a globalSetup: it must not import vitest's runtime.)
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { request } from 'undici';
import type { TestProject } from 'vitest/node';
import { z } from 'zod';

export interface ClearmlServerAvailable {
  available: true;
  apiHost: string;
  webHost: string;
  filesHost: string;
  accessKey: string;
  secretKey: string;
  webUser: string | undefined;
  webPassword: string | undefined;
  /** `env`: taken from the environment; `running`: start.sh found it already running; `started`: this fixture started it. */
  source: 'env' | 'running' | 'started';
}
export interface ClearmlServerUnavailable {
  available: false;
  /** Why there is no server, and how to provide one. */
  reason: string;
}
export type ClearmlServerInfo = ClearmlServerAvailable | ClearmlServerUnavailable;

declare module 'vitest' {
  export interface ProvidedContext {
    clearml: ClearmlServerInfo;
  }
}

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const HOW_TO =
  'set CLEARML_API_HOST, CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY (any ClearML server, e.g. deploy/clearml), ' +
  'or put the local test server at ../shared/clearml-server (or MLOPS_CLEARML_SERVER_DIR) so start.sh can run';

type Env = Record<string, string | undefined>;

/** Web and files hosts the SDK's way: `:8008` → `:8080` / `:8081`; `api.` → `app.` / `files.`. */
export function deriveHosts(apiHost: string): { webHost: string; filesHost: string } {
  const u = new URL(apiHost);
  if (u.port === '8008') {
    const at = (port: string) => Object.assign(new URL(u.href), { port }).origin;
    return { webHost: at('8080'), filesHost: at('8081') };
  }
  if (u.hostname.startsWith('api.')) {
    const at = (prefix: string) => Object.assign(new URL(u.href), { hostname: prefix + u.hostname.slice(4) }).origin;
    return { webHost: at('app.'), filesHost: at('files.') };
  }
  return { webHost: u.origin, filesHost: u.origin };
}

function fromEnv(env: Env, source: ClearmlServerAvailable['source']): ClearmlServerAvailable | undefined {
  const apiHost = env['CLEARML_API_HOST']?.trim();
  const accessKey = env['CLEARML_API_ACCESS_KEY']?.trim();
  const secretKey = env['CLEARML_API_SECRET_KEY']?.trim();
  if (!apiHost || !accessKey || !secretKey) return undefined;
  const derived = deriveHosts(apiHost);
  return {
    available: true,
    apiHost: apiHost.replace(/\/+$/, ''),
    webHost: (env['CLEARML_WEB_HOST']?.trim() || derived.webHost).replace(/\/+$/, ''),
    filesHost: (env['CLEARML_FILES_HOST']?.trim() || derived.filesHost).replace(/\/+$/, ''),
    accessKey,
    secretKey,
    webUser: env['CLEARML_WEB_USER'] || undefined,
    webPassword: env['CLEARML_WEB_PASSWORD'] || undefined,
    source,
  };
}

/** `export K=V` lines of env.sh (values unquoted or single/double quoted). */
export function parseEnvSh(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!.trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

const pingSchema = z.object({ meta: z.object({ result_code: z.number() }) });
/** `debug.ping` answers (no auth needed). */
/** `answers`, tried up to 4 times 2 s apart: a server busy under the test load can miss one ping. */
async function answersPatiently(apiHost: string): Promise<string | undefined> {
  let problem: string | undefined;
  for (let attempt = 0; attempt < 4; attempt++) {
    problem = await answers(apiHost, 10_000);
    if (problem === undefined) return undefined;
    await new Promise((r) => setTimeout(r, 2000));
  }
  return problem;
}

/** Any HTTP answer from `url` within `timeoutMs` (the fileserver and web UI have no ping). */
async function httpAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const res = await request(url, { method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    await res.body.dump();
    return true;
  } catch {
    return false;
  }
}

async function answers(apiHost: string, timeoutMs = 3000): Promise<string | undefined> {
  try {
    const res = await request(`${apiHost}/debug.ping`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const body = pingSchema.safeParse(await res.body.json().catch(() => undefined));
    if (!body.success) return `${apiHost}/debug.ping answered HTTP ${res.statusCode} without a ClearML envelope`;
    return undefined;
  } catch (e) {
    return `${apiHost} is unreachable (${(e as { code?: string }).code ?? (e as Error).message})`;
  }
}

export interface ResolvedClearmlServer {
  info: ClearmlServerInfo;
  /** Stops the server if this call started it and no other test process holds a lease; otherwise only drops the lease. */
  release(): Promise<void>;
}

/** Find or start the server (see the top of this file). Never throws; `info.available` says whether there is one. */
export async function resolveClearmlServer(opts: { env?: Env; log?: (line: string) => void } = {}): Promise<ResolvedClearmlServer> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((l: string) => console.log(l));
  const none = async () => undefined;
  const given = fromEnv(env, 'env');
  if (given) {
    const problem = await answersPatiently(given.apiHost);
    if (problem) return { info: { available: false, reason: `CLEARML_API_HOST is set but ${problem}` }, release: none };
    return { info: given, release: none };
  }
  const serverDir = findServerDir(env);
  const startSh = join(serverDir, 'start.sh');
  if (!existsSync(startSh)) return { info: { available: false, reason: `no ClearML server configured and no ${startSh}` }, release: none };
  const home = env['CLEARML_SERVER_HOME'] || join(homedir(), '.cache', 'clearml-server');
  const envSh = join(home, 'env.sh');

  // Was it running before we ran start.sh? (then it is not ours to stop)
  let runningBefore = false;
  let complete = false;
  if (existsSync(envSh)) {
    const prior = fromEnv(parseEnvSh(await readFile(envSh, 'utf8')), 'running');
    runningBefore = prior !== undefined && (await answers(prior.apiHost, 1500)) === undefined;
    // apiserver, fileserver and web UI all answer: start.sh has nothing to do, and is not run. Its checks are not
    // safe to run concurrently (test processes starting together once found its venv stamp missing and rebuilt the
    // venv twice at the same time, each removing the other's files), so several test processes must not all call it.
    complete = runningBefore && (await httpAnswers(prior!.filesHost)) && (await httpAnswers(prior!.webHost));
  }
  const t0 = Date.now();
  // one start.sh at a time on this machine (flock on a file beside env.sh): the first starts, the others then find it up
  await mkdir(home, { recursive: true });
  const run = complete
    ? { exitCode: 0, all: '', signal: undefined }
    : await execa('flock', [join(home, '.mlops-ts-start.lock'), 'bash', startSh], { env: { ...env, CLEARML_SERVER_HOME: home }, reject: false, all: true, stdin: 'ignore', timeout: 280_000 });
  if (run.exitCode !== 0) {
    const tail = (run.all ?? '').split('\n').slice(-25).join('\n');
    return { info: { available: false, reason: `${startSh} failed (exit ${run.exitCode ?? run.signal}):\n${tail}` }, release: none };
  }
  if (!existsSync(envSh)) return { info: { available: false, reason: `${startSh} succeeded but wrote no ${envSh}` }, release: none };
  const got = fromEnv(parseEnvSh(await readFile(envSh, 'utf8')), runningBefore ? 'running' : 'started');
  if (!got) return { info: { available: false, reason: `${envSh} lacks CLEARML_API_HOST / CLEARML_API_ACCESS_KEY / CLEARML_API_SECRET_KEY` }, release: none };
  const problem = await answersPatiently(got.apiHost);
  if (problem) return { info: { available: false, reason: `after ${startSh}, ${problem}` }, release: none };
  if (!runningBefore) log(`[clearml-server] started the local ClearML server in ${Date.now() - t0} ms (${got.apiHost}); it is stopped when the tests end`);

  // Leases: every process using a server it did not bring from the env takes one; whoever finds the "started by a
  // fixture" marker and no other live lease at the end stops it.
  const leases = join(home, 'run', 'mlops-ts-leases');
  const marker = join(leases, 'started-by-fixture');
  await mkdir(leases, { recursive: true });
  if (!runningBefore) await writeFile(marker, String(process.pid));
  const lease = join(leases, `lease-${process.pid}-${Date.now()}`);
  await writeFile(lease, String(process.pid));
  return {
    info: got,
    release: async () => {
      await rm(lease, { force: true });
      if (!existsSync(marker)) return;
      const others = (await readdir(leases)).filter((f) => f.startsWith('lease-')).filter((f) => alive(Number(f.split('-')[1])));
      if (others.length > 0) return;
      await rm(marker, { force: true });
      const stopSh = join(serverDir, 'stop.sh');
      await execa('bash', [stopSh], { env: { ...env, CLEARML_SERVER_HOME: home }, reject: false, stdin: 'ignore' });
      log(`[clearml-server] stopped the local ClearML server this test run had started`);
    },
  };
}

/** MLOPS_CLEARML_SERVER_DIR, else <repo>/../shared/clearml-server, else the same beside an ancestor (a git worktree under /work/wt/<branch>). */
function findServerDir(env: Env): string {
  if (env['MLOPS_CLEARML_SERVER_DIR']) return resolve(env['MLOPS_CLEARML_SERVER_DIR']);
  const first = join(REPO_ROOT, '..', 'shared', 'clearml-server');
  for (let dir = resolve(REPO_ROOT, '..'); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'clearml-server');
    if (existsSync(join(candidate, 'start.sh'))) return candidate;
    if (dirname(dir) === dir) return first;
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * vitest globalSetup: resolves the server, provides it as `inject('clearml')`, returns the teardown.
 * With no server it prints one loud line (and throws when CI=true).
 */
export async function clearmlGlobalSetup(
  project: Pick<TestProject, 'provide'>,
  opts: { env?: Env; warn?: (line: string) => void; log?: (line: string) => void } = {},
): Promise<() => Promise<void>> {
  const env = opts.env ?? process.env;
  const resolved = await resolveClearmlServer({ env, ...(opts.log ? { log: opts.log } : {}) });
  const { info } = resolved;
  if (!info.available) {
    const line = `[clearml-server] !!! NO CLEARML SERVER: the ClearML tests are SKIPPED. ${info.reason.split('\n')[0]} — ${HOW_TO}`;
    if (env['CI'] === 'true') {
      throw new Error(`${line}\n(CI=true: failing instead of skipping)\n${info.reason}`);
    }
    (opts.warn ?? ((l: string) => console.warn(l)))(line);
  }
  project.provide('clearml', info);
  return () => resolved.release();
}

export default clearmlGlobalSetup;

/** The server, or throws: for tests that already run under `describe.skipIf(!inject('clearml').available)`. */
export function requireClearml(info: ClearmlServerInfo): ClearmlServerAvailable {
  if (!info.available) throw new Error(`no ClearML server: ${info.reason}`);
  return info;
}

/** Environment for the official SDK (python) against this server: the CLEARML_API_* variables and a config file path that does not exist. */
export function clearmlSdkEnv(s: ClearmlServerAvailable, scratchDir: string): Record<string, string> {
  return {
    CLEARML_API_HOST: s.apiHost,
    CLEARML_WEB_HOST: s.webHost,
    CLEARML_FILES_HOST: s.filesHost,
    CLEARML_API_ACCESS_KEY: s.accessKey,
    CLEARML_API_SECRET_KEY: s.secretKey,
    CLEARML_CONFIG_FILE: join(scratchDir, 'no-such-clearml.conf'),
    CLEARML_LOG_LEVEL: 'ERROR',
  };
}

/** A unique project name for a test: `mlops-ts-test-<purpose>-<random>`. */
export function uniqueProjectName(purpose: string): string {
  return `mlops-ts-test-${purpose}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;
}

export const sdkPython = join(REPO_ROOT, '.venv', 'bin', 'python');

/** How long one official-SDK oracle script may run (well inside the hooks' 300 s). */
export const SDK_SCRIPT_TIMEOUT_MS = 120_000;

/**
 * Runs an official-SDK oracle script (`.venv` python) with exactly `env` and returns the JSON of its `RESULT <json>`
 * stdout line. Bounded by `SDK_SCRIPT_TIMEOUT_MS`: the SDK's Task.close() waits on its event-reporter subprocess,
 * which on a loaded CI machine once never returned; a timeout then fails with a message that says so.
 */
export async function runSdkScript(script: string, args: readonly string[], opts: { env: Record<string, string>; cwd?: string }): Promise<unknown> {
  const r = await execa(sdkPython, [script, ...args], { cwd: opts.cwd, env: opts.env, extendEnv: false, reject: false, timeout: SDK_SCRIPT_TIMEOUT_MS, forceKillAfterDelay: 2_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  const name = script.split('/').at(-1);
  if (r.exitCode !== 0 || !line) throw new Error(`${name} ${args[0] ?? ''} failed (exit ${r.exitCode}${r.timedOut ? `, timed out after ${SDK_SCRIPT_TIMEOUT_MS / 1000} s` : ''}): ${r.stderr.slice(-1500)}`);
  return JSON.parse(line.slice(7)) as unknown;
}
export const repoRoot = REPO_ROOT;
