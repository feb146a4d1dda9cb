// The MLflow side of the port against a real `mlflow server` (SQLite, served artifacts) started here.
import type { MlflowClient } from '@mlops-ts/mlflow-client';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MlflowTracker, openTracking, PipelineTags, rankingCsv, rankMlflowRuns, registerChampion, trackingConfigFromEnv, TrackingParamsSchema } from '../src/index.js';
import { useMlflowServer } from './mlflow-server.js';

const mlflow = useMlflowServer('tracking-mlflow');
let dir: string;
let client: MlflowClient;
beforeAll(() => {
  ({ dir, client } = mlflow);
});

async function modelFolder(name: string): Promise<string> {
  const d = join(dir, name);
  await mkdir(d, { recursive: true });
  await writeFile(join(d, 'model.json'), JSON.stringify({ name }));
  await writeFile(join(d, 'weights.bin'), Buffer.from([1, 2, 3, name.length]));
  return d;
}

test('a run started, resumed and ranked through the port lands in MLflow as the stages need it', async () => {
  const tracker = new MlflowTracker({ client, spillDir: join(dir, 'spill'), user: 'ci', source: { name: 'apps/train', type: 'LOCAL', gitCommit: 'abc123' } });
  const experiment = `tracking-${Date.now()}`;
  const scores: Record<string, number> = { small: 0.71, wide: 0.78, logreg: 0.65 };
  const refs: Record<string, Record<string, string>> = {};
  for (const [model, auc] of Object.entries(scores)) {
    const run = await tracker.startRun({ experiment, runName: model, tags: { [PipelineTags.model]: model, [PipelineTags.pipelineRunId]: 'p1' } });
    await run.logParams({ 'model.type': 'mlp', lr: 0.001 });
    for (let epoch = 1; epoch <= 5; epoch++) run.logMetric({ key: 'valid_loss', value: 1 / epoch, step: epoch });
    await run.logInput({ name: 'train', digest: 'd41d8cd98f00b204e9800998ecf8427e', source: 'data/features/train.parquet', context: 'training' });
    const ref = await run.logModel(await modelFolder(model), { name: 'model' });
    await run.setTags({ [PipelineTags.loggedModelId]: ref.modelId! });
    await run.end();
    // evaluate stage: reopen and add test metrics
    const again = await tracker.resumeRun(run.ref);
    again.logMetric({ key: 'test_roc_auc', value: auc, step: 0 });
    await again.end();
    refs[model] = run.ref;
    expect(run.url).toContain(run.runId);
  }

  const wideId = refs['wide']!['mlflow']!;
  const history = await client.getMetricHistory(wideId, 'valid_loss');
  expect(history.map((m) => [Number(m.step), Number(m.value)])).toEqual([1, 2, 3, 4, 5].map((s) => [s, 1 / s]));
  const run = await client.getRun(wideId);
  expect(run.info.status).toBe('FINISHED');
  expect(run.data.tags?.find((t) => t.key === 'mlflow.source.git.commit')?.value).toBe('abc123');
  expect(run.inputs?.dataset_inputs?.[0]?.dataset.digest).toBe('d41d8cd98f00b204e9800998ecf8427e');
  const artifacts = await client.listArtifacts(wideId, 'model');
  expect(artifacts.map((a) => a.path).sort()).toEqual(['model/model.json', 'model/weights.bin']);

  const ranked = await rankMlflowRuns({ client, experiment, runIds: Object.values(refs).map((r) => r['mlflow']!), metric: 'test_roc_auc', higherIsBetter: true });
  expect(ranked.map((r) => [r.rank, r.model, r.score])).toEqual([[1, 'wide', 0.78], [2, 'small', 0.71], [3, 'logreg', 0.65]]);
  const byTag = await rankMlflowRuns({ client, experiment, pipelineRunId: 'p1', metric: 'test_roc_auc', higherIsBetter: false });
  expect(byTag[0]?.model).toBe('logreg');
  await expect(rankMlflowRuns({ client, experiment, runIds: ['0123456789abcdef0123456789abcdef'], metric: 'x', higherIsBetter: true })).rejects.toThrow(/not found.*0123456789abcdef0123456789abcdef/);

  const version = await registerChampion({ client, name: `${experiment}-model`, best: ranked[0]!, metric: 'test_roc_auc' });
  const champion = await client.getModelVersionByAlias(`${experiment}-model`, 'champion');
  expect(champion.version).toBe(version.version);
  expect(champion.run_id).toBe(wideId);

  const csv = rankingCsv(ranked, ['test_roc_auc']);
  expect(csv.split('\n')[1]).toBe(`1,wide,${wideId},0.78,0.78`);
  expect(await readdir(join(dir, 'spill')).catch(() => [])).toEqual([]);
});

test('run links of a temporary server point at the UI that outlives it (MLOPS_MLFLOW_UI_URI), other links stay as they are', async () => {
  const uri = mlflow.server.uri;
  const config = trackingConfigFromEnv({ MLFLOW_TRACKING_URI: uri, MLOPS_MLFLOW_UI_URI: 'http://127.0.0.1:5000/', CLEARML_CONFIG_FILE: join(dir, 'no-clearml.conf') });
  expect(config.mlflowUiUri).toBe('http://127.0.0.1:5000');
  const opened = await openTracking({ params: TrackingParamsSchema.parse({ experiment: `ui-${Date.now()}`, trackers: ['mlflow'] }), config, stage: 'test', mlflowSpillDir: join(dir, 'ui-spill') });
  try {
    const run = await opened.tracker.startRun({ experiment: `ui-${Date.now()}`, runName: 'm' });
    await run.end();
    expect(run.url?.startsWith(uri)).toBe(true);
    expect(opened.lastingUrl(run.url!)).toBe(`http://127.0.0.1:5000${run.url!.slice(uri.length)}`);
    expect(opened.lastingUrl('https://elsewhere.example/#/runs/x')).toBe('https://elsewhere.example/#/runs/x');
  } finally {
    await opened.close();
  }
  // without it, a configured server's links are its own
  const plain = await openTracking({ params: TrackingParamsSchema.parse({ experiment: 'ui-plain', trackers: ['mlflow'] }), config: trackingConfigFromEnv({ MLFLOW_TRACKING_URI: uri, CLEARML_CONFIG_FILE: join(dir, 'no-clearml.conf') }), stage: 'test', mlflowSpillDir: join(dir, 'ui-spill') });
  try {
    expect(plain.lastingUrl(`${uri}/#/experiments/1/runs/abc`)).toBe(`${uri}/#/experiments/1/runs/abc`);
  } finally {
    await plain.close();
  }
});
