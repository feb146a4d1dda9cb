// Copies of this workspace as a fresh clone has it, for the e2e tests that build, pack or run the pipeline there.
import { execa } from 'execa';
import { copyFile, lstat, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

export const root = resolve(import.meta.dirname, '../..');

/**
 * Copies into `dest` the files git tracks plus the new unignored ones (so uncommitted work is tested too): what a
 * clone of the working tree would hold. Files deleted in the working tree and symlinks (a worktree's .venv) are left out.
 */
export async function copyWorkspaceFiles(dest: string): Promise<void> {
  const { stdout } = await execa('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root });
  for (const rel of stdout.split('\0').filter(Boolean)) {
    if (!(await lstat(join(root, rel)).catch(() => undefined))?.isFile()) continue;
    await mkdir(dirname(join(dest, rel)), { recursive: true });
    await copyFile(join(root, rel), join(dest, rel));
  }
}

/**
 * Links into `dest` the workspace's `node_modules` and every workspace package's own (`apps/<app>/node_modules`,
 * npm's copies of a version that differs from the hoisted one: the stage apps' commander 14 next to a hoisted 7).
 */
export async function linkNodeModules(dest: string): Promise<void> {
  await symlink(join(root, 'node_modules'), join(dest, 'node_modules'));
  const { stdout } = await execa('git', ['ls-files', '-z', '--', '*/package.json'], { cwd: root });
  for (const rel of stdout.split('\0').filter(Boolean)) {
    const dir = dirname(rel);
    const own = join(root, dir, 'node_modules');
    if (dir === '.' || !(await lstat(own).catch(() => undefined))?.isDirectory()) continue;
    await mkdir(join(dest, dir), { recursive: true });
    await symlink(own, join(dest, dir, 'node_modules'));
  }
}

/**
 * A fresh git repository at `repo` for running the pipeline: the workspace's files without the committed pipeline
 * results (dvc.lock, metrics, plots, reports), node_modules and .venv linked to the workspace's, params.yaml edited by
 * `editParams`, everything committed. The node_modules links are committed too (`node_modules/` in .gitignore
 * matches folders, not links): a clearml-agent's checkout of this repository on the same machine finds them.
 */
export async function pipelineRepo<P>(repo: string, editParams: (params: P) => void): Promise<void> {
  await copyWorkspaceFiles(repo);
  for (const stale of ['dvc.lock', 'metrics', 'plots', 'reports']) await rm(join(repo, stale), { recursive: true, force: true });
  await linkNodeModules(repo);
  await symlink(join(root, '.venv'), join(repo, '.venv'));
  const params = parse(await readFile(join(repo, 'params.yaml'), 'utf8')) as P;
  editParams(params);
  await writeFile(join(repo, 'params.yaml'), stringify(params));
  const git = (...args: string[]) => execa('git', args, { cwd: repo });
  await git('init', '-q', '-b', 'main');
  await git('add', '-A');
  await git('-c', 'user.email=e2e@test', '-c', 'user.name=e2e', 'commit', '-qm', 'fresh clone');
}
