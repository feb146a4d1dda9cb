// registerChampion against a real `mlflow server`: a new version only when the champion changes.
import type { MlflowClient } from '@mlops-ts/mlflow-client';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MlflowTracker, PipelineTags, rankByMetric, registerChampion, type Candidate } from '../src/index.js';
import { useMlflowServer } from './mlflow-server.js';

const mlflow = useMlflowServer('tracking-registry');
let dir: string;
let client: MlflowClient;
beforeAll(() => {
  ({ dir, client } = mlflow);
});

async function trainedRun(tracker: MlflowTracker, experiment: string, model: string, score: number): Promise<Candidate> {
  const folder = join(dir, model);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'model.json'), JSON.stringify({ model }));
  const run = await tracker.startRun({ experiment, runName: model, tags: { [PipelineTags.model]: model } });
  const ref = await run.logModel(folder, { name: 'model' });
  expect(await run.end()).toEqual({ tracker: 'mlflow', delivered: true });
  return { runId: run.runId, model, metrics: { accuracy: score }, params: {}, ...(ref.modelId ? { loggedModelId: ref.modelId } : {}) };
}

test('the same champion twice confirms the alias; a new champion gets a new version', async () => {
  const tracker = new MlflowTracker({ client, spillDir: join(dir, 'spill') });
  const experiment = `registry-${Date.now()}`;
  const name = `${experiment}-model`;
  const a = await trainedRun(tracker, experiment, 'a', 0.9);
  const b = await trainedRun(tracker, experiment, 'b', 0.8);
  const [bestA] = rankByMetric([a, b], 'accuracy', true);

  const first = await registerChampion({ client, name, best: bestA!, metric: 'accuracy' });
  expect(first).toMatchObject({ version: '1', run_id: a.runId, changed: true });
  const again = await registerChampion({ client, name, best: bestA!, metric: 'accuracy' });
  expect(again).toMatchObject({ version: '1', changed: false });
  const versions = await client.searchModelVersions({ filter: `name = '${name}'` });
  expect(versions.items.map((v) => v.version)).toEqual(['1']);

  const [bestB] = rankByMetric([{ ...a, metrics: { accuracy: 0.1 } }, b], 'accuracy', true);
  const next = await registerChampion({ client, name, best: bestB!, metric: 'accuracy' });
  expect(next).toMatchObject({ version: '2', run_id: b.runId, changed: true });
  expect((await client.getModelVersionByAlias(name, 'champion')).version).toBe('2');
});
