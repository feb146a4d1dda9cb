// restoreTrackedData against the real dvc CLI: present, materialize (remote lacks it), pull, md5 mismatch,
// version mismatch, local changes, failing push. The "npm package" is a real folder in the repo's node_modules.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataIntegrityError, DataRestoreError, md5File, restoreTrackedData } from '../src/index.js';
import { makeRepo, type TempRepo } from './helpers.js';

let repo: TempRepo;
let remoteDir: string;
let pointerText: string;
const content = 'id,value\n' + Array.from({ length: 200 }, (_, i) => `${i},${(i * 7) % 13}`).join('\n') + '\n';
const pkgDir = () => join(repo.dir, 'node_modules/fake-data');
const target = () => join(repo.dir, 'data/raw/table.csv');
const messages: string[] = [];
const restore = (extra: Partial<Parameters<typeof restoreTrackedData>[0]> = {}) =>
  restoreTrackedData({ dvc: repo.dvc, onProgress: (m) => messages.push(m), ...extra });

async function writePackage(version: string, data: string): Promise<void> {
  await mkdir(join(pkgDir(), 'data'), { recursive: true });
  await writeFile(join(pkgDir(), 'package.json'), JSON.stringify({ name: 'fake-data', version }));
  await writeFile(join(pkgDir(), 'data/table.csv'), data);
}
async function wipeLocal(): Promise<void> {
  await rm(target(), { force: true });
  await rm(join(repo.dir, '.dvc/cache'), { recursive: true, force: true });
}
async function emptyRemote(): Promise<void> {
  await rm(remoteDir, { recursive: true, force: true });
  await mkdir(remoteDir);
}
async function leftovers(): Promise<string[]> {
  return (await readdir(join(repo.dir, 'data/raw'))).filter((f) => f.endsWith('.tmp'));
}

beforeAll(async () => {
  repo = await makeRepo('restore');
  remoteDir = await mkdtemp(join(tmpdir(), 'dvc-adapter-restore-remote-'));
  await mkdir(join(repo.dir, 'data/raw'), { recursive: true });
  await writeFile(target(), content);
  await repo.dvc.add('data/raw/table.csv');
  const pointerFile = join(repo.dir, 'data/raw/table.csv.dvc');
  // A long desc on one line: dvc would wrap it when it rewrites the pointer; the committed bytes must stay.
  const withMeta = (await readFile(pointerFile, 'utf8')).replace(
    '  path: table.csv\n',
    '  path: table.csv\n  desc: A small table (id, value) used to check that restoring data keeps the pointer byte for byte.\n',
  );
  await writeFile(pointerFile, withMeta + 'meta:\n  source:\n    npm: fake-data@1.2.3\n    file: data/table.csv\n');
  pointerText = await readFile(pointerFile, 'utf8');
  await repo.dvc.remoteAdd('local', remoteDir, { default: true, level: 'local' });
  await repo.git('add', '-A');
  await repo.git('commit', '-q', '-m', 'pointer with meta.source');
  await writePackage('1.2.3', content);
});
afterAll(async () => {
  await repo?.cleanup();
  if (remoteDir) await rm(remoteDir, { recursive: true, force: true });
});

test('a workspace file with the pointer md5 is left alone', async () => {
  messages.length = 0;
  const [result] = await restore();
  expect(result).toMatchObject({ pointer: 'data/raw/table.csv.dvc', paths: ['data/raw/table.csv'], action: 'present' });
  // the outcome is the result, not a progress line too (the ingest app printed each file twice)
  expect(messages).toEqual([]);
});

test('the remote lacks the data: materialized from the package, md5 checked, cached, pushed; pointer unchanged', async () => {
  await wipeLocal();
  messages.length = 0;
  const [result] = await restore();
  expect(result).toMatchObject({ action: 'materialized', pushed: true, pullSkipped: 'the remote does not have it', warnings: [] });
  expect(await readFile(target(), 'utf8')).toBe(content);
  expect(await readFile(join(repo.dir, 'data/raw/table.csv.dvc'), 'utf8')).toBe(pointerText);
  expect(await leftovers()).toEqual([]);
  expect(await repo.dvc.status({ cloud: true })).toMatchObject({ clean: true });
  expect(await repo.dvc.status()).toMatchObject({ clean: true });
  expect(messages.some((m) => m.includes('materializing from fake-data@1.2.3'))).toBe(true);
});

test('the remote has the data: dvc pull restores identical bytes', async () => {
  await wipeLocal();
  messages.length = 0;
  const [result] = await restore();
  expect(result).toMatchObject({ action: 'pulled', pushed: undefined });
  expect(messages).toEqual(["data/raw/table.csv.dvc: dvc pull from remote 'local'"]);
  expect(await readFile(target(), 'utf8')).toBe(content);
});

test('a tampered package file stops with the file, expected and actual md5, leaving nothing behind', async () => {
  const expected = await md5File(target());
  await wipeLocal();
  await emptyRemote();
  await writePackage('1.2.3', content.replace('0,0', '0,1'));
  const err = (await restore().catch((e: unknown) => e)) as DataIntegrityError;
  expect(err).toBeInstanceOf(DataIntegrityError);
  expect(err.file).toBe('data/raw/table.csv');
  expect(err.expectedMd5).toBe(expected);
  expect(err.actualMd5).toBe(await md5File(join(pkgDir(), 'data/table.csv')));
  expect(err.actualMd5).not.toBe(expected);
  expect(err.message).toContain(expected);
  expect(await readdir(join(repo.dir, 'data/raw'))).toEqual(['.gitignore', 'table.csv.dvc']);
});

test('an installed version other than the pinned one is refused', async () => {
  await writePackage('1.2.4', content);
  const err = (await restore({ push: false }).catch((e: unknown) => e)) as DataRestoreError;
  expect(err).toBeInstanceOf(DataRestoreError);
  expect(err.message).toMatch(/pins fake-data@1\.2\.3 .* holds version 1\.2\.4/);
  expect(await leftovers()).toEqual([]);
});

test('a locally modified data file is not overwritten unless forced', async () => {
  await writePackage('1.2.3', content);
  await writeFile(target(), 'my local edits\n');
  const err = (await restore().catch((e: unknown) => e)) as DataRestoreError;
  expect(err).toBeInstanceOf(DataRestoreError);
  expect(err.message).toContain('may hold local changes');
  expect(await readFile(target(), 'utf8')).toBe('my local edits\n');
  const [forced] = await restore({ force: true, push: false });
  expect(forced).toMatchObject({ action: 'materialized', pushed: undefined });
  expect(await readFile(target(), 'utf8')).toBe(content);
});

test('a failing push is a warning, not an error', async () => {
  await wipeLocal();
  await writeFile(join(repo.dir, 'not-a-dir'), 'x');
  await repo.dvc.remoteAdd('broken', join(repo.dir, 'not-a-dir/remote'), { level: 'local' });
  const [result] = await restore({ remote: 'broken' });
  expect(result?.action).toBe('materialized');
  expect(result?.pushed).toBe(false);
  expect(result?.warnings[0]).toMatch(/push to remote 'broken' failed/);
  expect(await readFile(target(), 'utf8')).toBe(content);
});
