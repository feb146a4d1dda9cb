// The compare stage's answers to bad input, through its CLI as dvc.yaml runs it (ranking and registration are
// covered by libs/tracking against a real MLflow server and by e2e/tests/pipeline.test.ts).
import { execa } from 'execa';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';

const main = resolve(import.meta.dirname, '../src/main.ts');
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'compare-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function compare(params: Record<string, unknown>) {
  await writeFile(join(dir, 'params.yaml'), stringify(params));
  return execa('node', ['--conditions=@mlops-ts/source', '--import', tsx, main], { cwd: dir, reject: false, env: { MLFLOW_TRACKING_URI: '' } });
}

const models = { logreg: { type: 'logreg' } };
const tracking = { experiment: 'e' };

test('a compare section without its registered model names the key and the file', async () => {
  const r = await compare({ models, tracking, compare: { metric: 'roc_auc' } });
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toMatch(/^compare: params\.yaml: compare\.registered_model: /);
});

test('a bad alias is named', async () => {
  const r = await compare({ models, tracking, compare: { registered_model: 'm', alias: '1st place' } });
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toMatch(/compare\.alias: an alias is letters, digits, _ and -/);
});

test('a model without a trained run is named with the stage to run; no ranking is written', async () => {
  const r = await compare({ models, tracking, compare: { registered_model: 'm' } });
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toBe('compare: models/logreg/run.json not found: run the train@logreg stage first');
  expect((await readdir(dir)).sort()).toEqual(['params.yaml']);
});
