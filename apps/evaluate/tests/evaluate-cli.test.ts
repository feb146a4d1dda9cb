// The evaluate stage's answers to missing inputs, through its CLI as dvc.yaml runs it (the full run is covered by
// e2e/tests/pipeline.test.ts against real dvc and a real MLflow server).
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const main = resolve(import.meta.dirname, '../src/main.ts');
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evaluate-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const evaluate = (...args: string[]) =>
  execa('node', ['--conditions=@mlops-ts/source', '--import', tsx, main, ...args], { cwd: dir, reject: false, env: { MLFLOW_TRACKING_URI: '' } });

test('a model that was not trained is named with the stage to run, and nothing is written', async () => {
  const r = await evaluate('--model', 'mlp_x');
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toBe('evaluate: models/mlp_x/run.json not found: run the train@mlp_x stage first');
  expect(await readdir(dir)).toEqual([]);
});

test('a broken run.json is an error naming the field', async () => {
  await mkdir(join(dir, 'models/m'), { recursive: true });
  await writeFile(join(dir, 'models/m/run.json'), JSON.stringify({ model: 'm' }));
  const r = await evaluate('--model', 'm');
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toMatch(/^evaluate: .*experiment/s);
  expect(await readdir(dir)).toEqual(['models']);
});
