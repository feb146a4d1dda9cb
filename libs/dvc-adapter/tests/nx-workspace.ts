// A temp git + DVC + Nx 22 workspace whose nx.json lists this plugin, for the tests where Nx and DVC must agree
// (real dvc from the project venv, real Nx from the workspace's node_modules).
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { DVC_BIN, ROOT } from './helpers.js';

const NX = join(ROOT, 'node_modules/nx/dist/bin/nx.js');
const PLUGIN = join(ROOT, 'libs/dvc-adapter/nx-plugin.cjs');

export interface NxDvcWorkspace {
  dir: string;
  /** Runs a command in the workspace; a non-zero exit throws with its whole output. Returns stdout + stderr. */
  run(file: string, args: string[]): Promise<string>;
  dvc(...args: string[]): Promise<string>;
  nx(...args: string[]): Promise<string>;
  git(...args: string[]): Promise<string>;
  dvcStatus(): Promise<Record<string, unknown>>;
  remove(): Promise<void>;
}

/**
 * Writes `files` (path → content; dvc.yaml among them) beside package.json and nx.json, then `git init` and
 * `dvc init` (analytics off). Nothing is committed: each test adds its own DVC setup first.
 */
export async function createNxDvcWorkspace(opts: { prefix: string; files: Record<string, string> }): Promise<NxDvcWorkspace> {
  // The child environment has none of the NX_* variables of an outer Nx run (they would redirect the inner one).
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('NX_')) env[k] = v;
  Object.assign(env, { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' });
  const dir = await mkdtemp(join(tmpdir(), `${opts.prefix}-`));
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  await mkdir(join(dir, '.venv/bin'), { recursive: true });
  await symlink(DVC_BIN, join(dir, '.venv/bin/dvc'));
  const files: Record<string, string> = {
    '.gitignore': 'node_modules\n.venv\n.nx\n',
    'package.json': `{ "name": "${opts.prefix}-fixture", "private": true }\n`,
    'nx.json': JSON.stringify({ plugins: [{ plugin: PLUGIN, options: { projectName: 'pipeline' } }] }),
    ...opts.files,
  };
  for (const [file, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), content);
  }
  const run = async (file: string, args: string[]): Promise<string> => {
    const r = await execa(file, args, { cwd: dir, env, extendEnv: false, all: true, reject: false });
    if (r.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.exitCode}):\n${r.all}`);
    return r.all;
  };
  const dvc = (...args: string[]) => run(DVC_BIN, args);
  const git = (...args: string[]) => run('git', args);
  await git('init', '-q', '-b', 'main');
  await git('config', 'user.email', 'test@example.com');
  await git('config', 'user.name', 'test');
  await dvc('init', '-q');
  await dvc('config', 'core.analytics', 'false');
  return {
    dir,
    run,
    dvc,
    git,
    nx: (...args: string[]) => run(process.execPath, [NX, ...args]),
    dvcStatus: async () => JSON.parse(await dvc('status', '--json')) as Record<string, unknown>,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Per task of an `nx run`/`run-many` output: whether Nx took it from its cache. */
export function nxCacheHits(output: string): Record<string, boolean> {
  const hits: Record<string, boolean> = {};
  // Under an outer Nx run (FORCE_COLOR set), the inner Nx colours its lines: read them without the escapes.
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  for (const m of plain.matchAll(/^> nx run pipeline:(dvc-\w+)(.*)$/gm)) hits[m[1] ?? ''] = /local cache|existing outputs match/.test(m[2] ?? '');
  return hits;
}
