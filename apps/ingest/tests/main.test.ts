// The ingest CLI as tools/setup.sh runs it, in a temporary git + DVC repository with a local remote and a pinned
// "npm package" in its node_modules (real dvc CLI from the project venv).
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');
const DVC_BIN = join(ROOT, '.venv/bin/dvc');
const content = 'x,y\n' + Array.from({ length: 100 }, (_, i) => `${i},${i * i}`).join('\n') + '\n';
let dir: string;
let remote: string;

const ingest = (...args: string[]) =>
  execa('node', ['--conditions=@mlops-ts/source', '--import', 'tsx', 'apps/ingest/src/main.ts', '--cwd', dir, ...args], {
    cwd: ROOT,
    reject: false,
    env: { MLOPS_DVC_BIN: DVC_BIN },
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ingest-app-'));
  remote = await mkdtemp(join(tmpdir(), 'ingest-app-remote-'));
  const git = (...a: string[]) => execa('git', a, { cwd: dir });
  const dvc = (...a: string[]) => execa(DVC_BIN, a, { cwd: dir, env: { DVC_NO_ANALYTICS: '1' } });
  await git('init', '-q');
  await dvc('init', '-q');
  await mkdir(join(dir, 'data/raw'), { recursive: true });
  await writeFile(join(dir, 'data/raw/points.csv'), content);
  await dvc('add', '-q', 'data/raw/points.csv');
  const pointer = join(dir, 'data/raw/points.csv.dvc');
  await writeFile(pointer, (await readFile(pointer, 'utf8')) + 'meta:\n  source:\n    npm: "@fake/points@0.3.0"\n    file: points.csv\n');
  await dvc('remote', 'add', '--local', '-d', 'local', remote);
  await mkdir(join(dir, 'node_modules/@fake/points'), { recursive: true });
  await writeFile(join(dir, 'node_modules/@fake/points/package.json'), JSON.stringify({ name: '@fake/points', version: '0.3.0' }));
  await writeFile(join(dir, 'node_modules/@fake/points/points.csv'), content);
  await rm(join(dir, 'data/raw/points.csv'));
  await rm(join(dir, '.dvc/cache'), { recursive: true });
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  if (remote) await rm(remote, { recursive: true, force: true });
});

test('materializes missing data from the pinned package, pushes it, and is a no-op the second time', async () => {
  const first = await ingest();
  expect(first.exitCode, first.stderr).toBe(0);
  expect(first.stderr).toContain('[ingest] data/raw/points.csv.dvc: the remote does not have it');
  expect(first.stderr).toContain("[ingest] data/raw/points.csv: pushed to remote 'local'");
  expect(first.stderr).toMatch(/\[ingest\] done in [\d.]+ s: 1 materialized$/m);
  // Each step of each file is said once (the summary does not repeat the per-file lines).
  const lines = first.stderr.split('\n').filter(Boolean);
  expect(lines.length).toBeGreaterThan(3);
  expect(new Set(lines).size).toBe(lines.length);
  expect(await readFile(join(dir, 'data/raw/points.csv'), 'utf8')).toBe(content);
  expect((await readdir(remote, { recursive: true })).length).toBeGreaterThan(0);
  const second = await ingest('data/raw/points.csv.dvc');
  expect(second.exitCode, second.stderr).toBe(0);
  const present = second.stderr.split('\n').filter((l) => l.includes('data/raw/points.csv: present'));
  expect(present).toEqual(['[ingest] data/raw/points.csv: present, md5 matches data/raw/points.csv.dvc']);
  expect(second.stderr).toMatch(/done in [\d.]+ s: 1 present$/m);
});

test('a package whose file differs from the pointer stops with exit code 1 and names the md5s', async () => {
  await rm(join(dir, 'data/raw/points.csv'));
  await rm(join(dir, '.dvc/cache'), { recursive: true });
  await rm(remote, { recursive: true });
  await mkdir(remote);
  await writeFile(join(dir, 'node_modules/@fake/points/points.csv'), content + '100,10000\n');
  const run = await ingest('--no-push');
  expect(run.exitCode).toBe(1);
  expect(run.stderr).toMatch(/^ingest: md5 mismatch for data\/raw\/points\.csv \(copied from @fake\/points@0\.3\.0\/points\.csv\): the pointer expects [0-9a-f]{32}, the data has [0-9a-f]{32}/m);
  expect(await readdir(join(dir, 'data/raw'))).toEqual(['.gitignore', 'points.csv.dvc']);
});
