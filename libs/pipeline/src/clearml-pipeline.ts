/**
 * dvc.yaml → a ClearML pipeline (`@mlops-ts/clearml-client`'s `runClearmlPipeline`): one step per DVC stage
 * (`foreach`/`matrix` expanded, as DVC names them: `train@cnn`), parents from the stages' deps and outs, the stage's
 * params (its `params:` keys, values from params.yaml) as the step's hyperparameters (section `params`), its outs,
 * metrics and plots uploaded as the step's artifacts.
 *
 * Every step runs its stage through DVC, `dvc repro --single-item <stage>`, so dvc.lock and the DVC cache stay
 * right (and with them the Nx targets the dvc-adapter plugin derives from them). A stage `dvc status <stage>` finds
 * up to date when its turn comes is marked cached, not rerun.
 *
 * - local mode: the steps run here, one at a time (DVC takes a repository lock per command).
 * - queue mode: each step is a bash task clearml-agent runs in its own checkout of the repository at the current
 *   commit (`script.repository` = this repository's path, or `repository` for agents on other machines). The
 *   script is the task's literal `script.diff`, written by the agent as `entry_point` in the checkout. It takes DVC
 *   from this machine's venv when the agent runs here, else from the checkout's `tools/setup.sh`
 *   (`MLOPS_SKIP_DATA=1`), else `dvc` on PATH; writes dvc.lock as the controller has it (the parents' results);
 *   unpacks the parents' uncached outs (`cache: false` metrics and plots, which no DVC cache holds: carried in the
 *   script as a gzipped tar, at most 4 MB); uses this workspace's DVC cache when the agent can see it (same
 *   machine), else `dvc pull`/`dvc push` through the default remote; runs `dvc repro --single-item`; hands its own
 *   uncached outs back as a gzipped tar (with its md5) — left in the controller's `.dvc/tmp/mlops-ts-steps/` when the
 *   agent sees that folder, else printed in base64 (the console keeps only 65,536 characters of each of the agent's
 *   log events, so only small outs survive that way: a mismatch is a clear error) — and prints the resulting
 *   dvc.lock (base64) between markers. The
 *   controller merges that stage's entry into the local dvc.lock and checks its outs out here, so after the run
 *   `dvc status` is clean in this workspace just as after a local run.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { isAbsolute, join, posix, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  ClearmlPipelineError,
  readTaskLog,
  runClearmlPipeline,
  type ClearmlClient,
  type PipelineRunResult,
  type PipelineStep,
  type ResolvedPipelineStep,
  type ScriptInfo,
} from '@mlops-ts/clearml-client';
import { DvcLockStageSchema, resolveDvcBinary } from '@mlops-ts/dvc-adapter';
import { mergeLockEntry, resolveDvcYaml, type ResolvedStage } from '@mlops-ts/dvc-adapter/nx-plugin';

/** The hyperparameter section a step's DVC params go in. */
export const DVC_PARAMS_SECTION = 'params';
const LOCK_MARK = '@@mlops-ts-dvc-lock';
const LOCK_END = '@@mlops-ts-dvc-lock-end';
const UNCACHED_MARK = '@@mlops-ts-uncached-outs';
const UNCACHED_MD5_MARK = '@@mlops-ts-uncached-md5';
const UNCACHED_FILE_MARK = '@@mlops-ts-uncached-file';
/**
 * Width of the base64 lines a step prints. clearml-agent batches its console into events (130 lines of 525 seen)
 * and the server keeps 65,536 characters of an event: whatever is printed fast loses the end of each event, so
 * only a few lines (dvc.lock, small uncached outs) go this way, md5-checked; larger outs use the handoff folder.
 */
const B64_WIDTH = 500;
/** Uncached outs larger than this (gzipped tar) are not carried back through the console. */
const MAX_UNCACHED_BYTES = 4 * 1024 * 1024;
const STEP_SCRIPT = '.mlops-ts-clearml-step.sh';

export interface DvcPipelineStage {
  /** The DVC stage (`prepare`, `train@cnn`). */
  stage: string;
  parents: string[];
  /** `key → value` from the params files (`train.lr`; keys of a file other than params.yaml as `file:key`). */
  params: Record<string, string | number | boolean | null>;
  /** Outs, metrics and plots, relative to the dvc.yaml folder. */
  artifacts: { path: string; kind: 'outs' | 'metrics' | 'plots' }[];
  /** Deps tracked by a `.dvc` pointer (`data/raw.csv.dvc`), relative to the dvc.yaml folder: checked out before the stage in queue mode. */
  trackedDeps: string[];
  /** Outs with `cache: false` (not in the DVC cache: queue mode carries them back through the step's console). */
  uncached: string[];
  /** The stage's command (as in dvc.yaml). */
  cmd: string;
  desc?: string;
}

/** Paths overlap when equal or one contains the other (DVC's rule linking a dep to an out). */
function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

function flatten(value: unknown, prefix: string, out: Record<string, string | number | boolean | null>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) out[prefix] = '{}';
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(value)) out[prefix] = JSON.stringify(value);
  else if (value === null || value === undefined) out[prefix] = null;
  else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[prefix] = value;
  else out[prefix] = String(value);
}

function lookup(doc: unknown, key: string): unknown {
  let cur: unknown = doc;
  for (const part of key.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** The stages of a dvc.yaml as pipeline steps: foreach/matrix expanded, parents from deps ↔ outs, params resolved. */
export function dvcPipelineStages(dvcYamlPath: string): DvcPipelineStage[] {
  const dir = resolve(dvcYamlPath, '..');
  const read = (rel: string): string | undefined => {
    const p = join(dir, rel);
    return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
  };
  const text = read(posix.basename(dvcYamlPath));
  if (text === undefined) throw new ClearmlPipelineError(`no dvc.yaml at ${dvcYamlPath}`);
  const stages: ResolvedStage[] = resolveDvcYaml(text, { file: dvcYamlPath, readFile: read });
  const docs = new Map<string, unknown>();
  const paramsDoc = (file: string): unknown => {
    if (!docs.has(file)) {
      const t = read(file);
      if (t === undefined) throw new ClearmlPipelineError(`params file ${join(dir, file)} (used by a stage of ${dvcYamlPath}) does not exist`);
      docs.set(file, parseYaml(t) ?? {});
    }
    return docs.get(file);
  };
  return stages.map((s) => {
    const parents = stages.filter((o) => o.name !== s.name && s.deps.some((d) => o.outs.some((out) => overlaps(d, out.path)))).map((o) => o.name);
    const params: Record<string, string | number | boolean | null> = {};
    for (const p of s.params) {
      const doc = paramsDoc(p.file);
      const prefix = p.file === 'params.yaml' ? '' : `${p.file}:`;
      const flat: Record<string, string | number | boolean | null> = {};
      if (p.keys === null) flatten(doc, '', flat);
      else for (const k of p.keys) flatten(lookup(doc, k), k, flat);
      for (const [k, v] of Object.entries(flat)) params[`${prefix}${k}`] = v;
    }
    return {
      stage: s.name,
      parents,
      params,
      artifacts: s.outs.map((o) => ({ path: o.path, kind: o.kind })),
      uncached: s.outs.filter((o) => !o.cache).map((o) => o.path),
      trackedDeps: s.deps.filter((d) => existsSync(join(dir, `${d}.dvc`))).map((d) => `${d}.dvc`),
      cmd: Array.isArray(s.cmd) ? s.cmd.join(' && ') : s.cmd,
      ...(s.desc ? { desc: s.desc } : {}),
    };
  });
}

export interface ClearmlDvcPipelineOptions {
  client: ClearmlClient;
  /** The dvc.yaml (default `<cwd>/dvc.yaml`). Its folder is where DVC runs. */
  dvcYaml: string;
  /** ClearML project; the pipeline goes to `<project>/.pipelines/<name>`. */
  project: string;
  /** Pipeline name (default `dvc-pipeline`). */
  name?: string;
  /** Queue mode when set: the steps are enqueued here for clearml-agent workers. */
  queue?: string;
  /** Queue mode: what agents clone (default: this repository's path, which agents on this machine can clone). */
  repository?: string;
  /** Queue mode: how long a step may wait for an agent (default 10 min). */
  pickupTimeoutMs?: number;
  pollIntervalMs?: number;
  /** The dvc executable (default: the nearest `.venv/bin/dvc`, else `dvc` on PATH). */
  dvcBin?: string;
  /** Environment of the dvc processes (the app passes `process.env`). */
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

async function git(cwd: string, args: string[]): Promise<string> {
  const r = await execa('git', args, { cwd, reject: false, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new ClearmlPipelineError(`git ${args.join(' ')} in ${cwd} failed: ${String(r.stderr).trim().split('\n').pop() ?? ''}`);
  return String(r.stdout).trim();
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The bash script an agent runs for one stage (see the top of this file). */
export function dvcStepScript(opts: {
  stage: string;
  dvcDir: string;
  parents: string[];
  lockText: string | undefined;
  localDvcBin: string;
  cacheDir: string;
  uncached?: string[];
  trackedDeps?: string[];
  /** The parents' uncached outs (gzipped tar): not in any DVC cache, so the script carries them to the checkout. */
  uncachedInputs?: Buffer;
  /**
   * A folder of the controller's: an agent that sees it (same machine) leaves the tar of the stage's uncached outs
   * there instead of printing it (the console keeps only 65,536 characters of each of the agent's log events).
   */
  handoffDir?: string;
}): string {
  const uncached = opts.uncached ?? [];
  const inputs = [...opts.parents, ...(opts.trackedDeps ?? [])];
  const lock = opts.lockText !== undefined ? Buffer.from(opts.lockText).toString('base64') : undefined;
  const carried = opts.uncachedInputs?.length ? opts.uncachedInputs.toString('base64') : undefined;
  return [
    '#!/usr/bin/env bash',
    `# mlops-ts: DVC stage ${opts.stage} as a ClearML pipeline step, run by clearml-agent in its checkout`,
    'set -euo pipefail',
    'root="$(git rev-parse --show-toplevel)"',
    `cd "$root"/${shq(opts.dvcDir || '.')}`,
    `if [ -x ${shq(opts.localDvcBin)} ]; then dvc=${shq(opts.localDvcBin)}`,
    'elif [ -f "$root/tools/setup.sh" ]; then MLOPS_SKIP_DATA=1 bash "$root/tools/setup.sh" >&2; dvc="$root/.venv/bin/dvc"',
    'else dvc="$(command -v dvc)"; fi',
    'echo "dvc: $dvc ($("$dvc" --version))"',
    `shared=0; if [ -d ${shq(opts.cacheDir)} ]; then "$dvc" config --local cache.dir ${shq(opts.cacheDir)}; shared=1; echo "DVC cache: ${opts.cacheDir.replace(/["$`\\]/g, '')} (the controller's)"; fi`,
    ...(lock ? [`echo ${shq(lock)} | base64 -d > dvc.lock`] : []),
    ...(carried ? [`echo ${shq(carried)} | base64 -d | tar -xz`] : []),
    ...(inputs.length
      ? [`if [ "$shared" = 1 ]; then "$dvc" checkout ${inputs.map(shq).join(' ')}; else "$dvc" pull ${inputs.map(shq).join(' ')}; fi`]
      : []),
    `"$dvc" repro --single-item ${shq(opts.stage)}`,
    `if [ "$shared" = 0 ] && "$dvc" remote default >/dev/null 2>&1; then "$dvc" push ${shq(opts.stage)}; fi`,
    ...(uncached.length
      ? [
          `tar -cz ${uncached.map(shq).join(' ')} > "\${TMPDIR:-/tmp}/mlops-ts-uncached.$$.tgz"`,
          `md5sum "\${TMPDIR:-/tmp}/mlops-ts-uncached.$$.tgz" | sed 's/^/${UNCACHED_MD5_MARK} /'`,
          ...(opts.handoffDir
            ? [`if [ -d ${shq(opts.handoffDir)} ]; then handoff="$(mktemp ${shq(opts.handoffDir)}/uncached.XXXXXX.tgz)"; cp "\${TMPDIR:-/tmp}/mlops-ts-uncached.$$.tgz" "$handoff"; echo "${UNCACHED_FILE_MARK} $(basename "$handoff")"; fi`]
            : []),
          `if [ -n "\${handoff:-}" ]; then :; elif [ "$(stat -c %s "\${TMPDIR:-/tmp}/mlops-ts-uncached.$$.tgz")" -le ${MAX_UNCACHED_BYTES} ]; then base64 -w ${B64_WIDTH} "\${TMPDIR:-/tmp}/mlops-ts-uncached.$$.tgz" | sed 's/^/${UNCACHED_MARK} /'; else echo "uncached outs too large to carry back (> ${MAX_UNCACHED_BYTES} bytes)" >&2; fi`,
          `rm -f "\${TMPDIR:-/tmp}/mlops-ts-uncached.$$.tgz"`,
        ]
      : []),
    `base64 -w ${B64_WIDTH} dvc.lock | sed 's/^/${LOCK_MARK} /'`,
    `echo ${LOCK_END}`,
    '',
  ].join('\n');
}

function marked(lines: readonly string[], end: number, mark: string): Buffer {
  const b64 = lines
    .slice(0, end)
    .map((l) => l.trim())
    .filter((l) => l.startsWith(`${mark} `))
    .map((l) => l.slice(mark.length + 1).trim())
    .join('');
  return Buffer.from(b64, 'base64');
}

/** The dvc.lock a step printed (between the markers of {@link dvcStepScript}), or undefined. */
export function lockFromLog(lines: readonly string[]): string | undefined {
  const end = lines.findIndex((l) => l.trim() === LOCK_END);
  if (end < 0) return undefined;
  return marked(lines, end, LOCK_MARK).toString('utf8');
}

/** The md5 the step printed for the gzipped tar of its uncached outs, or undefined. */
function uncachedMd5FromLog(lines: readonly string[]): string | undefined {
  const line = lines.map((l) => l.trim()).find((l) => l.startsWith(`${UNCACHED_MD5_MARK} `));
  return line ? /^[0-9a-f]{32}/.exec(line.slice(UNCACHED_MD5_MARK.length + 1))?.[0] : undefined;
}

/** The gzipped tar of the uncached outs a step printed (empty when none). */
export function uncachedOutsFromLog(lines: readonly string[]): Buffer {
  const end = lines.findIndex((l) => l.trim() === LOCK_END);
  return end < 0 ? Buffer.alloc(0) : marked(lines, end, UNCACHED_MARK);
}

/**
 * Run the dvc.yaml's stages as a ClearML pipeline (local, or on `queue`). Resolves with the run (controller, steps,
 * web link); throws the controller's typed errors (`ClearmlPipelineStepError`, `…QueueError`, `…PickupTimeoutError`,
 * `…AbortedError`) with the controller task failed/stopped.
 */
export async function runClearmlDvcPipeline(opts: ClearmlDvcPipelineOptions): Promise<PipelineRunResult> {
  const log = opts.log ?? (() => {});
  const dvcYaml = resolve(opts.dvcYaml);
  const dvcDir = resolve(dvcYaml, '..');
  const env = opts.env ?? {};
  const dvcBin = await resolveDvcBinary({ cwd: dvcDir, ...(opts.dvcBin ? { dvcBin: opts.dvcBin } : {}), ...(env['PATH'] !== undefined ? { pathEnv: env['PATH'] } : {}) });
  const dvcBinAbs = isAbsolute(dvcBin) ? dvcBin : resolve(dvcDir, dvcBin);
  const dvcEnv = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const dvc = async (args: string[], o: { signal?: AbortSignal } = {}) => {
    // its own process group, so that an abort stops dvc and the stage's command with it
    const child = execa(dvcBin, args, { cwd: dvcDir, env: dvcEnv, all: true, reject: false, stdin: 'ignore', detached: true });
    let aborted = false;
    const onAbort = (): void => {
      aborted = true;
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    };
    if (o.signal?.aborted) onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const r = await child;
      return { ok: r.exitCode === 0 && !aborted, output: String(r.all ?? ''), stdout: String(r.stdout ?? ''), exitCode: r.exitCode, aborted };
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
    }
  };
  const stages = dvcPipelineStages(dvcYaml);
  const byName = new Map(stages.map((s) => [s.stage, s]));
  log(`dvc.yaml ${dvcYaml}: ${stages.length} stages (${stages.map((s) => s.stage).join(', ')})`);

  // where agents on this machine leave the stages' uncached outs (DVC's own tmp folder: gitignored)
  const handoffDir = join(dvcDir, '.dvc', 'tmp', 'mlops-ts-steps');
  let script: ((s: ResolvedPipelineStep) => Promise<ScriptInfo>) | undefined;
  let afterStep: ((s: ResolvedPipelineStep, ctx: { taskId: string; status: 'completed' | 'cached'; log: (l: string) => void }) => Promise<void>) | undefined;
  if (opts.queue) {
    const root = await git(dvcDir, ['rev-parse', '--show-toplevel']);
    const commit = await git(root, ['rev-parse', 'HEAD']);
    const branch = await git(root, ['rev-parse', '--abbrev-ref', 'HEAD']);
    const dirty = (await git(root, ['status', '--porcelain', '--untracked-files=no'])).split('\n').filter((l) => l.trim() && !/dvc\.lock$/.test(l));
    if (dirty.length) log(`warning: uncommitted changes (${dirty.map((l) => l.slice(3)).join(', ')}): the agents run commit ${commit.slice(0, 10)} without them`);
    const rel = relative(root, dvcDir).split('\\').join('/');
    const cacheDir = (await dvc(['cache', 'dir'])).stdout.trim().split('\n').pop() ?? join(dvcDir, '.dvc', 'cache');
    // DVC creates its cache lazily: make it now, so that agents on this machine find and share it
    await mkdir(cacheDir, { recursive: true });
    await mkdir(handoffDir, { recursive: true });
    const repository = opts.repository ?? root;
    log(`queue mode: agents check out ${repository} at ${commit.slice(0, 10)} (${branch}) and run each stage through dvc`);
    script = async (s) => {
      const lockFile = join(dvcDir, 'dvc.lock');
      const lockText = existsSync(lockFile) ? readFileSync(lockFile, 'utf8') : undefined;
      // the parents' uncached outs (metrics, plots with cache: false) came back here through their consoles; no
      // checkout has them, so they travel in the script (evaluate@* → metrics/eval → compare)
      const carry = [...new Set(s.parents.flatMap((p) => byName.get(p)?.uncached ?? []))].filter((f) => existsSync(join(dvcDir, f)));
      let uncachedInputs: Buffer | undefined;
      if (carry.length) {
        const t = await execa('tar', ['-cz', '-C', dvcDir, '--', ...carry], { encoding: 'buffer', reject: false, stdin: 'ignore' });
        if (t.exitCode !== 0) throw new ClearmlPipelineError(`step '${s.name}': packing its parents' uncached outs (${carry.join(', ')}) failed: ${Buffer.from(t.stderr).toString('utf8').trim()}`);
        uncachedInputs = Buffer.from(t.stdout);
        if (uncachedInputs.length > MAX_UNCACHED_BYTES) throw new ClearmlPipelineError(`step '${s.name}': its parents' uncached outs (${carry.join(', ')}) are ${uncachedInputs.length} bytes gzipped, more than the ${MAX_UNCACHED_BYTES} a step script carries: give them cache: true`);
      }
      return {
        binary: '/bin/bash',
        repository,
        ...(branch !== 'HEAD' ? { branch } : {}),
        commit,
        workingDir: rel || '.',
        entryPoint: STEP_SCRIPT,
        diff: dvcStepScript({ stage: s.name, dvcDir: rel, parents: s.parents, lockText, localDvcBin: dvcBinAbs, cacheDir, uncached: byName.get(s.name)!.uncached, trackedDeps: byName.get(s.name)!.trackedDeps, handoffDir, ...(uncachedInputs ? { uncachedInputs } : {}) }),
      };
    };
    afterStep = async (s, ctx) => {
      if (ctx.status !== 'completed') return;
      // the agent's log is indexed shortly after it completes the task: wait for the end marker
      let lockText: string | undefined;
      let logLines: string[] = [];
      for (let i = 0; i < 20 && lockText === undefined; i++) {
        logLines = await readTaskLog(opts.client, ctx.taskId);
        lockText = lockFromLog(logLines);
        if (lockText === undefined) await new Promise((r) => setTimeout(r, 500));
      }
      if (lockText === undefined) throw new ClearmlPipelineError(`step '${s.name}' (task ${ctx.taskId}) completed but its console has no dvc.lock (the ${LOCK_END} line)`);
      const doc = z.object({ stages: z.record(z.string(), DvcLockStageSchema) }).loose().parse(parseYaml(lockText));
      const entry = doc.stages[s.name];
      if (!entry) throw new ClearmlPipelineError(`step '${s.name}' (task ${ctx.taskId}): its dvc.lock has no entry for the stage`);
      await mergeLockEntry(join(dvcDir, 'dvc.lock'), s.name, entry);
      const stage = byName.get(s.name)!;
      if (stage.uncached.length) {
        const handed = logLines.map((l) => l.trim()).find((l) => l.startsWith(`${UNCACHED_FILE_MARK} `))?.slice(UNCACHED_FILE_MARK.length + 1).trim();
        let tgz = uncachedOutsFromLog(logLines);
        if (handed && /^uncached\.[A-Za-z0-9]+\.tgz$/.test(handed)) {
          const file = join(handoffDir, handed);
          tgz = await readFile(file).catch(() => Buffer.alloc(0));
          await rm(file, { force: true });
        }
        if (tgz.length === 0) throw new ClearmlPipelineError(`step '${s.name}' (task ${ctx.taskId}): its uncached outs (${stage.uncached.join(', ')}) did not come back in its console`);
        const md5 = uncachedMd5FromLog(logLines);
        if (md5 && createHash('md5').update(tgz).digest('hex') !== md5) throw new ClearmlPipelineError(`step '${s.name}' (task ${ctx.taskId}): its uncached outs (${stage.uncached.join(', ')}) came back incomplete through its console (md5 differs from the agent's ${md5})`);
        const x = await execa('tar', ['-xz', '-C', dvcDir], { input: tgz, reject: false });
        if (x.exitCode !== 0) throw new ClearmlPipelineError(`step '${s.name}': unpacking its uncached outs failed: ${String(x.stderr).trim().split('\n').join('; ')}`);
      }
      const co = await dvc(['checkout', s.name]);
      if (!co.ok) {
        const pulled = await dvc(['pull', s.name]);
        if (!pulled.ok) throw new ClearmlPipelineError(`step '${s.name}': its outputs are neither in this DVC cache nor in the remote: ${pulled.output.trim().split('\n').pop() ?? ''}`);
      }
      ctx.log(`step '${s.name}': dvc.lock entry merged, outputs checked out here`);
    };
  }

  const steps: PipelineStep[] = stages.map((s) => ({
    name: s.stage,
    parents: s.parents,
    params: s.params,
    paramsSection: DVC_PARAMS_SECTION,
    artifacts: s.artifacts,
    type: 'data_processing',
    description: `DVC stage ${s.stage}: ${s.cmd}${s.desc ? ` — ${s.desc}` : ''}`,
  }));

  return runClearmlPipeline({
    client: opts.client,
    project: opts.project,
    name: opts.name ?? 'dvc-pipeline',
    steps,
    artifactsRoot: dvcDir,
    args: { dvc_yaml: dvcYaml, mode: opts.queue ? 'queue' : 'local' },
    ...(opts.signal ? { signal: opts.signal } : {}),
    log,
    isUpToDate: async (s) => {
      const r = await dvc(['status', '--json', s.name]);
      if (!r.ok) return false;
      const json = r.stdout.slice(r.stdout.indexOf('{'));
      try {
        return Object.keys(JSON.parse(json) as object).length === 0 ? 'dvc status: up to date' : false;
      } catch {
        return false;
      }
    },
    ...(afterStep ? { afterStep } : {}),
    ...(script ? { scriptFor: script } : {}),
    mode: opts.queue
      ? { kind: 'queue', queue: opts.queue, ...(opts.pickupTimeoutMs !== undefined ? { pickupTimeoutMs: opts.pickupTimeoutMs } : {}), ...(opts.pollIntervalMs !== undefined ? { pollIntervalMs: opts.pollIntervalMs } : {}) }
      : {
          kind: 'local',
          concurrency: 1,
          runStep: async (s, ctx) => {
            const stage = byName.get(s.name)!;
            ctx.log(`dvc repro --single-item ${stage.stage}`);
            const r = await dvc(['repro', '--single-item', stage.stage], { signal: ctx.signal });
            const output = r.output.split('\n');
            if (r.ok) return { status: 'completed', output };
            return { status: 'failed', output, message: `dvc repro --single-item ${stage.stage} exited ${r.exitCode ?? 'on a signal'}${r.aborted ? ' (aborted)' : ''}` };
          },
        },
  });
}
