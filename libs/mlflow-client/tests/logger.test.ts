// BufferedLogger against a real mlflow server that is killed mid-run and restarted on the same port and SQLite DB:
// no metric point may be lost. Uses its own server (the shared one must not be killed).
import { execa } from 'execa';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { BufferedLogger, type LocalMlflowServer, type LoggerEvent, MlflowClient, MlflowValidationError, replaySpill, startLocalMlflowServer } from '../src/index.js';

const MLFLOW_BIN = resolve(import.meta.dirname, '../../../.venv/bin/mlflow');
// Started in global-setup.ts (in parallel with the others); this file kills it and restarts it on the same port/DB.
const initial = inject('loggerServer');
let dir: string;
let server: LocalMlflowServer | undefined;
let client: MlflowClient;
let expId: string;

const start = () => startLocalMlflowServer({ dir: initial.dir, port: initial.port, mlflowBin: MLFLOW_BIN });

/** Kill the running server (the initial one belongs to the global setup process: kill its group by pid). */
async function kill() {
  if (server) {
    await server.stop({ signal: 'SIGKILL' });
    server = undefined;
    return;
  }
  process.kill(-initial.pid, 'SIGKILL');
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`${initial.uri}/health`).then(() => true, () => false);
    if (!up) return;
    await sleep(100);
  }
  throw new Error('the logger test server did not die');
}
const value = (s: number) => Math.cos(s / 100) + s * 1e-6;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mlflow-logger-'));
  client = new MlflowClient({ trackingUri: initial.uri, retries: { maxRetries: 1, backoffMs: 100, maxBackoffMs: 500 } });
  expId = (await client.getOrCreateExperiment('logger')).experiment_id;
});
afterAll(async () => {
  await client?.close();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function expectHistory(runId: string, key: string, steps: number[], valueOf: (s: number) => number, t0: number) {
  const h = await client.getMetricHistory(runId, key);
  const got = h.map((m) => [m.step, m.value, m.timestamp]).sort((a, b) => a[0]! - b[0]!);
  expect(got.length).toBe(steps.length);
  expect(got).toEqual(steps.map((s) => [s, valueOf(s), t0 + s]));
}

test('server killed mid-run and restarted: no point lost — delivered on recovery, or spilled at close and replayed', async () => {
  // Logger A keeps running through the outage; logger B is closed while the server is down (spills), then replayed.
  const runA = (await client.createRun({ experimentId: expId, runName: 'killed' })).info.run_id;
  const runB = (await client.createRun({ experimentId: expId, runName: 'replayed' })).info.run_id;
  const spillA = join(dir, 'spill-a');
  const spillB = join(dir, 'spill-b');
  const events: LoggerEvent[] = [];
  const a = new BufferedLogger({
    client,
    runId: runA,
    spillDir: spillA,
    flushIntervalMs: 100,
    maxBufferedPoints: 2500,
    retryDelayMs: 200,
    maxRetryDelayMs: 1000,
    handleProcessExit: false,
    onEvent: (e) => events.push(e),
  });
  const b = new BufferedLogger({ client, runId: runB, spillDir: spillB, flushIntervalMs: 50, closeTimeoutMs: 300, retryDelayMs: 100, handleProcessExit: false });
  a.logParam('epochs', 12);
  const t0 = 1_770_000_000_000;
  const logSteps = async (from: number, to: number) => {
    for (let s = from; s < to; s++) {
      a.logMetric('loss', value(s), s, t0 + s); // synchronous: queues (or spills) and returns
      if (s % 250 === 0) await sleep(5); // the "training" yields now and then
    }
  };
  await logSteps(0, 2000);
  for (let s = 0; s < 500; s++) b.logMetric('acc', s / 500, s, t0 + s);
  await Promise.all([a.flush(), b.flush()]);

  await kill(); // the server dies mid-run
  const seenDown = a.nextEvent('unreachable');
  await logSteps(2000, 9000); // 7000 points while down: more than maxBufferedPoints → spilled to files
  for (let s = 500; s < 3000; s++) b.logMetric('acc', s / 500, s, t0 + s);
  b.setTag('phase', 'after-crash');
  expect(() => b.logMetric('bad*name', 1)).toThrow(MlflowValidationError); // refused at the call, not lost later
  const closedB = await b.close();
  expect(closedB.spilledPoints).toBe(2501);
  expect(closedB.spillFiles).toHaveLength((await readdir(spillB)).filter((f) => f.endsWith('.spill.jsonl')).length);
  const down = await seenDown; // the logger's own verdict, not a guess from elapsed time
  expect(down.error).toMatch(/ECONNREFUSED|unreachable|connect/i);
  expect(a.isUnreachable).toBe(true);
  // While down, nothing waited on the network: all 7000 points are either queued or in spill files.
  const spilledWhileDown = events.filter((e) => e.type === 'spilled').reduce((n, e) => n + (e as { points: number }).points, 0);
  expect(spilledWhileDown).toBeGreaterThanOrEqual(7000 - 2500);
  expect(a.pendingPoints + spilledWhileDown).toBeGreaterThanOrEqual(7000);
  const spillFilesA = events.flatMap((e) => (e.type === 'spilled' ? [basename(e.file)] : []));
  expect(spillFilesA.length).toBeGreaterThanOrEqual(2); // 7000 points over a 2500-point buffer
  expect((await readdir(spillA)).filter((f) => f.endsWith('.spill.jsonl')).sort()).toEqual(spillFilesA.sort());

  const recovered = a.nextEvent('recovered'); // asked before the restart: the logger may see it first
  server = await start(); // same port, same SQLite DB
  await logSteps(9000, 10_000);
  const result = await a.close();
  expect((await recovered).pending).toBeGreaterThanOrEqual(7000); // what waited during the outage, not 0
  expect(result.spilledPoints).toBe(0);
  expect(result.rejectedPoints).toBe(0);
  expect(result.delivered).toBe(10_001);
  expect(await readdir(spillA)).toEqual([]);
  const types = new Set(events.map((e) => e.type));
  for (const t of ['unreachable', 'spilled', 'recovered', 'delivered-spill']) expect(types, t).toContain(t);
  await expectHistory(runA, 'loss', Array.from({ length: 10_000 }, (_, s) => s), value, t0);
  expect((await client.getRun(runA)).data.params).toEqual([{ key: 'epochs', value: '12' }]);

  const replay = await replaySpill({ client, path: spillB });
  expect(replay.metrics).toBe(2500);
  expect(replay.tags).toBe(1);
  expect(await readdir(spillB)).toEqual([]);
  await expectHistory(runB, 'acc', Array.from({ length: 3000 }, (_, s) => s), (s) => s / 500, t0);
  expect((await client.getRun(runB)).data.tags).toContainEqual({ key: 'phase', value: 'after-crash' });
  // Replaying again is a no-op (and re-sending the same records would be harmless: the server deduplicates).
  expect((await replaySpill({ client, path: spillB })).records).toBe(0);
});

test('after a short outage the logger says how many points it is delivering: all that waited', async () => {
  if (!server) server = await start();
  const runId = (await client.createRun({ experimentId: expId, runName: 'short-outage' })).info.run_id;
  const events: LoggerEvent[] = [];
  const logger = new BufferedLogger({ client, runId, spillDir: join(dir, 'spill-short'), flushIntervalMs: 50, retryDelayMs: 100, maxRetryDelayMs: 200, onEvent: (e) => events.push(e) });
  const epoch = (e: number) => {
    for (const k of ['train_loss', 'train_accuracy', 'valid_loss', 'valid_accuracy', 'rows_per_second']) logger.logMetric(k, e / 10, e, t0 + e);
  };
  const t0 = 1_780_000_000_000;
  epoch(0);
  await logger.flush();
  expect(logger.pendingPoints).toBe(0);
  await kill();
  for (let e = 1; e <= 6; e++) {
    epoch(e);
    if (e === 1) await logger.nextEvent('unreachable');
  }
  expect(logger.pendingPoints).toBe(30);
  const recovering = logger.nextEvent('recovered');
  server = await start();
  const recovered = await recovering;
  expect(recovered.pending).toBe(30); // six epochs of five metrics (the bug said "delivering 0")
  const closed = await logger.close();
  expect(closed).toEqual({ delivered: 35, spilledPoints: 0, spillFiles: [], rejectedPoints: 0 });
  expect((await client.getMetricHistory(runId, 'valid_loss')).map((m) => Number(m.step)).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  expect(events.filter((e) => e.type === 'recovered')).toHaveLength(1);
});

test('no process handlers by default; flushToSpill() writes what is queued synchronously, for the app\'s signal handler', async () => {
  if (!server) server = await start();
  const before = ['SIGINT', 'SIGTERM', 'exit', 'beforeExit'].map((e) => process.listenerCount(e));
  const runId = (await client.createRun({ experimentId: expId, runName: 'flush-to-spill' })).info.run_id;
  const spill = join(dir, 'spill-signal');
  const logger = new BufferedLogger({ client, runId, spillDir: spill, flushIntervalMs: 60_000 });
  expect(['SIGINT', 'SIGTERM', 'exit', 'beforeExit'].map((e) => process.listenerCount(e))).toEqual(before);
  for (let s = 0; s < 40; s++) logger.logMetric('m', s, s, 1_790_000_000_000 + s);
  logger.setTag('stage', 'train');
  const r = logger.flushToSpill();
  expect(r.spilledPoints).toBe(41);
  expect(r.spillFiles).toHaveLength(1);
  expect(() => logger.logMetric('m', 1)).toThrow(/closed/);
  expect((await client.getMetricHistory(runId, 'm')).length).toBe(0); // nothing was sent: it all waits on disk
  const replay = await replaySpill({ client, path: spill });
  expect([replay.metrics, replay.tags]).toEqual([40, 1]);
  expect((await client.getMetricHistory(runId, 'm')).map((m) => Number(m.value)).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  const withHooks = new BufferedLogger({ client, runId, spillDir: spill, handleProcessExit: true });
  expect(process.listenerCount('SIGTERM')).toBe(before[1]! + 1);
  await withHooks.close();
  expect(process.listenerCount('SIGTERM')).toBe(before[1]);
});

test('a process that ends without close(): flushed on beforeExit, or spilled on process.exit (handlers asked for)', async () => {
  const child = resolve(import.meta.dirname, 'fixtures/exit-child.ts');
  const runId = (await client.createRun({ experimentId: expId, runName: 'child' })).info.run_id;
  const spill = join(dir, 'spill-3');
  await execa('node', ['--import', 'tsx', child, initial.uri, runId, spill, '700', 'natural'], { cwd: resolve(import.meta.dirname, '..') });
  await expectHistory(runId, 'child_metric', Array.from({ length: 700 }, (_, s) => s), (s) => s * 0.5, 1_760_000_000_000);

  const runId2 = (await client.createRun({ experimentId: expId, runName: 'child-exit' })).info.run_id;
  const spill2 = join(dir, 'spill-4');
  await execa('node', ['--import', 'tsx', child, initial.uri, runId2, spill2, '900', 'exit'], { cwd: resolve(import.meta.dirname, '..') });
  const files = await readdir(spill2);
  expect(files.length).toBe(1);
  const replay = await replaySpill({ client, path: spill2 });
  expect(replay.metrics).toBe(900);
  await expectHistory(runId2, 'child_metric', Array.from({ length: 900 }, (_, s) => s), (s) => s * 0.5, 1_760_000_000_000);
});
