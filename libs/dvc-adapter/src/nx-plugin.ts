/**
 * Nx inference plugin: every dvc.yaml becomes a project (`pipeline` for the workspace root's) with one target per
 * stage (`dvc-prepare`, `dvc-train@cnn`), derived from dvc.yaml each time Nx builds its graph — no hand-kept copy.
 *
 * nx.json: `{ "plugins": [{ "plugin": "@mlops-ts/dvc-adapter/nx-plugin", "options": { "projectName": "pipeline" } }] }`
 *
 * A target runs `dvc repro --single-item <stage>` and is cached by Nx keyed by exactly the stage's deps and params;
 * the cache entry holds the stage's outs plus its dvc.lock entry, which {@link postTasksExecution} merges back into
 * dvc.lock after a cache restore so `dvc status` stays clean.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DvcYamlError } from './nx/errors.js';
import { dvcRootOf, fileReader } from './nx/fingerprint.js';
import { parseDvcignore } from './nx/dvcignore.js';
import { mergeLockEntry, readSnapshot } from './nx/lock.js';
import { runProcess } from './nx/proc.js';
import { resolveDvcYaml } from './nx/stages.js';
import type { ResolvedStage } from './nx/stages.js';
import { stageOutRefs, stageTargets } from './nx/targets.js';
import type { NxTarget, StageOutRef } from './nx/targets.js';

export type { NxTarget, NxInput, DepKind } from './nx/targets.js';
export { stageTargets, classifyDep, stageOutRefs } from './nx/targets.js';
export { resolveDvcYaml } from './nx/stages.js';
export type { ResolvedStage, StageOut, StageParams } from './nx/stages.js';
export { stageFingerprint } from './nx/fingerprint.js';
export { mergeLockEntry, readSnapshot, StageLockSnapshotSchema } from './nx/lock.js';
export { DvcYamlError, DvcNxStageError } from './nx/errors.js';

export interface DvcNxPluginOptions {
  /** Name of the project for the workspace root's dvc.yaml (default `pipeline`); nested ones get `<name>-<folder>`. */
  projectName?: string;
  /** Prefix of the stage target names (default `dvc-`). */
  targetPrefix?: string;
  /** dvc executable: workspace-relative path or a name on PATH (default `.venv/bin/dvc` when it exists, else `dvc`). */
  dvcBin?: string;
  /** After a cache restore, also `dvc commit` the restored outs so DVC's cache (and `dvc push`) has them (default true). */
  commitRestoredOuts?: boolean;
}

interface Ctx {
  workspaceRoot: string;
}

/** Nx's `CreateNodesResultV2` shape (kept structural so this library has no dependency on Nx). */
type CreateNodesResultV2 = Array<
  readonly [string, { projects?: Record<string, { name: string; root: string; targets: Record<string, NxTarget>; metadata?: object }> }]
>;

/** Nx's `TaskResults` fields this plugin reads. */
interface TaskResultsLike {
  [taskId: string]: { status: string; task: { target: { project: string; target: string }; projectRoot?: string } };
}

const DEFAULT_PREFIX = 'dvc-';

function projectNameFor(root: string, options: DvcNxPluginOptions | undefined): string {
  const base = options?.projectName ?? 'pipeline';
  return root === '' ? base : `${base}-${root.replace(/[/\\]/g, '-')}`;
}


/** Where the target of `stage` keeps its dvc.lock entry (inside DVC's own gitignored tmp folder). */
export function snapshotPathFor(workspaceRoot: string, projectRoot: string, stage: string): string {
  const dvcRoot = dvcRootOf(workspaceRoot, projectRoot);
  const sub = posix.relative(dvcRoot, projectRoot);
  return posix.join(dvcRoot, '.dvc/tmp/nx-stages', sub, `${stage}.lock.json`);
}

/** How the targets call this library's stage CLI: the TypeScript source through tsx in the workspace, else dist. */
function cliCommand(workspaceRoot: string): string {
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith('.ts');
  const cli = join(dirname(here), 'nx', fromSource ? 'cli.ts' : 'cli.js');
  const rel = relative(workspaceRoot, cli);
  const shown = rel.startsWith('..') || isAbsolute(rel) ? cli : rel.split(sep).join('/');
  return fromSource ? `node --import tsx ${shown}` : `node ${shown}`;
}

/** Whether a .dvcignore with at least one rule sits at a DVC root or anywhere git tracks one. */
async function hasDvcignoreRules(workspaceRoot: string, dvcRoots: string[]): Promise<boolean> {
  const r = await runProcess('git', ['ls-files', '-z', '--', ':(glob)**/.dvcignore'], { cwd: workspaceRoot });
  const files = new Set([...dvcRoots.map((d) => posix.join(d, '.dvcignore')), ...(r.exitCode === 0 ? r.stdout.split('\0').filter(Boolean) : [])]);
  for (const file of files) {
    const text = fileReader(workspaceRoot)(file);
    if (text !== undefined && parseDvcignore(text, '').length > 0) return true;
  }
  return false;
}

async function gitIgnored(workspaceRoot: string, paths: string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  const r = await runProcess('git', ['check-ignore', '--stdin', '-z'], { cwd: workspaceRoot, input: paths.join('\0') });
  // exit 0: some ignored, 1: none, 128: not a git repository (then nothing counts as ignored)
  if (r.exitCode !== 0) return new Set();
  return new Set(r.stdout.split('\0').filter(Boolean));
}

/** createNodesV2 body: all dvc.yaml files at once, so a stage may depend on another file's outs. */
export async function createDvcNodes(
  files: readonly string[],
  options: DvcNxPluginOptions | undefined,
  context: Ctx,
): Promise<CreateNodesResultV2> {
  const { workspaceRoot } = context;
  const prefix = options?.targetPrefix ?? DEFAULT_PREFIX;
  const targetName = (stage: string): string => `${prefix}${stage}`;
  const dvcBin = options?.dvcBin ?? (existsSync(join(workspaceRoot, '.venv/bin/dvc')) ? '.venv/bin/dvc' : 'dvc');
  const parsed: { file: string; project: string; projectRoot: string; stages: ResolvedStage[] }[] = [];
  for (const file of files) {
    const projectRoot = posix.dirname(file) === '.' ? '' : posix.dirname(file);
    const read = fileReader(join(workspaceRoot, projectRoot));
    const text = read('dvc.yaml');
    if (text === undefined) continue;
    const stages = resolveDvcYaml(text, { file, readFile: read });
    parsed.push({ file, project: projectNameFor(projectRoot, options), projectRoot, stages });
  }
  const outs: StageOutRef[] = parsed.flatMap((p) => stageOutRefs({ ...p, targetName }));
  const candidates = parsed.flatMap((p) => p.stages.flatMap((s) => s.deps.map((d) => posix.join(p.projectRoot, d))));
  const ignored = await gitIgnored(workspaceRoot, [...new Set(candidates)]);
  const dvcignore = await hasDvcignoreRules(workspaceRoot, [...new Set(parsed.map((p) => dvcRootOf(workspaceRoot, p.projectRoot)))]);
  const cli = cliCommand(workspaceRoot);
  return parsed.map((p) => {
    const targets = stageTargets({
      project: p.project,
      projectRoot: p.projectRoot,
      stages: p.stages,
      facts: {
        outs,
        exists: (path) => existsSync(join(workspaceRoot, path)),
        isIgnored: (path) => ignored.has(path),
      },
      targetName,
      cli,
      dvcBin,
      snapshotPath: (stage) => snapshotPathFor(workspaceRoot, p.projectRoot, stage),
      dvcignore,
    });
    return [
      p.file,
      {
        projects: {
          [p.projectRoot === '' ? '.' : p.projectRoot]: {
            name: p.project,
            root: p.projectRoot === '' ? '.' : p.projectRoot,
            targets,
            metadata: { description: `DVC pipeline ${p.file}`, technologies: ['dvc'] },
          },
        },
      },
    ] as const;
  });
}

/** Nx plugin entry: `[glob, createNodesFunction]`. */
export const createNodesV2 = ['**/dvc.yaml', createDvcNodes] as const;
/** Nx 22 reads `createNodes` with the V2 signature as well. */
export const createNodes = createNodesV2;
export const name = '@mlops-ts/dvc-adapter/nx-plugin';

/** Whether DVC's local cache (default location) already holds every cached out of the stage. */
function outsInDvcCache(workspaceRoot: string, projectRoot: string, stage: string, outs: { path: string; md5?: string }[]): boolean {
  let cacheFlags: Map<string, boolean>;
  try {
    const read = fileReader(join(workspaceRoot, projectRoot));
    const resolved = resolveDvcYaml(read('dvc.yaml') ?? '', { readFile: read }).find((s) => s.name === stage);
    cacheFlags = new Map((resolved?.outs ?? []).map((o) => [o.path, o.cache]));
  } catch {
    return false;
  }
  const cacheDir = join(workspaceRoot, dvcRootOf(workspaceRoot, projectRoot), '.dvc/cache/files/md5');
  return outs.every((o) => {
    if (cacheFlags.get(o.path) === false) return true;
    if (!o.md5) return false;
    return existsSync(join(cacheDir, o.md5.slice(0, 2), o.md5.slice(2)));
  });
}

const RESTORED = new Set(['local-cache', 'remote-cache', 'local-cache-kept-existing']);

/**
 * After Nx ran tasks: for every stage target that Nx restored from its cache, merge the cached dvc.lock entry back
 * into dvc.lock (and `dvc commit` the stage so DVC's cache holds the restored outs). Without this, a restore brings
 * back outs that dvc.lock may no longer describe, and `dvc status` would call the stage changed.
 */
export async function postTasksExecution(
  options: DvcNxPluginOptions | undefined,
  context: { workspaceRoot: string; taskResults: TaskResultsLike },
): Promise<void> {
  const prefix = options?.targetPrefix ?? DEFAULT_PREFIX;
  const { workspaceRoot } = context;
  const toCommit = new Map<string, string[]>();
  const lockChanged = new Set<string>();
  for (const result of Object.values(context.taskResults)) {
    const { task, status } = result;
    if (!RESTORED.has(status) || !task.target.target.startsWith(prefix)) continue;
    const projectRoot = task.projectRoot === undefined || task.projectRoot === '.' ? '' : task.projectRoot;
    if (!existsSync(join(workspaceRoot, projectRoot, 'dvc.yaml'))) continue;
    const stage = task.target.target.slice(prefix.length);
    const snap = await readSnapshot(join(workspaceRoot, snapshotPathFor(workspaceRoot, projectRoot, stage)));
    if (!snap) {
      throw new DvcYamlError(`${task.target.project}:${task.target.target} was restored without its dvc.lock snapshot`, {
        where: posix.join(projectRoot, 'dvc.yaml'),
        key: stage,
      });
    }
    const changed = await mergeLockEntry(join(workspaceRoot, projectRoot, 'dvc.lock'), snap.stage, snap.entry);
    if (changed) lockChanged.add(projectRoot);
    if (changed || !outsInDvcCache(workspaceRoot, projectRoot, snap.stage, snap.entry.outs ?? [])) {
      toCommit.set(projectRoot, [...(toCommit.get(projectRoot) ?? []), stage]);
    }
  }
  const dvcBin = options?.dvcBin ?? (existsSync(join(workspaceRoot, '.venv/bin/dvc')) ? '.venv/bin/dvc' : 'dvc');
  const bin = dvcBin.includes('/') && !isAbsolute(dvcBin) ? join(workspaceRoot, dvcBin) : dvcBin;
  for (const [projectRoot, stages] of options?.commitRestoredOuts === false ? [] : toCommit) {
    // The lock now matches the restored outs, so this only copies them into .dvc/cache (no prompt, no change).
    const r = await runProcess(bin, ['commit', '--quiet', ...stages], { cwd: join(workspaceRoot, projectRoot) });
    if (r.exitCode !== 0) {
      const why = r.error ? r.error.message : r.stderr.trim();
      throw new DvcYamlError(`dvc commit ${stages.join(' ')} after an Nx cache restore failed: ${why}`, {
        where: posix.join(projectRoot, 'dvc.yaml'),
      });
    }
  }
  for (const projectRoot of lockChanged) await stageRestoredLock(workspaceRoot, projectRoot, bin);
}

/**
 * Keeps git's index in step with a dvc.lock that a restore rewrote, the way DVC itself leaves it after `dvc repro`:
 * with `core.autostage` on, DVC `git add`s dvc.lock after every run, so the restored lock is staged as well; with it
 * off, an index that already differs from HEAD (the lock of other params, staged earlier) gets the restored lock, and
 * an index that matches HEAD is left alone (an unstaged change, as DVC leaves it). Never a `MM dvc.lock` whose staged
 * side disagrees with params.yaml.
 */
export async function stageRestoredLock(workspaceRoot: string, projectRoot: string, dvcBin: string): Promise<'staged' | 'left'> {
  const lock = posix.join(projectRoot, 'dvc.lock');
  const inRepo = await runProcess('git', ['rev-parse', '--is-inside-work-tree'], { cwd: workspaceRoot });
  if (inRepo.exitCode !== 0) return 'left';
  const config = await runProcess(dvcBin, ['config', 'core.autostage'], { cwd: join(workspaceRoot, projectRoot) });
  const autostage = config.exitCode === 0 && /^(true|1|yes|on)$/i.test(config.stdout.trim());
  // exit 1: the index's dvc.lock differs from HEAD's (something staged it)
  const staged = (await runProcess('git', ['diff', '--cached', '--quiet', '--', lock], { cwd: workspaceRoot })).exitCode === 1;
  if (!autostage && !staged) return 'left';
  const add = await runProcess('git', ['add', '--', lock], { cwd: workspaceRoot });
  if (add.exitCode !== 0) {
    throw new DvcYamlError(`git add ${lock} after an Nx cache restore failed: ${add.error?.message ?? add.stderr.trim()}`, { where: lock });
  }
  return 'staged';
}
