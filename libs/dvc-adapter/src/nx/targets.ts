/**
 * Resolved DVC stages → Nx targets (pure). One target per stage; the cache key is exactly the stage's deps and
 * params, the cache entry exactly its outs plus the stage's dvc.lock entry (a snapshot file), so a restore can put
 * dvc.lock back in agreement with the restored outs.
 */
import { posix } from 'node:path';
import type { ResolvedStage } from './stages.js';

/** The subset of Nx's `TargetConfiguration` this plugin produces (structurally compatible with `@nx/devkit`). */
export interface NxTarget {
  executor: 'nx:run-commands';
  options: { command: string; cwd?: string };
  cache: boolean;
  parallelism: boolean;
  dependsOn: (string | { projects: string[]; target: string })[];
  inputs: NxInput[];
  outputs: string[];
  metadata: { description: string; technologies: string[] };
}

export type NxInput =
  | string
  | { runtime: string }
  | { externalDependencies: string[] }
  | { dependentTasksOutputFiles: string; transitive?: boolean };

/** How a dependency (workspace-relative path) is known to Nx. */
export type DepKind =
  /** an out (or inside an out, or containing one) of another stage: keyed by that stage's output files */
  | { kind: 'upstream'; stages: { project: string; target: string; out: string }[] }
  /** data tracked by a committed `.dvc` pointer: keyed by the pointer */
  | { kind: 'pointer'; pointer: string }
  /** git ignores it and nothing points at it: keyed by its content, hashed by the fingerprint command */
  | { kind: 'ignored' }
  /** committed code or data: keyed by the files themselves */
  | { kind: 'committed' };

export interface StageOutRef {
  /** Workspace-relative out path. */
  path: string;
  project: string;
  target: string;
  stage: string;
}

export interface ClassifyFacts {
  /** Every stage out in the workspace (all dvc.yaml files). */
  outs: readonly StageOutRef[];
  /** Whether a workspace-relative file exists (used to find `.dvc` pointers). */
  exists: (wsPath: string) => boolean;
  /** Whether git ignores a workspace-relative path (tracked files are never ignored). */
  isIgnored: (wsPath: string) => boolean;
}

function within(path: string, dir: string): boolean {
  return dir === '' || path === dir || path.startsWith(`${dir}/`);
}

/** Decides how a stage's dependency is keyed (see {@link DepKind}). `self` excludes the stage's own outs. */
export function classifyDep(wsPath: string, self: { project: string; stage: string }, facts: ClassifyFacts): DepKind {
  const upstream = facts.outs
    .filter((o) => !(o.project === self.project && o.stage === self.stage))
    .filter((o) => within(wsPath, o.path) || within(o.path, wsPath))
    .map((o) => ({ project: o.project, target: o.target, out: o.path }));
  if (upstream.length > 0) return { kind: 'upstream', stages: upstream };
  const parts = wsPath.split('/');
  for (let i = parts.length; i > 0; i--) {
    const pointer = `${parts.slice(0, i).join('/')}.dvc`;
    if (facts.exists(pointer)) return { kind: 'pointer', pointer };
  }
  return facts.isIgnored(wsPath) ? { kind: 'ignored' } : { kind: 'committed' };
}

export interface StageTargetsInput {
  /** Nx project name of this dvc.yaml. */
  project: string;
  /** The dvc.yaml folder relative to the workspace root ('' = the root). */
  projectRoot: string;
  stages: readonly ResolvedStage[];
  facts: ClassifyFacts;
  /** Target name for a stage (default `dvc-<stage>`). */
  targetName: (stage: string) => string;
  /** Command prefix that runs this library's stage CLI from the workspace root (`node …/cli.js`). */
  cli: string;
  /** The dvc executable: workspace-relative path (e.g. `.venv/bin/dvc`) or a name on PATH. */
  dvcBin: string;
  /** Workspace-relative path of the dvc.lock entry snapshot the target caches for a stage. */
  snapshotPath: (stage: string) => string;
  /**
   * A .dvcignore has rules: committed deps are then hashed by the fingerprint command, which leaves out what DVC
   * ignores (e.g. `*.test.ts` beside the code), instead of by Nx file globs, which cannot re-include what a rule drops.
   */
  dvcignore?: boolean;
}

/** POSIX shell single-quoting for the arguments the generated commands carry. */
export function shq(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'"'"'`)}'`;
}

const ws = (p: string): string => (p === '' ? '{workspaceRoot}' : `{workspaceRoot}/${p}`);

/** Every workspace-relative out of the given stages, for {@link ClassifyFacts.outs}. */
export function stageOutRefs(input: Pick<StageTargetsInput, 'project' | 'projectRoot' | 'stages' | 'targetName'>): StageOutRef[] {
  return input.stages.flatMap((s) =>
    s.outs.map((o) => ({
      path: posix.join(input.projectRoot, o.path),
      project: input.project,
      target: input.targetName(s.name),
      stage: s.name,
    })),
  );
}

/** The Nx targets of one dvc.yaml, keyed by target name. */
export function stageTargets(input: StageTargetsInput): Record<string, NxTarget> {
  const { project, projectRoot, stages, facts } = input;
  const dvcYaml = posix.join(projectRoot, 'dvc.yaml');
  const targets: Record<string, NxTarget> = {};
  for (const stage of stages) {
    const dependsOn: NxTarget['dependsOn'] = [];
    const seenDeps = new Set<string>();
    const inputs: NxInput[] = [];
    const hashPaths: string[] = [];
    const addInput = (i: NxInput): void => {
      const key = JSON.stringify(i);
      if (!inputs.some((x) => JSON.stringify(x) === key)) inputs.push(i);
    };
    for (const dep of stage.deps) {
      const path = posix.join(projectRoot, dep);
      const kind = classifyDep(path, { project, stage: stage.name }, facts);
      switch (kind.kind) {
        case 'upstream':
          for (const up of kind.stages) {
            const key = `${up.project}:${up.target}`;
            if (!seenDeps.has(key)) {
              seenDeps.add(key);
              dependsOn.push(up.project === project ? up.target : { projects: [up.project], target: up.target });
            }
            // Only the part of the upstream outs this stage reads.
            const base = within(path, up.out) ? path : up.out;
            addInput({ dependentTasksOutputFiles: base });
            addInput({ dependentTasksOutputFiles: `${base}/**/*` });
          }
          // A dependency folder holding upstream outs may also hold committed files.
          if (kind.stages.some((u) => u.out !== path && within(u.out, path))) addInput(`${ws(path)}/**/*`);
          break;
        case 'pointer':
          addInput(ws(kind.pointer));
          break;
        case 'ignored':
          hashPaths.push(path); // content-hashed by the fingerprint command below
          break;
        case 'committed':
          if (input.dvcignore) {
            hashPaths.push(path);
          } else {
            addInput(ws(path));
            addInput(`${ws(path)}/**/*`);
          }
          break;
      }
    }
    // Param values (from params.yaml now, not dvc.lock: before a re-run the lock still holds the old ones), the
    // resolved stage definition, and the content of ignored, unpointed deps (and of code deps under a .dvcignore).
    const hashArgs = hashPaths.map((p) => ` --hash ${shq(p)}`).join('');
    addInput({ runtime: `${input.cli} fingerprint --dvc-yaml ${shq(dvcYaml)} --stage ${shq(stage.name)}${hashArgs}` });
    // Like DVC, the stage is keyed by what dvc.yaml declares: no implicit npm lockfile hash (declare it as a dep).
    addInput({ externalDependencies: [] });

    const snapshot = input.snapshotPath(stage.name);
    const outputs = [...stage.outs.map((o) => ws(posix.join(projectRoot, o.path))), ws(snapshot)];
    const cmd = Array.isArray(stage.cmd) ? stage.cmd.join(' && ') : stage.cmd;
    targets[input.targetName(stage.name)] = {
      executor: 'nx:run-commands',
      options: {
        command: `${input.cli} run --dvc-yaml ${shq(dvcYaml)} --stage ${shq(stage.name)} --dvc ${shq(input.dvcBin)} --snapshot ${shq(snapshot)}`,
      },
      // always_changed stages must run every time, as DVC runs them.
      cache: !stage.alwaysChanged,
      // dvc holds a repository lock: stages never run concurrently.
      parallelism: false,
      dependsOn,
      inputs,
      outputs: [...new Set(outputs)],
      metadata: {
        description: `DVC stage ${stage.name}${stage.desc ? ` (${stage.desc})` : ''}: ${cmd}`,
        technologies: ['dvc'],
      },
    };
  }
  return targets;
}
