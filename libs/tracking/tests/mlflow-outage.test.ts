// A tracking server that goes away mid-run and stays down: the MLflow side of the port keeps everything on disk
// (metrics, params, tags, inputs, artifacts, the model, the end status), end() says so in one line with the exact
// replay command, and that command (the real CLI) makes the run whole: FINISHED, with its artifacts and a model
// whose MLmodel the official Python client reads. Also: MLmodel on a healthy server, and the import of a run kept
// offline (offline-run.json). Real `mlflow server`s, stopped and restarted on the same port and folder.
import { MlflowClient, freePort, readSpillFile, startLocalMlflowServer, type LocalMlflowServer } from '@mlops-ts/mlflow-client';
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MemoryTracker, MlflowTracker, readRecordedRun, RecordedRunError } from '../src/index.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const VENV = join(ROOT, '.venv/bin');
const CLI = join(ROOT, 'apps/tracking-server/src/main.ts');
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const signature = {
  inputs: [{ name: 'distance', type: 'float' as const }, { name: 'dep_hour', type: 'float' as const }],
  outputs: [{ name: 'p_on_time', type: 'float' as const }, { name: 'p_delayed', type: 'float' as const }],
};

let dir: string;
let serverDir: string;
let port: number;
let server: LocalMlflowServer | undefined;

const start = async () => (server = await startLocalMlflowServer({ dir: serverDir, port, mlflowBin: join(VENV, 'mlflow') }));
async function stop() {
  await server?.stop({ signal: 'SIGKILL' });
  server = undefined;
}
/** A client that gives up quickly (the defaults retry for ~15 s per call, right for stages, slow for tests). */
const quickClient = (uri: string) => new MlflowClient({ trackingUri: uri, retries: { maxRetries: 1, backoffMs: 100, maxBackoffMs: 200 } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracking-outage-'));
  serverDir = join(dir, 'mlflow');
  port = await freePort();
  await start();
});
afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function modelFolder(name: string): Promise<string> {
  const d = join(dir, name);
  await mkdir(d, { recursive: true });
  await writeFile(join(d, 'model.json'), JSON.stringify({ format: 'layers-model', weightsManifest: [{ paths: ['weights.bin'] }] }));
  await writeFile(join(d, 'weights.bin'), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
  await writeFile(join(d, 'model-meta.json'), JSON.stringify({ featureNames: ['distance', 'dep_hour'] }));
  return d;
}

interface Readback {
  status: string;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, [number, number, number][]>;
  inputs: string[];
  artifacts: string[];
  model_outputs: string[];
  runs_uri: { flavors: Record<string, Record<string, unknown>>; run_id: string; model_id: string | null; artifact_path: string; mlflow_version: string; inputs: string[]; input_types: string[]; outputs: string[] };
  models_uri: Readback['runs_uri'] | null;
  tagged_model_id: string | undefined;
}
async function pythonReadback(uri: string, runId: string, model = 'model'): Promise<Readback> {
  const r = await execa(join(VENV, 'python'), [join(import.meta.dirname, 'mlflow_readback.py'), runId, model], { env: { MLFLOW_TRACKING_URI: uri }, reject: false });
  if (r.exitCode !== 0) throw new Error(`python readback failed:\n${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as Readback;
}

/** Run a pending line's command through the real CLI (`npm run mlflow --` is `node … apps/tracking-server/src/main.ts`). */
async function runPending(pending: string, env: Record<string, string> = {}) {
  const m = pending.match(/npm run mlflow -- (.+)$/);
  if (!m) throw new Error(`no command in: ${pending}`);
  const args = m[1]!.split(' ');
  return execa('node', ['--conditions=@mlops-ts/source', '--import', tsx, CLI, ...args], { cwd: dir, env: { MLFLOW_TRACKING_URI: '', ...env }, reject: false });
}

test('server down from mid-run to the end: nothing lost, end() names the replay, replay (embedded server from its folder) finishes the run', async () => {
  const client = quickClient(server!.uri);
  const spillDir = join(dir, 'spill-embedded');
  const lines: string[] = [];
  const tracker = new MlflowTracker({ client, spillDir, replay: { embeddedDir: serverDir }, logger: { flushIntervalMs: 50, retryDelayMs: 100, maxRetryDelayMs: 200, closeTimeoutMs: 500 }, log: (l) => lines.push(l) });
  const run = await tracker.startRun({ experiment: 'outage', runName: 'wide', tags: { 'mlops.model': 'wide' } });
  await run.logParams({ 'model.units': 16, lr: 0.001 });
  for (let e = 1; e <= 3; e++) run.logMetric({ key: 'valid_loss', value: 1 / e, step: e, timestamp: 1_700_000_000_000 + e });
  await run.logInput({ name: 'features-train', digest: 'd41d8cd98f00b204e9800998ecf8427e', source: 'data/features/train.parquet', context: 'training' });

  await stop(); // the server goes away and stays away
  for (let e = 4; e <= 6; e++) run.logMetric({ key: 'valid_loss', value: 1 / e, step: e, timestamp: 1_700_000_000_000 + e });
  await run.logParams({ 'data.train_rows': 240 });
  await run.setTags({ 'mlops.backend': 'cpu' });
  await run.logInput({ name: 'features-valid', digest: '0cc175b9c0f1b6a831c399e269772661', source: 'data/features/valid.parquet', context: 'validation' });
  const history = join(dir, 'history.json');
  await writeFile(history, JSON.stringify([{ epoch: 1 }]));
  await run.logArtifact(history, 'plots');
  const staging = await modelFolder('wide.partial-123');
  const ref = await run.logModel(staging, { name: 'model', params: { 'model.units': '16' }, signature });
  expect(ref.modelId).toBeUndefined(); // no model id before the server has it
  // The stage moves and rewrites its folder afterwards: the spill holds copies.
  await rename(staging, join(dir, 'wide'));
  await writeFile(history, 'changed after logging');
  const report = await run.end('FINISHED');

  expect(report.delivered).toBe(false);
  expect(report.tracker).toBe('mlflow');
  expect(report.pending!.endsWith(` kept in ${spillDir}); deliver with: npm run mlflow -- replay ${spillDir} --dir ${serverDir}`)).toBe(true);
  const waitingPoints = Number(report.pending!.match(/\((\d+) metric\/param\/tag points, 1 artifact, 1 dataset input, the model, the end status kept in /)?.[1]);
  expect(report.pending!.split('\n')).toHaveLength(1);
  expect(lines).toContain(report.pending);
  const spilled = (await readdir(spillDir)).sort();
  const records = (await Promise.all(spilled.filter((f) => f.endsWith('.spill.jsonl')).map((f) => readSpillFile(join(spillDir, f))))).flat();
  // Steps 4-6 were logged while down; 1-3 too when the kill came before the logger's first flush.
  const steps = records.flatMap((r) => r.metrics.map((m) => Number(m.step))).sort();
  expect(steps.slice(-3)).toEqual([4, 5, 6]);
  expect([[4, 5, 6], [1, 2, 3, 4, 5, 6]]).toContainEqual(steps);
  expect(waitingPoints).toBe(steps.length + 2); // the line counts exactly what is on disk
  expect(records.flatMap((r) => r.params)).toEqual([{ key: 'data.train_rows', value: '240' }]);
  expect(records.flatMap((r) => r.tags)).toEqual([{ key: 'mlops.backend', value: 'cpu' }]);
  expect(spilled).toContain(`${run.runId}.run.json`);

  // The user's command, as printed: no tracking URI set, so the CLI starts the embedded server from its folder.
  const replay = await runPending(report.pending!);
  expect(replay.stderr).toContain('starting mlflow server');
  expect(replay.exitCode, replay.stderr).toBe(0);
  expect(replay.stderr).toMatch(new RegExp(`run ${run.runId}: 1 artifacts, 1 models, ended FINISHED`));
  expect(await readdir(spillDir)).toEqual([]);

  await start();
  const seen = await pythonReadback(server!.uri, run.runId);
  expect(seen.status).toBe('FINISHED');
  expect(seen.params).toEqual({ 'model.units': '16', lr: '0.001', 'data.train_rows': '240' });
  expect(seen.tags).toMatchObject({ 'mlops.backend': 'cpu', 'mlops.model': 'wide', 'mlflow.runName': 'wide' });
  expect(seen.metrics['valid_loss']).toEqual([1, 2, 3, 4, 5, 6].map((e) => [e, 1 / e, 1_700_000_000_000 + e]));
  expect(seen.inputs).toEqual(['features-train', 'features-valid']);
  expect(seen.artifacts).toEqual(expect.arrayContaining(['plots/history.json', 'model/model.json', 'model/weights.bin', 'model/model-meta.json']));
  const c2 = new MlflowClient({ trackingUri: server!.uri });
  expect((await c2.readArtifact(run.runId, 'plots/history.json')).toString()).toBe(JSON.stringify([{ epoch: 1 }])); // the copy, not the later rewrite
  await c2.close();
  expect(seen.model_outputs).toHaveLength(1);
  expect(seen.tagged_model_id).toBe(seen.model_outputs[0]);
  for (const info of [seen.runs_uri, seen.models_uri!]) {
    expect(Object.keys(info.flavors)).toContain('tfjs');
    expect(info.flavors['tfjs']).toMatchObject({ model_file: 'model.json', weights: ['weights.bin'] });
    expect(info.inputs).toEqual(['distance', 'dep_hour']);
    expect(info.outputs).toEqual(['p_on_time', 'p_delayed']);
    expect(info.run_id).toBe(run.runId);
    expect(info.model_id).toBe(seen.model_outputs[0]);
    expect(info.artifact_path).toBe('model');
  }
  await client.close();
}, 240_000);

test('server gone only at the end: the end status waits, the pending line names the configured URI, replaySpill finishes the run', async () => {
  if (!server) await start();
  const client = quickClient(server!.uri);
  const spillDir = join(dir, 'spill-uri');
  const tracker = new MlflowTracker({ client, spillDir, logger: { flushIntervalMs: 50, closeTimeoutMs: 300 } });
  const run = await tracker.startRun({ experiment: 'outage', runName: 'late' });
  const model = await run.logModel(await modelFolder('late'), { name: 'model', signature });
  expect(model.modelId).toMatch(/^m-/);
  await stop();
  const report = await run.end('FAILED');
  expect(report).toEqual({
    tracker: 'mlflow',
    delivered: false,
    pending: `MLflow run ${run.runId} is incomplete on the server (the end status kept in ${spillDir}); deliver with: npm run mlflow -- replay ${spillDir} --uri http://127.0.0.1:${port}`,
  });
  await start();
  const r = await runPending(report.pending!);
  expect(r.exitCode, r.stderr).toBe(0);
  const c2 = new MlflowClient({ trackingUri: server!.uri });
  const after = await c2.getRun(run.runId);
  expect(after.info.status).toBe('FAILED');
  await c2.close();
  await client.close();
}, 180_000);

test('logModel on a healthy server writes an MLmodel the Python client reads (tfjs flavor, signature), outside the model folder', async () => {
  if (!server) await start();
  const client = new MlflowClient({ trackingUri: server!.uri });
  const tracker = new MlflowTracker({ client, spillDir: join(dir, 'spill-ok') });
  const run = await tracker.startRun({ experiment: 'mlmodel', runName: 'small' });
  const folder = await modelFolder('small');
  const ref = await run.logModel(folder, { name: 'model', signature });
  await run.setTags({ 'mlops.logged_model_id': ref.modelId! });
  expect(await run.end()).toEqual({ tracker: 'mlflow', delivered: true });
  expect((await readdir(folder)).sort()).toEqual(['model-meta.json', 'model.json', 'weights.bin']); // no MLmodel in the DVC folder
  const seen = await pythonReadback(server!.uri, run.runId);
  expect(seen.models_uri).toMatchObject({ inputs: ['distance', 'dep_hour'], outputs: ['p_on_time', 'p_delayed'], run_id: run.runId, model_id: ref.modelId, artifact_path: 'model' });
  expect(seen.models_uri!.input_types).toEqual(['DataType.float', 'DataType.float']);
  expect(seen.models_uri!.flavors['tfjs']).toMatchObject({ model_file: 'model.json', weights: ['weights.bin'] });
  expect(seen.models_uri!.mlflow_version).toMatch(/^3\./);
  await client.close();
}, 120_000);

test('a run kept offline (offline-run.json) is imported as a new MLflow run with everything; a second import sends nothing', async () => {
  if (!server) await start();
  // Record the run as the train stage does with tracking.offline_fallback: files in a staging folder, renamed after.
  const memory = new MemoryTracker('offline');
  const run = await memory.startRun({ experiment: 'offline-import', runName: 'logreg', tags: { 'mlops.model': 'logreg' } });
  const staging = await modelFolder('logreg.partial-4242');
  await writeFile(join(staging, 'history.json'), '[]');
  await run.logParams({ 'model.type': 'logreg', epochs: 3 });
  await run.logInput({ name: 'features-train', digest: 'd41d8cd98f00b204e9800998ecf8427e', source: 'data/features/train.parquet', context: 'training' });
  for (let e = 1; e <= 3; e++) run.logMetric({ key: 'train_loss', value: 1 - e / 10, step: e, timestamp: 1_750_000_000_000 + e });
  await run.setTags({ 'mlops.backend': 'cpu' });
  await run.logArtifact(join(staging, 'history.json'), 'plots');
  await run.logModel(staging, { name: 'model', signature });
  await run.end('FINISHED');
  await writeFile(join(staging, 'offline-run.json'), JSON.stringify(memory.runs[0], null, 2));
  const final = join(dir, 'models', 'logreg');
  await mkdir(join(dir, 'models'), { recursive: true });
  await rename(staging, final);
  const file = join(final, 'offline-run.json');

  const r = await execa('node', ['--conditions=@mlops-ts/source', '--import', tsx, CLI, 'import', file, '--uri', server!.uri], { cwd: dir, reject: false });
  expect(r.exitCode, r.stderr).toBe(0);
  const runId = r.stderr.match(/as MLflow run ([0-9a-f]{32})/)?.[1];
  expect(runId, r.stderr).toBeDefined();
  const seen = await pythonReadback(server!.uri, runId!);
  expect(seen.status).toBe('FINISHED');
  expect(seen.params).toEqual({ 'model.type': 'logreg', epochs: '3' });
  expect(seen.tags).toMatchObject({ 'mlops.model': 'logreg', 'mlops.backend': 'cpu', 'mlops.offline_run_id': memory.runs[0]!.runId, 'mlflow.runName': 'logreg' });
  expect(seen.metrics['train_loss']).toEqual([1, 2, 3].map((e) => [e, 1 - e / 10, 1_750_000_000_000 + e]));
  expect(seen.inputs).toEqual(['features-train']);
  expect(seen.artifacts).toEqual(expect.arrayContaining(['plots/history.json', 'model/model.json', 'model/weights.bin']));
  expect(seen.models_uri).toMatchObject({ inputs: ['distance', 'dep_hour'], run_id: runId });
  expect(Object.keys(seen.models_uri!.flavors)).toContain('tfjs');

  // Same file again (also through `replay <file>`): recognised, nothing sent.
  const again = await execa('node', ['--conditions=@mlops-ts/source', '--import', tsx, CLI, 'replay', file, '--uri', server!.uri], { cwd: dir, reject: false });
  expect(again.exitCode, again.stderr).toBe(0);
  expect(again.stderr).toContain(`was imported before as MLflow run ${runId}: nothing sent`);

  // A record that names a file no longer anywhere stops before anything is sent, naming the file.
  const broken = join(dir, 'broken-run.json');
  await writeFile(broken, JSON.stringify({ ...memory.runs[0], runId: 'other', artifacts: [{ localPath: '/nowhere/plot.svg' }] }));
  const bad = await execa('node', ['--conditions=@mlops-ts/source', '--import', tsx, CLI, 'import', broken, '--uri', server!.uri], { cwd: dir, reject: false });
  expect(bad.exitCode).toBe(1);
  expect(bad.stderr.trim()).toBe(`mlflow: ${broken}: recorded files not found: /nowhere/plot.svg`);
  await writeFile(broken, JSON.stringify({ runId: 'x', options: {} }));
  const err = await readRecordedRun(broken).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RecordedRunError);
  expect((err as Error).message).toMatch(new RegExp(`^${broken.replaceAll('/', '\\/')}: not a recorded run: options.experiment`));
  const copy = (await import('../src/mlflow-import.ts?copy' as string)) as { RecordedRunError: typeof RecordedRunError };
  expect(err).toBeInstanceOf(copy.RecordedRunError);
  expect((err as RecordedRunError).code).toBe('ERR_TRACKING_RECORDED_RUN');
}, 180_000);

test('tracker.flushToSpill() (for the app\'s signal handler) puts every open run\'s buffered points on disk synchronously', async () => {
  if (!server) await start();
  const client = new MlflowClient({ trackingUri: server!.uri });
  const spillDir = join(dir, 'spill-signal');
  const tracker = new MlflowTracker({ client, spillDir, logger: { flushIntervalMs: 60_000, closeTimeoutMs: 300 } });
  const a = await tracker.startRun({ experiment: 'signal', runName: 'a' });
  const b = await tracker.startRun({ experiment: 'signal', runName: 'b' });
  for (let s = 0; s < 25; s++) for (const r of [a, b]) r.logMetric({ key: 'loss', value: s, step: s, timestamp: 1_720_000_000_000 + s });
  expect(tracker.flushToSpill()).toBe(2);
  expect((await readdir(spillDir)).filter((f) => f.endsWith('.spill.jsonl')).map((f) => f.split('.')[0]).sort()).toEqual([a.runId, b.runId].sort());
  expect(await client.getMetricHistory(a.runId, 'loss')).toEqual([]);
  const report = await a.end('KILLED');
  expect(report.delivered).toBe(false);
  expect(report.pending).toContain('(25 metric/param/tag points, the end status kept in');
  const r = await runPending(report.pending!);
  expect(r.exitCode, r.stderr).toBe(0);
  expect((await client.getMetricHistory(a.runId, 'loss')).length).toBe(25);
  expect((await client.getMetricHistory(b.runId, 'loss')).length).toBe(25);
  expect((await client.getRun(a.runId)).info.status).toBe('KILLED');
  expect(tracker.flushToSpill()).toBe(1); // b is still open
  await client.close();
}, 120_000);
