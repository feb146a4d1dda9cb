// BufferedLogger against a real mlflow server that is killed mid-run and restarted on the same port and SQLite DB:
// no metric point may be lost. Uses its own server (the shared one must not be killed).
import { execa } from 'execa';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
  let slowest = 0;
  const logSteps = async (from: number, to: number) => {
    for (let s = from; s < to; s++) {
      const t = performance.now();
      a.logMetric('loss', value(s), s, t0 + s);
      slowest = Math.max(slowest, performance.now() - t);
      if (s % 250 === 0) await sleep(5); // the "training" yields now and then
    }
  };
  await logSteps(0, 2000);
  for (let s = 0; s < 500; s++) b.logMetric('acc', s / 500, s, t0 + s);
  await Promise.all([a.flush(), b.flush()]);

  await kill(); // the server dies mid-run
  await logSteps(2000, 9000); // 7000 points while down: more than maxBufferedPoints → spilled to files
  for (let s = 500; s < 3000; s++) b.logMetric('acc', s / 500, s, t0 + s);
  b.setTag('phase', 'after-crash');
  expect(() => b.logMetric('bad*name', 1)).toThrow(MlflowValidationError); // refused at the call, not lost later
  const closedB = await b.close();
  expect(closedB.spilledPoints).toBe(2501);
  expect(closedB.spillFiles.length).toBeGreaterThan(0);
  await sleep(300);
  expect(a.isUnreachable).toBe(true);
  expect((await readdir(spillA)).filter((f) => f.endsWith('.spill.jsonl')).length).toBeGreaterThan(0);

  server = await start(); // same port, same SQLite DB
  await logSteps(9000, 10_000);
  const result = await a.close();
  expect(slowest).toBeLessThan(100); // logMetric only queues (spilling 2500 points synchronously included)
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

test('a process that ends without close(): flushed on beforeExit, or spilled on process.exit', async () => {
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
