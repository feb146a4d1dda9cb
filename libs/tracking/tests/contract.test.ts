// One contract for every tracker sink: the same run (train, then evaluate resuming it) through the port, and the same
// assertions on what each tracker holds, read back through its own API — memory (the record), MLflow (a real
// `mlflow server`), ClearML (the real server from tools/testing/clearml-server.ts, REST read-back).
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { clearmlSinkClient, ClearmlTracker, MemoryTracker, MlflowTracker, type Figure, type Tracker } from '../src/index.js';
import { EventsLogger, importOfflineSession, OfflineSession } from '@mlops-ts/clearml-client';
import { requireClearml, uniqueProjectName } from '../../../tools/testing/clearml-server.js';
import { clearmlReader, memoryReader, mlflowReader, type ReadBack } from './contract-readers.js';
import { useMlflowServer } from './mlflow-server.js';

const mlflow = useMlflowServer('tracking-contract');
const clearmlServer = inject('clearml');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracking-contract-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
const CURVES: Figure = {
  kind: 'learning_curves',
  series: [
    { metric: 'loss', variant: 'train', x: [1, 2, 3], y: [0.9, 0.6, 0.5] },
    { metric: 'loss', variant: 'valid', x: [1, 2, 3], y: [1.0, 0.7, 0.65] },
  ],
};
const ROC: Figure = { kind: 'roc', curves: [{ label: 'delayed', fpr: [0, 0.25, 1], tpr: [0, 0.75, 1], auc: 0.75 }] };
const CONFUSION: Figure = { kind: 'confusion_matrix', labels: ['on_time', 'delayed'], counts: [[40, 10], [5, 15]] };

interface Sink {
  name: string;
  tracker: () => Tracker;
  read: (runId: string) => Promise<ReadBack>;
  /** Does the tracker keep the model's labels? */
  labels: boolean;
  /** ClearML keeps scalars as float32 (its event index): read back, a value is `Math.fround` of what was logged. */
  float32?: boolean;
  /** A sink that keeps runs offline: sends them to the server, returns the id to read back. */
  deliver?: (runId: string) => Promise<string>;
  close?: () => Promise<void>;
}

async function fixtures() {
  const model = join(dir, `model-${Math.random().toString(36).slice(2)}`);
  await mkdir(model, { recursive: true });
  await writeFile(join(model, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: { class_name: 'Sequential' }, weightsManifest: [{ paths: ['weights.bin'], weights: [] }] }));
  await writeFile(join(model, 'weights.bin'), Buffer.from([1, 2, 3, 4]));
  const history = join(dir, `history-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(history, JSON.stringify([{ epoch: 1, loss: 0.9 }]));
  return { model, history };
}

/** The run the stages make: train (params, curves, inputs, an artifact, the model, a figure), then evaluate resuming it. */
async function runContract(tracker: Tracker, experiment: string) {
  const { model, history } = await fixtures();
  const run = await tracker.startRun({ experiment, runName: 'contract-m1', tags: { 'mlops.model': 'm1', 'mlops.dvc_stage': 'train@m1' } });
  await run.logParams({ 'model.type': 'mlp', 'model.layers': '[8]', 'train.epochs': 3, seed: 7 });
  for (let epoch = 1; epoch <= 3; epoch++) {
    run.logMetric({ key: 'train_loss', value: [0.9, 0.6, 0.5][epoch - 1]!, step: epoch });
    run.logMetric({ key: 'valid_loss', value: [1.0, 0.7, 0.65][epoch - 1]!, step: epoch });
  }
  run.logMetric({ key: 'best_epoch', value: 3, step: 0 });
  await run.setTags({ 'mlops.backend': 'cpu' });
  await run.logInput({ name: 'features-train', digest: MD5, source: 'data/features/train.parquet', context: 'training', profile: JSON.stringify({ num_rows: 70 }) });
  await run.logArtifact(history, 'plots');
  const ref = await run.logModel(model, { name: 'model', labels: ['on_time', 'delayed'], metrics: { best_epoch: 3 }, signature: { inputs: [{ name: 'distance', type: 'float' }], outputs: [{ name: 'proba_on_time', type: 'float' }, { name: 'proba_delayed', type: 'float' }] } });
  await run.logFigure('learning_curves', CURVES);
  const trained = await run.end('FINISHED');

  const again = await tracker.resumeRun(run.ref);
  again.logMetric({ key: 'test_roc_auc', value: 0.75, step: 0 });
  again.logMetric({ key: 'baseline_test_roc_auc', value: 0.5, step: 0 });
  await again.logInput({ name: 'features-test', digest: MD5, source: 'data/features/test.parquet', context: 'test' });
  await again.logFigure('roc', ROC);
  await again.logFigure('confusion_matrix', CONFUSION);
  const evaluated = await again.end('FINISHED');
  return { run, again, ref, trained, evaluated, history };
}

const memory = new MemoryTracker('memory');
const sinks: Sink[] = [
  { name: 'memory', tracker: () => memory, read: memoryReader(memory), labels: true },
  {
    name: 'mlflow',
    tracker: () => new MlflowTracker({ client: mlflow.client, spillDir: join(dir, 'mlflow-spill') }),
    read: (id) => mlflowReader(mlflow.client)(id),
    labels: false,
  },
];
if (clearmlServer.available) {
  const s = requireClearml(clearmlServer);
  const client = clearmlSinkClient({ apiHost: s.apiHost, webHost: s.webHost, filesHost: s.filesHost, credentials: { accessKey: s.accessKey, secretKey: s.secretKey } });
  const project = uniqueProjectName('tracking-contract');
  sinks.push({
    name: 'clearml',
    tracker: () =>
      new ClearmlTracker({
        client,
        events: (taskId) => new EventsLogger({ transport: client.transport, taskId, spillDir: join(dir, 'clearml-spill') }),
        offlineSession: (o) => OfflineSession.create(o),
        offlineDir: join(dir, 'clearml-offline'),
        project,
        tags: ['contract'],
      }),
    read: clearmlReader(client),
    labels: true,
    float32: true,
    close: () => client.close(),
  });
  // No server configured: offline sessions in the SDK's format, then imported (the train session, then the
  // evaluate one continuing the task it created) and read back the same way.
  const offlineDir = join(tmpdir(), `tracking-contract-offline-${process.pid}`);
  sinks.push({
    name: 'clearml',
    tracker: () => new ClearmlTracker({ offlineSession: (o) => OfflineSession.create(o), offlineDir, project: `${project}-offline`, tags: ['contract'] }),
    read: clearmlReader(client),
    labels: true,
    float32: true,
    deliver: async (runId) => {
      const first = await importOfflineSession(join(offlineDir, `${runId}.zip`), { client });
      await rm(join(offlineDir, `${runId}.zip`));
      for (const zip of (await readdir(offlineDir)).filter((f) => f.endsWith('.zip') && !f.startsWith(runId))) {
        try {
          await importOfflineSession(join(offlineDir, zip), { client, previousTaskId: first.taskId });
        } finally {
          await rm(join(offlineDir, zip));
        }
      }
      return first.taskId;
    },
    close: () => rm(offlineDir, { recursive: true, force: true }),
  });
} else {
  test.skip(`ClearML contract: no ClearML server (${clearmlServer.reason})`, () => undefined);
}
afterAll(async () => {
  for (const s of sinks) await s.close?.();
});

describe.each(sinks.map((s) => ({ ...s, label: s.deliver ? `${s.name} (offline session, imported)` : s.name })))('the tracking contract on $label', (sink) => {
  test('a train run resumed by evaluate reads back the same through the tracker', async () => {
    const { run, again, ref, trained, evaluated, history } = await runContract(sink.tracker(), `contract-${Date.now()}`);
    if (sink.deliver) {
      // Kept offline by design: delivered, with the line that names the zip and the import command.
      expect(trained).toEqual({ tracker: sink.name, delivered: true, offline: [expect.stringMatching(new RegExp(`^ClearML offline session .*${run.runId}\\.zip; send it to a server with: npm run clearml -- import `))] });
      expect(evaluated.offline?.[0]).toMatch(new RegExp(`\\(continues task ${run.runId}\\)`));
    } else {
      expect(trained).toEqual({ tracker: sink.name, delivered: true });
      expect(evaluated).toEqual({ tracker: sink.name, delivered: true });
    }
    expect(again.runId).toBe(run.runId);
    expect(Object.keys(run.ref)).toEqual([sink.name]);
    const id = sink.deliver ? await sink.deliver(run.runId) : run.runId;
    const back = await sink.read(id);

    expect(back.params).toEqual({ 'model.type': 'mlp', 'model.layers': '[8]', 'train.epochs': '3', seed: '7' });
    const v = (x: number) => (sink.float32 ? Math.fround(x) : x);
    expect(back.metrics).toEqual({
      train_loss: [[1, v(0.9)], [2, v(0.6)], [3, 0.5]],
      valid_loss: [[1, 1.0], [2, v(0.7)], [3, v(0.65)]],
      best_epoch: [[0, 3]],
      test_roc_auc: [[0, 0.75]],
      baseline_test_roc_auc: [[0, 0.5]],
    });
    expect(back.tags).toMatchObject({ 'mlops.model': 'm1', 'mlops.dvc_stage': 'train@m1', 'mlops.backend': 'cpu' });
    expect(back.inputs).toEqual({ 'features-train': MD5, 'features-test': MD5 });
    expect(back.figures).toEqual(['confusion_matrix', 'learning_curves', 'roc']);
    const key = back.artifactKeys.find((k) => k.startsWith('plots/'));
    expect(key).toBeDefined();
    expect((await back.artifact(key!)).toString()).toBe(await readFile(history, 'utf8'));
    if (sink.deliver) expect(back.model?.id).toMatch(/^[0-9a-f]{32}$/); // the model gets its server id at import
    else {
      expect(back.model?.id).toBe(ref.models[sink.name]?.modelId);
      expect(ref.modelId).toBe(back.model?.id);
    }
    if (sink.labels) expect(back.model?.labels).toEqual(['on_time', 'delayed']);
    expect(back.status).toBe('FINISHED');
  });

  test('a figure that does not hold together is refused before anything is sent', async () => {
    const run = await sink.tracker().startRun({ experiment: `contract-bad-${Date.now()}`, runName: 'contract-bad' });
    await expect(run.logFigure('roc', { kind: 'roc', curves: [{ label: 'x', fpr: [0, 1], tpr: [0] }] })).rejects.toThrow(/differ in length/);
    await run.end('FAILED');
    const id = sink.deliver ? await sink.deliver(run.runId) : run.runId;
    expect((await sink.read(id)).status).toBe('FAILED');
  });
});
