// Metric ingest into one local mlflow server: this client (MlflowClient.logBatch and BufferedLogger) vs the Python
// MlflowClient.log_batch vs a raw log-batch loop of pre-serialized bodies (the ceiling: server cost only).
// Run from the repo root: node --conditions=@mlops-ts/source --import tsx bench/mlflow-ingest/run.ts [--points N]
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { BufferedLogger, MlflowClient, startLocalMlflowServer, toMlflowJson } from '@mlops-ts/mlflow-client';

const root = resolve(import.meta.dirname, '../..');
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const KEYS = 10;
const POINTS = arg('points', 50_000);
const STEPS = Math.ceil(POINTS / KEYS);
const T0 = 1_790_000_000_000;
const value = (k: number, s: number) => 1 / (s + 1) + k * 0.001;
const points = () => {
  const out = [];
  for (let s = 0; s < STEPS; s++) for (let k = 0; k < KEYS; k++) out.push({ key: `m${k}`, value: value(k, s), step: s, timestamp: T0 + s });
  return out;
};

const dir = await mkdtemp(join(tmpdir(), 'mlflow-ingest-bench-'));
const log = (s: string) => console.log(`[bench] ${s}`);
const server = await startLocalMlflowServer({ dir, mlflowBin: join(root, '.venv/bin/mlflow'), log });
const client = new MlflowClient({ trackingUri: server.uri });
try {
  const exp = (await client.getOrCreateExperiment('ingest-bench')).experiment_id;
  const newRun = async (name: string) => (await client.createRun({ experimentId: exp, runName: name })).info.run_id;
  const results: { name: string; seconds: number; note?: string; runId: string }[] = [];

  // Warm-up (first requests compile SQL paths, open the DB).
  await client.logBatch(await newRun('warmup'), { metrics: points().slice(0, 2000) });

  // 1. raw loop: bodies prepared before the clock starts, sent one after another.
  {
    const runId = await newRun('raw');
    const all = points();
    const bodies: string[] = [];
    for (let i = 0; i < all.length; i += 1000) bodies.push(toMlflowJson({ run_id: runId, metrics: all.slice(i, i + 1000) }));
    log(`raw log-batch loop: ${bodies.length} requests`);
    const t = performance.now();
    for (const body of bodies) {
      const res = await request(`${server.uri}/api/2.0/mlflow/runs/log-batch`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`raw log-batch: HTTP ${res.statusCode}`);
    }
    results.push({ name: 'raw log-batch loop (ceiling)', seconds: (performance.now() - t) / 1000, runId });
  }
  // 2. MlflowClient.logBatch: validation + chunking + serialization included.
  {
    const runId = await newRun('ts-client');
    log('MlflowClient.logBatch');
    const t = performance.now();
    await client.logBatch(runId, { metrics: points() });
    results.push({ name: 'TS MlflowClient.logBatch', seconds: (performance.now() - t) / 1000, runId });
  }
  // 3. BufferedLogger: per-point logMetric calls, then close() (everything delivered).
  {
    const runId = await newRun('ts-logger');
    log('BufferedLogger');
    const logger = new BufferedLogger({ client, runId, spillDir: join(dir, 'spill'), handleProcessExit: false });
    const t = performance.now();
    for (let s = 0; s < STEPS; s++) for (let k = 0; k < KEYS; k++) logger.logMetric(`m${k}`, value(k, s), s, T0 + s);
    const callMs = performance.now() - t;
    const r = await logger.close();
    if (r.spilledPoints || r.rejectedPoints) throw new Error(`logger left ${r.spilledPoints} spilled / ${r.rejectedPoints} rejected`);
    results.push({ name: 'TS BufferedLogger (log calls + close)', seconds: (performance.now() - t) / 1000, runId, note: `the ${POINTS} logMetric calls took ${callMs.toFixed(0)} ms in total` });
  }
  // 4. Python MlflowClient.log_batch (timed inside Python, interpreter start and object creation excluded).
  {
    const runId = await newRun('python');
    log('Python MlflowClient.log_batch');
    const t = performance.now();
    const { stdout } = await execa(join(root, '.venv/bin/python'), [join(import.meta.dirname, 'python_ingest.py'), server.uri, runId, String(KEYS), String(STEPS), String(T0)], {
      env: { MLFLOW_DISABLE_TELEMETRY: 'true' },
    });
    const wall = (performance.now() - t) / 1000;
    const py = JSON.parse(stdout) as { seconds: number; points: number };
    results.push({ name: 'Python MlflowClient.log_batch', seconds: py.seconds, runId, note: `process wall time incl. import mlflow: ${wall.toFixed(1)} s` });
  }

  // Every run must hold every point.
  for (const r of results) {
    let n = 0;
    for (let k = 0; k < KEYS; k++) n += (await client.getMetricHistory(r.runId, `m${k}`)).length;
    if (n !== STEPS * KEYS) throw new Error(`${r.name}: ${n} points stored, expected ${STEPS * KEYS}`);
  }
  const ceiling = results[0]!.seconds;
  const python = results.find((r) => r.name.startsWith('Python'))!.seconds;
  console.log(`\nMetric ingest, ${STEPS * KEYS} points (${KEYS} keys × ${STEPS} steps), one local mlflow server (SQLite, 1 worker), ${new Date().toISOString()}`);
  console.log('| client | seconds | points/s | time vs raw ceiling | time vs Python |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(`| ${r.name} | ${r.seconds.toFixed(2)} | ${Math.round((STEPS * KEYS) / r.seconds)} | ${(r.seconds / ceiling).toFixed(2)}× | ${(r.seconds / python).toFixed(2)}× |`);
  }
  for (const r of results) if (r.note) console.log(`- ${r.name}: ${r.note}`);
} finally {
  await client.close();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
