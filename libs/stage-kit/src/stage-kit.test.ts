import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { gitFacts, paramsSection, readParamsFile, runStage, StageParamsError } from './index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stage-kit-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test('params: a section is validated and every problem names its key and the file', async () => {
  const file = join(dir, 'params.yaml');
  await writeFile(file, 'train:\n  epochs: -1\n  lr: fast\n');
  const params = await readParamsFile(file);
  const schema = z.object({ epochs: z.int().min(1), lr: z.number() });
  const err = (() => {
    try {
      paramsSection(params, 'train', schema, file);
    } catch (e) {
      return e as StageParamsError;
    }
    return undefined;
  })();
  expect(err).toBeInstanceOf(StageParamsError);
  expect(err?.problems).toEqual([
    { key: 'train.epochs', message: 'must be >= 1 (got -1)' },
    { key: 'train.lr', message: 'must be a number (got "fast")' },
  ]);
  expect(err?.message).toBe(`${file}: train.epochs: must be >= 1 (got -1)\n${file}: train.lr: must be a number (got "fast")`);
  expect(() => paramsSection(params, 'models', schema, file)).toThrow(/models: section missing/);
  expect(paramsSection({ train: { epochs: 3, lr: 0.1 } }, 'train', schema)).toEqual({ epochs: 3, lr: 0.1 });
});

test('params: a missing, broken or non-mapping file is an error naming it', async () => {
  await expect(readParamsFile(join(dir, 'nope.yaml'))).rejects.toThrow(/nope\.yaml: cannot read params file \(ENOENT\)/);
  await writeFile(join(dir, 'list.yaml'), '- 1\n- 2\n');
  await expect(readParamsFile(join(dir, 'list.yaml'))).rejects.toThrow(/list\.yaml: params file is not a YAML mapping/);
  await writeFile(join(dir, 'bad.yaml'), 'a: [1\n');
  await expect(readParamsFile(join(dir, 'bad.yaml'))).rejects.toThrow(/bad\.yaml: not valid YAML/);
});

test('runStage turns an error into one line per message line and the exit code of the table', async () => {
  let out = '';
  expect(await runStage('train', async () => undefined, (s) => (out += s))).toBe(0);
  expect(await runStage('train', async () => { throw new Error('models.x.type: unknown'); }, (s) => (out += s))).toBe(1);
  expect(await runStage('train', async () => { throw new StageParamsError('p.yaml', [{ key: 'a', message: 'bad' }, { key: 'b', message: 'worse' }]); }, (s) => (out += s))).toBe(2);
  expect(out).toBe('train: models.x.type: unknown\ntrain: p.yaml: a: bad\ntrain: p.yaml: b: worse\n');
});

test('gitFacts reads HEAD in a repository and nothing outside one', async () => {
  const repo = join(dir, 'repo');
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  await writeFile(join(repo, 'f'), 'x');
  execFileSync('git', ['-C', repo, 'add', 'f']);
  execFileSync('git', ['-C', repo, '-c', 'user.email=a@b', '-c', 'user.name=a', 'commit', '-qm', 'c']);
  const head = execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD']).toString().trim();
  expect(await gitFacts(repo)).toEqual({ commit: head, branch: 'main', dirty: false });
  await writeFile(join(repo, 'f'), 'y');
  expect((await gitFacts(repo)).dirty).toBe(true);
  expect(await gitFacts(tmpdir())).toEqual({});
});

test('atomic writes create parent folders, replace whole files and leave no temporary file', async () => {
  const { writeFileAtomic, writeJsonAtomic } = await import('./index.js');
  const { readdir, readFile } = await import('node:fs/promises');
  const file = join(dir, 'out/deep/result.json');
  await writeJsonAtomic(file, { a: 1 });
  await writeJsonAtomic(file, { b: [2] });
  expect(await readFile(file, 'utf8')).toBe('{\n  "b": [\n    2\n  ]\n}\n');
  expect(await readdir(join(dir, 'out/deep'))).toEqual(['result.json']);
  await expect(writeFileAtomic(join(file, 'under-a-file.txt'), 'x')).rejects.toMatchObject({ code: expect.stringMatching(/^(ENOTDIR|EEXIST)$/) });
});
