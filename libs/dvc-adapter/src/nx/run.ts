/** Running one stage for Nx and putting a cached stage's dvc.lock entry back. */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { execa } from 'execa';
import { DvcNxStageError } from './errors.js';
import { mergeLockEntry, readLockEntry, readSnapshot, writeSnapshot } from './lock.js';

export interface RunStageOptions {
  workspaceRoot: string;
  /** dvc.yaml relative to the workspace root. */
  dvcYaml: string;
  stage: string;
  /** Workspace-relative path, absolute path, or a name on PATH. */
  dvcBin: string;
  /** Workspace-relative path of the lock snapshot to write. */
  snapshot: string;
}

function binPath(workspaceRoot: string, bin: string): string {
  return bin.includes('/') && !isAbsolute(bin) ? resolve(workspaceRoot, bin) : bin;
}

/** `dvc repro --single-item <stage>` in the dvc.yaml folder (output streamed), then snapshots its dvc.lock entry. */
export async function runStage(options: RunStageOptions): Promise<void> {
  const dir = join(options.workspaceRoot, dirname(options.dvcYaml));
  const args = ['repro', '--single-item', options.stage];
  const result = await execa(binPath(options.workspaceRoot, options.dvcBin), args, {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
    reject: false,
  });
  if (result.failed) {
    const why = result.exitCode !== undefined ? `exit code ${result.exitCode}` : result.shortMessage;
    throw new DvcNxStageError(`\`dvc ${args.join(' ')}\` failed (${why})`, options);
  }
  const entry = await readLockEntry(join(dir, 'dvc.lock'), options.stage);
  if (!entry) throw new DvcNxStageError('dvc repro succeeded but dvc.lock has no entry for the stage', options);
  await writeSnapshot(join(options.workspaceRoot, options.snapshot), {
    version: 1,
    dvcYaml: options.dvcYaml,
    stage: options.stage,
    entry,
  });
}

/** Merges a snapshot into the dvc.lock beside its dvc.yaml. Returns whether dvc.lock changed. */
export async function restoreStageLock(options: { workspaceRoot: string; snapshot: string }): Promise<boolean> {
  const file = join(options.workspaceRoot, options.snapshot);
  const snap = await readSnapshot(file);
  if (!snap) throw new DvcNxStageError(`no lock snapshot at ${options.snapshot}`, { stage: '?', dvcYaml: '?' });
  return mergeLockEntry(join(options.workspaceRoot, dirname(snap.dvcYaml), 'dvc.lock'), snap.stage, snap.entry);
}
