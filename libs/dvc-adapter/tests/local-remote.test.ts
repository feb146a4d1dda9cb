// The local-remote scenario: push, wipe the cache and the workspace copy, pull restores byte-identical data.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { md5File, readDvcPointer } from '../src/index.js';
import { makeRepo, type TempRepo } from './helpers.js';

let repo: TempRepo;
let remoteDir: string;

beforeAll(async () => {
  repo = await makeRepo('local-remote');
  remoteDir = await mkdtemp(join(tmpdir(), 'dvc-adapter-local-remote-'));
});
afterAll(async () => {
  await repo?.cleanup();
  if (remoteDir) await rm(remoteDir, { recursive: true, force: true });
});

test('push, wipe cache and workspace, pull restores the same bytes; status -c is clean', async () => {
  const { dvc, dir } = repo;
  const bytes = randomBytes(4096);
  await writeFile(join(dir, 'blob.bin'), bytes);
  await dvc.add('blob.bin');
  const pointer = await readDvcPointer(join(dir, 'blob.bin.dvc'));
  // md5File computes exactly the hash dvc records.
  expect(pointer.outs[0]).toMatchObject({ path: 'blob.bin', size: 4096, md5: await md5File(join(dir, 'blob.bin')) });

  await dvc.remoteAdd('local', remoteDir, { default: true });
  const before = await dvc.status({ cloud: true });
  expect(before).toEqual({ kind: 'cloud', clean: false, files: { 'blob.bin': 'new' } });
  const pushed = await dvc.push();
  expect(pushed.counts).toEqual({ pushed: 1 });
  expect(await dvc.status({ cloud: true })).toEqual({ kind: 'cloud', clean: true, files: {} });

  await rm(join(dir, '.dvc/cache'), { recursive: true });
  await rm(join(dir, 'blob.bin'));
  expect(await dvc.status({ remote: 'local' })).toEqual({ kind: 'cloud', clean: false, files: { 'blob.bin': 'deleted' } });
  const pulled = await dvc.pull();
  expect(pulled.changes.added).toEqual(['blob.bin']);
  expect(Buffer.compare(await readFile(join(dir, 'blob.bin')), bytes)).toBe(0);
  expect((await dvc.status({ cloud: true })).clean).toBe(true);

  // fetch fills the cache without touching the workspace.
  await rm(join(dir, '.dvc/cache'), { recursive: true });
  const fetched = await dvc.fetch({ targets: ['blob.bin.dvc'] });
  expect(fetched.counts).toEqual({ fetched: 1 });
  const cached = join(dir, '.dvc/cache/files/md5', pointer.outs[0]!.md5!.slice(0, 2), pointer.outs[0]!.md5!.slice(2));
  expect((await stat(cached)).size).toBe(4096);
});
