// The compare stage through its CLI as dvc.yaml runs it: params errors (exit 2), missing metrics (exit 1), and the
// ranking from the metrics files. A tracking URI on a closed port shows that nothing tries to register when no model
// beats the baseline or the champion has no run record (registration itself: libs/tracking against a real server).
import { freePort } from '@mlops-ts/mlflow-client';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runStageCli } from '../../../tools/testing/stage-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'compare-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function compare(params: Record<string, unknown>, metrics: Record<string, { accuracy: number; roc_auc: number }> = {}, env: Record<string, string> = {}) {
  const cwd = await mkdtemp(join(dir, 'case-'));
  await writeFile(join(cwd, 'params.yaml'), stringify(params));
  if (Object.keys(metrics).length > 0) await mkdir(join(cwd, 'metrics/eval'), { recursive: true });
  for (const [model, m] of Object.entries(metrics)) {
    await writeFile(join(cwd, 'metrics/eval', `${model}.json`), JSON.stringify({ model, ...m, baseline: { name: 'majority_class', accuracy: 0.44, roc_auc: 0.5 } }));
  }
  return { ...(await runStageCli('compare', [], { cwd, env })), cwd };
}

const models = { logreg: { type: 'logreg' }, mlp: { type: 'mlp', layers: [8] } };
const closedPort = async () => ({ MLFLOW_TRACKING_URI: `http://127.0.0.1:${await freePort()}`, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' });

test('a compare section without its registered model names the key and the file (exit 2)', async () => {
  const r = await compare({ models, compare: { metric: 'roc_auc', alias: '1st place' } });
  expect(r.exitCode).toBe(2);
  expect(r.stderr.split('\n')).toEqual(['compare: params.yaml: compare.registered_model: is required (a string)', 'compare: params.yaml: compare.alias: an alias is letters, digits, _ and -']);
});

test('a model without metrics is named with the stage to run; no ranking is written', async () => {
  const r = await compare({ models, compare: { registered_model: 'm' } }, { logreg: { accuracy: 0.9, roc_auc: 0.9 } });
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toBe('compare: metrics/eval/mlp.json not found: run the evaluate@mlp stage first');
  expect((await readdir(r.cwd)).sort()).toEqual(['metrics', 'params.yaml']);
  expect(await readdir(join(r.cwd, 'metrics'))).toEqual(['eval']);
});

test('no model beats the baseline: one line, no champion and the reason in compare.json, no registry contacted', async () => {
  const r = await compare({ models, compare: { metric: 'accuracy', registered_model: 'm' } }, { logreg: { accuracy: 0.35, roc_auc: 0.6 }, mlp: { accuracy: 0.41, roc_auc: 0.7 } }, await closedPort());
  expect(r.exitCode, r.stderr).toBe(0);
  const reason = 'no model beats the majority-class baseline on accuracy: the best, mlp, scores 0.41 against 0.44';
  expect(r.stderr.split('\n').filter((l) => l.includes('nothing registered'))).toEqual([`[compare] ${reason}; nothing registered`]);
  const summary = JSON.parse(await readFile(join(r.cwd, 'metrics/compare.json'), 'utf8')) as Record<string, unknown>;
  expect(summary).toMatchObject({ metric: 'accuracy', champion: null, reason, baseline: { name: 'majority_class', score: 0.44 } });
  expect(await readFile(join(r.cwd, 'metrics/compare.csv'), 'utf8')).toMatch(/^rank,model,score,accuracy,/);
});

test('a champion without a run record (trained elsewhere): said once, ranked and crowned, not registered', async () => {
  const r = await compare({ models, compare: { metric: 'roc_auc', registered_model: 'm' } }, { logreg: { accuracy: 0.8, roc_auc: 0.9 }, mlp: { accuracy: 0.85, roc_auc: 0.8 } }, await closedPort());
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr.split('\n').filter((l) => /no run record/.test(l))).toHaveLength(1);
  const summary = JSON.parse(await readFile(join(r.cwd, 'metrics/compare.json'), 'utf8')) as { champion: unknown; ranking: { model: string }[] };
  expect(summary.champion).toEqual({ model: 'logreg', score: 0.9, links: { mlflow: null, clearml: null } });
  expect(summary.ranking.map((x) => x.model)).toEqual(['logreg', 'mlp']);
});
