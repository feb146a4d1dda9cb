// The committed raw-data pointers are exactly what DVC itself writes, so `dvc commit`, `dvc exp run` and the
// ingest step (which runs `dvc commit -f`) leave them byte-identical and git shows no change nobody made.
// Real dvc CLI from the project venv, in a scratch git + DVC repository.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');
const DVC_BIN = join(ROOT, '.venv/bin/dvc');
const pointers = (await readdir(join(ROOT, 'data/raw'))).filter((f) => f.endsWith('.dvc'));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ingest-pointer-'));
  await execa('git', ['init', '-q'], { cwd: dir });
  await execa(DVC_BIN, ['init', '-q'], { cwd: dir, env: { DVC_NO_ANALYTICS: '1' } });
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('there is a raw-data pointer to check', () => {
  expect(pointers).toContain('flights.parquet.dvc');
});

test.each(pointers)('data/raw/%s is byte-identical after DVC rewrites it (dvc commit -f)', async (name) => {
  const committed = await readFile(join(ROOT, 'data/raw', name), 'utf8');
  // A small stand-in for the data (the real file may not be pulled): only md5 and size change, DVC's layout of
  // every other line (desc, meta, key order, line wrapping) is what the test checks.
  const data = Buffer.from(`stand-in for ${name}\n`);
  const md5 = createHash('md5').update(data).digest('hex');
  const expected = committed.replace(/^(- md5: )[0-9a-f]{32}$/m, `$1${md5}`).replace(/^( {2}size: )\d+$/m, `$1${data.length}`);
  expect(expected).not.toBe(committed);
  const out = /^ {2}path: (.+)$/m.exec(committed)?.[1];
  expect(out).toBeDefined();
  await mkdir(join(dir, 'data/raw'), { recursive: true });
  await writeFile(join(dir, 'data/raw', name), expected);
  await writeFile(join(dir, 'data/raw', out!), data);
  const commit = await execa(DVC_BIN, ['commit', '-f', '-q', `data/raw/${name}`], { cwd: dir, reject: false, env: { DVC_NO_ANALYTICS: '1' } });
  expect(commit.exitCode, commit.stderr).toBe(0);
  expect(await readFile(join(dir, 'data/raw', name), 'utf8')).toBe(expected);
});
