// Cross-check: the official Python MlflowClient reads back what the TypeScript client wrote — params, full metric
// histories, tags, artifacts (byte-identical), datasets, the logged model, the registered model and its alias.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inject } from 'vitest';
import { MlflowClient } from '../src/index.js';

const PY = resolve(import.meta.dirname, '../../../.venv/bin/python');
const DUMP = resolve(import.meta.dirname, 'python_dump.py');
const uri = inject('mlflowUri');
let tmp: string;
let client: MlflowClient;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mlflow-crosscheck-'));
  client = new MlflowClient({ trackingUri: uri });
});
afterAll(async () => {
  await client.close();
  await rm(tmp, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** What the SQL store keeps for a written value (NaN as NaN, ±inf clamped to ±max double). */
const stored = (v: number): number | string => (Number.isNaN(v) ? 'NaN' : v === Infinity ? Number.MAX_VALUE : v === -Infinity ? -Number.MAX_VALUE : v);

test('Python MlflowClient sees exactly what the TypeScript client wrote', async () => {
  const exp = await client.getOrCreateExperiment(`crosscheck-${Date.now()}`);
  const run = await client.createRun({
    experimentId: exp.experiment_id,
    runName: 'ts-written',
    user: 'ts-client',
    source: { name: 'libs/mlflow-client/tests', type: 'LOCAL', gitCommit: 'b'.repeat(40) },
  });
  const runId = run.info.run_id;

  const params: Record<string, string> = { lr: '0.001', layers: '[64, 32]', optimizer: 'adam', note: 'ünïcödé ✓' };
  for (let i = 0; i < 150; i++) params[`extra_${i}`] = `v${i}`;
  const tags: Record<string, string> = { stage: 'train', 'data.version': 'abc123', multiline: 'a\nb\tc' };
  const t0 = 1_750_000_000_000;
  const metrics = [
    ...Array.from({ length: 1500 }, (_, s) => ({ key: 'train/loss', value: 1 / (s + 1) + Math.sin(s) * 1e-9, step: s, timestamp: t0 + s })),
    ...Array.from({ length: 1500 }, (_, s) => ({ key: 'val:acc', value: s / 1500, step: s, timestamp: t0 + s })),
    { key: 'weird', value: Number.NaN, step: 0, timestamp: t0 },
    { key: 'weird', value: Infinity, step: 1, timestamp: t0 + 1 },
    { key: 'weird', value: -Infinity, step: 2, timestamp: t0 + 2 },
    { key: 'weird', value: -0.5, step: 3, timestamp: t0 + 3 },
    { key: 'weird', value: 5e-324, step: 4, timestamp: t0 + 4 },
  ];
  await client.logBatch(runId, { params, tags, metrics });
  await client.logInputs(runId, [{ name: 'flights', digest: 'd41d8cd98f00b204e9800998ecf8427e', source: 'data/raw/flights.parquet', sourceType: 'dvc', context: 'training' }]);

  const art = join(tmp, 'artifacts');
  await mkdir(join(art, 'plots'), { recursive: true });
  const files: Record<string, Buffer> = {
    'report.md': Buffer.from('# Report\n'),
    'plots/roc.svg': Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
    'plots/raw.bin': Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 13) & 0xff)),
  };
  for (const [p, b] of Object.entries(files)) await writeFile(join(art, p), b);
  await client.logArtifacts(runId, art);

  const modelDir = join(tmp, 'model');
  await mkdir(modelDir);
  const modelFiles: Record<string, Buffer> = { 'model.json': Buffer.from('{"modelTopology":{}}'), 'weights.bin': Buffer.from([9, 8, 7, 6, 5]) };
  for (const [p, b] of Object.entries(modelFiles)) await writeFile(join(modelDir, p), b);
  const model = await client.logModel({ runId, name: 'mlp', dir: modelDir, params: { units: 32 }, tags: { framework: 'tfjs' } });
  const regName = `crosscheck-model-${Date.now()}`;
  await client.registerModel({ name: regName, modelId: model.info.model_id });
  const v2 = await client.registerModel({ name: regName, modelId: model.info.model_id, alias: 'champion' });
  await client.endRun(runId, 'FINISHED', t0 + 10_000);

  const { stdout } = await execa(PY, [DUMP, '--uri', uri, '--run-id', runId, '--download-dir', join(tmp, 'py-dl'), '--model-name', regName, '--alias', 'champion'], {
    // MLflow's telemetry thread edits os.environ while requests iterates it (a KeyError race seen here): off.
    env: { MLFLOW_DISABLE_TELEMETRY: 'true' },
  });
  const py = JSON.parse(stdout) as {
    run: Record<string, unknown>;
    params: Record<string, string>;
    tags: Record<string, string>;
    metrics: Record<string, { step: number; timestamp: number; value: number | string }[]>;
    artifacts: { path: string; size: number; sha256: string }[];
    datasets: unknown[];
    model_outputs: string[];
    registry: Record<string, unknown> & { logged_model: Record<string, unknown>; logged_model_files: Record<string, string> };
  };

  expect(py.run).toEqual({ run_id: runId, run_name: 'ts-written', experiment_id: exp.experiment_id, status: 'FINISHED', start_time: run.info.start_time, end_time: t0 + 10_000 });
  expect(py.params).toEqual(params);
  const expectedTags = {
    ...tags,
    'mlflow.runName': 'ts-written',
    'mlflow.user': 'ts-client',
    'mlflow.source.name': 'libs/mlflow-client/tests',
    'mlflow.source.type': 'LOCAL',
    'mlflow.source.git.commit': 'b'.repeat(40),
  };
  // Every tag written is there unchanged, and nothing else but what the TS client reads too.
  expect(py.tags).toMatchObject(expectedTags);
  const tsTags = Object.fromEntries((await client.getRun(runId)).data.tags.map((t) => [t.key, t.value]));
  expect(py.tags).toEqual(tsTags);

  const expectedMetrics: Record<string, { step: number; timestamp: number; value: number | string }[]> = {};
  for (const m of metrics) (expectedMetrics[m.key] ??= []).push({ step: m.step, timestamp: m.timestamp, value: stored(m.value) });
  for (const k of Object.keys(expectedMetrics)) expectedMetrics[k]!.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
  expect(Object.keys(py.metrics).sort()).toEqual(Object.keys(expectedMetrics).sort());
  for (const k of Object.keys(expectedMetrics)) expect(py.metrics[k], k).toEqual(expectedMetrics[k]);

  expect(py.artifacts.map((a) => [a.path, a.size, a.sha256])).toEqual(
    Object.entries(files)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([p, b]) => [p, b.length, sha(b)]),
  );
  // And the TS download matches the Python download byte for byte.
  const tsDl = join(tmp, 'ts-dl');
  await client.downloadArtifacts(runId, '', tsDl);
  for (const a of py.artifacts) expect(sha(await readFile(join(tsDl, a.path))), a.path).toBe(a.sha256);

  expect(py.datasets).toEqual([
    { name: 'flights', digest: 'd41d8cd98f00b204e9800998ecf8427e', source_type: 'dvc', source: 'data/raw/flights.parquet', tags: { 'mlflow.data.context': 'training' } },
  ]);
  expect(py.model_outputs).toEqual([model.info.model_id]);

  expect(py.registry).toMatchObject({
    name: regName,
    aliases: { champion: v2.version },
    alias_version: '2',
    alias_run_id: runId,
    alias_model_id: model.info.model_id,
    status: 'READY',
  });
  expect(py.registry.logged_model).toEqual({
    model_id: model.info.model_id,
    name: 'mlp',
    status: 'READY',
    source_run_id: runId,
    params: { units: '32' },
    tags: expect.objectContaining({ framework: 'tfjs' }),
  });
  expect(py.registry.logged_model_files).toEqual(Object.fromEntries(Object.entries(modelFiles).map(([p, b]) => [p, sha(b)])));
});
