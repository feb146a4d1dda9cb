// Real clearml-agent daemons for tests: N agents (each its own worker_id, HOME, CLEARML_CONFIG_FILE, venvs_dir)
// serving one queue of a ClearML server, stopped by the PID of the daemon's python process itself.
//
//   const agents = await startClearmlAgents({ server, queue: 'q-…', count: 2, workDir });
//   … enqueue tasks …
//   await agents.stop();          // SIGTERM to each daemon (SIGKILL after 15 s), then waits for it to exit
//
// The agent comes from tools/clearml-agent/install.sh (pinned clearml-agent in its own venv; idempotent, fast when
// installed). Settings verified against the local server (../shared/clearml-server/README.md, "clearml-agent"):
// venv mode, no Docker, `vcs_cache.enabled: false`, no venv cache, no pip download cache, no Python env build
// (CLEARML_AGENT_SKIP_PYTHON_ENV_INSTALL=1 + CLEARML_AGENT_SKIP_PIP_VENV_INSTALL=<the agent venv's python>).
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { request } from 'undici';
import { z } from 'zod';

export interface AgentServer {
  apiHost: string;
  webHost: string;
  filesHost: string;
  accessKey: string;
  secretKey: string;
}

export interface StartAgentsOptions {
  server: AgentServer;
  /** The queue the agents serve (created by the first agent when missing: `--create-queue`). */
  queue: string;
  /** Number of daemons (default 1). */
  count?: number;
  /** Where each agent gets its home, config, venvs_dir and log (`<workDir>/agent-<i>/`). */
  workDir: string;
  /** worker_id prefix (default `mlops-ts-test-agent-<random>`); agent i is `<prefix>-<i>`. */
  workerPrefix?: string;
  /** How long to wait for each daemon to register with the server (default 60 s). */
  registerTimeoutMs?: number;
  /** Extra environment of the daemons, which the tasks they run inherit (e.g. `MLFLOW_TRACKING_URI` for stages that track to MLflow). */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

export interface ClearmlAgent {
  workerId: string;
  /** PID of the `clearml-agent daemon` python process (checked in /proc/PID/cmdline). */
  pid: number;
  home: string;
  configFile: string;
  logFile: string;
}

export interface ClearmlAgents {
  agents: ClearmlAgent[];
  /** SIGTERM each daemon, SIGKILL after 15 s; resolves when all have exited. Idempotent. */
  stop(): Promise<void>;
  /** The last lines of an agent's log (for failure messages). */
  logTail(agent: ClearmlAgent, lines?: number): Promise<string>;
}

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const INSTALL_SH = join(REPO_ROOT, 'tools', 'clearml-agent', 'install.sh');

/** Install (idempotent) and return the clearml-agent executable. */
export async function clearmlAgentBinary(env: Record<string, string | undefined> = process.env): Promise<string> {
  const r = await execa('bash', [INSTALL_SH], { env, stdin: 'ignore', reject: false, timeout: 600_000 });
  if (r.exitCode !== 0) throw new Error(`${INSTALL_SH} failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).split('\n').slice(-10).join('\n')}`);
  const bin = r.stdout.trim().split('\n').pop() ?? '';
  if (!existsSync(bin)) throw new Error(`${INSTALL_SH} printed '${bin}', which does not exist`);
  return bin;
}

const workersSchema = z.object({ data: z.object({ workers: z.array(z.object({ id: z.string() }).loose()) }).loose() }).loose();

async function registeredWorkers(server: AgentServer): Promise<string[]> {
  const res = await request(`${server.apiHost}/workers.get_all`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${server.accessKey}:${server.secretKey}`).toString('base64')}` },
    body: '{}',
  });
  const body = workersSchema.parse(await res.body.json());
  return body.data.workers.map((w) => w.id);
}

/** Start `count` agent daemons on `queue`; resolves once each is registered with the server. */
export async function startClearmlAgents(opts: StartAgentsOptions): Promise<ClearmlAgents> {
  const log = opts.log ?? (() => {});
  const bin = await clearmlAgentBinary();
  const python = join(dirname(bin), 'python');
  const prefix = opts.workerPrefix ?? `mlops-ts-test-agent-${Math.random().toString(36).slice(2, 8)}`;
  const agents: ClearmlAgent[] = [];
  const procs: Promise<unknown>[] = [];
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(
      agents.map(async (a, i) => {
        const p = procs[i]!;
        if (!isDaemon(a.pid)) return;
        process.kill(a.pid, 'SIGTERM');
        const killer = setTimeout(() => {
          if (isDaemon(a.pid)) process.kill(a.pid, 'SIGKILL');
        }, 15_000);
        await p.catch(() => undefined);
        clearTimeout(killer);
        log(`[clearml-agent] ${a.workerId} (pid ${a.pid}) stopped`);
      }),
    );
  };

  try {
    for (let i = 1; i <= (opts.count ?? 1); i++) {
      const dir = join(opts.workDir, `agent-${i}`);
      const home = join(dir, 'home');
      const venvs = join(dir, 'venvs');
      await mkdir(home, { recursive: true });
      await mkdir(venvs, { recursive: true });
      await mkdir(join(dir, 'tmp'), { recursive: true });
      const workerId = `${prefix}-${i}`;
      const configFile = join(dir, 'agent.conf');
      await writeFile(
        configFile,
        `agent {\n  worker_id: "${workerId}"\n  worker_name: "${workerId}"\n  venvs_dir: "${venvs}"\n  vcs_cache.enabled: false\n  venvs_cache.max_entries: 0\n  pip_download_cache.enabled: false\n}\n`,
      );
      const logFile = join(dir, 'agent.log');
      const child = execa(bin, ['daemon', '--queue', opts.queue, '--foreground', ...(i === 1 ? ['--create-queue'] : [])], {
        cwd: dir,
        env: {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          HOME: home,
          TMPDIR: join(dir, 'tmp'),
          CLEARML_CONFIG_FILE: configFile,
          CLEARML_API_HOST: opts.server.apiHost,
          CLEARML_WEB_HOST: opts.server.webHost,
          CLEARML_FILES_HOST: opts.server.filesHost,
          CLEARML_API_ACCESS_KEY: opts.server.accessKey,
          CLEARML_API_SECRET_KEY: opts.server.secretKey,
          CLEARML_AGENT_SKIP_PYTHON_ENV_INSTALL: '1',
          CLEARML_AGENT_SKIP_PIP_VENV_INSTALL: python,
          ...opts.env,
        },
        extendEnv: false,
        stdin: 'ignore',
        stdout: { file: logFile, append: true },
        stderr: { file: logFile, append: true },
        reject: false,
        cleanup: true,
      });
      const pid = child.pid;
      if (pid === undefined) throw new Error(`clearml-agent ${workerId} did not start (no pid); see ${logFile}`);
      const agent: ClearmlAgent = { workerId, pid, home, configFile, logFile };
      agents.push(agent);
      procs.push(child);
      // wait for it to register (the first one also creates the queue)
      const deadline = Date.now() + (opts.registerTimeoutMs ?? 60_000);
      for (;;) {
        if (!isDaemon(pid)) throw new Error(`clearml-agent ${workerId} exited before registering; its log:\n${await tail(logFile, 25)}`);
        if ((await registeredWorkers(opts.server).catch((): string[] => [])).includes(workerId)) break;
        if (Date.now() > deadline) throw new Error(`clearml-agent ${workerId} did not register with ${opts.server.apiHost} within ${(opts.registerTimeoutMs ?? 60_000) / 1000} s; its log:\n${await tail(logFile, 25)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      log(`[clearml-agent] ${workerId} (pid ${pid}) serves queue ${opts.queue}`);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { agents, stop, logTail: (a, n = 40) => tail(a.logFile, n) };
}

/** Is `pid` a live `clearml-agent daemon` process (its own cmdline, not a wrapper)? */
export function isDaemon(pid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    return cmd.includes('clearml-agent') && cmd.includes('daemon');
  } catch {
    return false;
  }
}

async function tail(file: string, n: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-n).join('\n');
}
