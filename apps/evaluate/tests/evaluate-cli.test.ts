// The evaluate stage through its CLI as dvc.yaml runs it: a missing model names the stage to run; on penguins it
// writes the model's and the baseline's metrics without a tracker, and with a real MLflow server but no run record
// (as after `dvc pull` on another machine) it starts a run linked to the model, tagged with its md5 from dvc.lock.
import { MlflowClient, startLocalMlflowServer, type LocalMlflowServer } from '@mlops-ts/mlflow-client';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { penguinsFeatures, root, runStageCli } from '../../../tools/testing/stage-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evaluate-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test('a model that was not trained is named with the stage to run, and nothing is written', async () => {
  const cwd = await mkdtemp(join(dir, 'empty-'));
  await writeFile(join(cwd, 'params.yaml'), stringify({ tracking: { experiment: 'e' } }));
  const r = await runStageCli('evaluate', ['--model', 'mlp_x', '--no-tracking'], { cwd });
  expect(r.exitCode).toBe(1);
  expect(r.stderr.split('\n').at(-1)).toMatch(/^evaluate: models\/mlp_x: no trained model \(.*\): run the train@mlp_x stage first$/);
  expect(await readdir(cwd)).toEqual(['params.yaml']);
});

describe('on penguins', () => {
  let cwd: string;
  let features: string;
  beforeAll(async () => {
    cwd = await mkdtemp(join(dir, 'penguins-'));
    let params: Record<string, unknown>;
    ({ features, params } = await penguinsFeatures(join(dir, 'data'), 2));
    await writeFile(join(cwd, 'params.yaml'), stringify({ ...params, tracking: { experiment: 'penguins-eval' } }));
    const r = await runStageCli('train', ['--model', 'logreg', '--features', features, '--no-tracking'], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
  });

  test('without a tracker: the model and the majority-class baseline beside it, the same bytes on a rerun', async () => {
    const first = await runStageCli('evaluate', ['--model', 'logreg', '--features', features, '--no-tracking'], { cwd });
    expect(first.exitCode, first.stderr).toBe(0);
    const bytes = await readFile(join(cwd, 'metrics/eval/logreg.json'), 'utf8');
    const metrics = JSON.parse(bytes) as Record<string, number> & { baseline: Record<string, number | string> };
    const meta = JSON.parse(await readFile(join(features, 'meta.json'), 'utf8')) as { classCounts: { train: number[]; test: number[] }; rows: { test: number } };
    const majority = meta.classCounts.train.indexOf(Math.max(...meta.classCounts.train));
    expect(metrics.baseline).toMatchObject({ name: 'majority_class', accuracy: meta.classCounts.test[majority]! / meta.rows.test, roc_auc: 0.5 });
    for (const k of ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss']) expect(typeof metrics[k]).toBe('number');
    expect((await readdir(join(cwd, 'plots/logreg'))).sort()).toEqual(['confusion.json', 'pr.json', 'roc.json']);
    const again = await runStageCli('evaluate', ['--model', 'logreg', '--features', features, '--no-tracking'], { cwd });
    expect(again.exitCode).toBe(0);
    expect(await readFile(join(cwd, 'metrics/eval/logreg.json'), 'utf8')).toBe(bytes);
  });

  describe('with a real MLflow server', () => {
    let server: LocalMlflowServer;
    let client: MlflowClient;
    beforeAll(async () => {
      server = await startLocalMlflowServer({ dir: join(dir, 'server'), mlflowBin: join(root, '.venv/bin/mlflow') });
      client = new MlflowClient({ trackingUri: server.uri });
    }, 180_000);
    afterAll(async () => {
      await client?.close();
      await server?.stop();
    });

    test('no run record: said once, a new run linked to the model and tagged with its dvc.lock md5 gets the test metrics', async () => {
      await rm(join(cwd, '.mlops'), { recursive: true, force: true });
      const md5 = 'a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5.dir';
      await writeFile(join(cwd, 'dvc.lock'), stringify({ schema: '2.0', stages: { 'train@logreg': { cmd: 'train', outs: [{ path: 'models/logreg', hash: 'md5', md5 }] } } }));
      const r = await runStageCli('evaluate', ['--model', 'logreg', '--features', features], { cwd, env: { MLFLOW_TRACKING_URI: server.uri } });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr.split('\n').filter((l) => /no run record/.test(l))).toHaveLength(1);
      const record = JSON.parse(await readFile(join(cwd, '.mlops/runs/logreg.json'), 'utf8')) as { ref: { mlflow: string }; tracking: unknown; loggedModelId: string };
      expect(record.tracking).toEqual({ kind: 'server', uri: server.uri });
      const run = await client.getRun(record.ref.mlflow);
      const tags = Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
      expect(tags).toMatchObject({ 'mlops.model': 'logreg', 'mlops.model_md5': md5, 'mlops.dvc_stage': 'evaluate@logreg', 'mlops.logged_model_id': record.loggedModelId });
      const metrics = Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, Number(m.value)]));
      const file = JSON.parse(await readFile(join(cwd, 'metrics/eval/logreg.json'), 'utf8')) as { accuracy: number; baseline: { accuracy: number } };
      expect(metrics['test_accuracy']).toBeCloseTo(file.accuracy, 10);
      expect(metrics['baseline_test_accuracy']).toBeCloseTo(file.baseline.accuracy, 10);
      expect(run.info.status).toBe('FINISHED');
    });
  });
});
