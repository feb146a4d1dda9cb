// Scalar ingest into one ClearML server: this client's EventsLogger vs the official SDK's Logger.report_scalar
// (+ flush), and a raw loop of pre-serialized events.add_batch bodies (the server's own cost: the ceiling).
// Each is timed from its first call to the moment the server holds every point (polled every 100 ms through
// events.scalar_metrics_iter_histogram), so all three include the same index-refresh wait.
// Run from the repo root:
//   node --conditions=@mlops-ts/source --import tsx bench/clearml-ingest/run.ts [--points N]
// The server: CLEARML_API_HOST + keys in the environment, else the local test server (../shared/clearml-server).
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { z } from 'zod';
import { ClearmlTransport, EventsLogger, type ClearmlConfig } from '@mlops-ts/clearml-client';
import { clearmlSdkEnv, resolveClearmlServer, uniqueProjectName } from '../../tools/testing/clearml-server.js';

const root = resolve(import.meta.dirname, '../..');
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const POINTS = arg('points', 50_000);
const KEYS = Math.max(10, Math.ceil(POINTS / 5000)); // the histogram read returns at most 6000 iterations per series
const STEPS = Math.ceil(POINTS / KEYS);
const value = (k: number, s: number) => 1 / (s + 1) + k * 0.001;
const log = (s: string) => console.log(`[bench] ${s}`);

const resolved = await resolveClearmlServer({ log });
if (!resolved.info.available) throw new Error(`no ClearML server: ${resolved.info.reason}`);
const s = resolved.info;
const config: ClearmlConfig = { apiHost: s.apiHost, webHost: s.webHost, filesHost: s.filesHost, credentials: { accessKey: s.accessKey, secretKey: s.secretKey } };
const transport = new ClearmlTransport(config);
const dir = await mkdtemp(join(tmpdir(), 'clearml-ingest-bench-'));
const Id = z.object({ id: z.string() });
const Histogram = z.record(z.string(), z.record(z.string(), z.object({ x: z.array(z.number()) })));

try {
  const project = (await transport.call('projects.create', { name: uniqueProjectName('ingest-bench'), description: 'bench/clearml-ingest' }, Id)).id;
  const newTask = async (name: string) => {
    const id = (await transport.call('tasks.create', { name, project, type: 'training' }, Id)).id;
    await transport.call('tasks.started', { task: id }, z.looseObject({}));
    return id;
  };
  const results: { name: string; seconds: number; taskId: string; note?: string }[] = [];
  const stored = async (taskId: string): Promise<number> => {
    const h = await transport.call('events.scalar_metrics_iter_histogram', { task: taskId, samples: 6000 }, Histogram);
    return Object.values(h).reduce((a, vs) => a + Object.values(vs).reduce((b, v) => b + v.x.length, 0), 0);
  };
  /** Epoch ms at which the task holds all points (fails after 120 s). */
  const allStored = async (taskId: string, name: string): Promise<number> => {
    const end = Date.now() + 120_000;
    for (;;) {
      const n = await stored(taskId);
      if (n === STEPS * KEYS) return Date.now();
      if (n > STEPS * KEYS || Date.now() > end) throw new Error(`${name}: ${n} points stored, expected ${STEPS * KEYS}`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
  };

  // warm-up: first requests open the indices
  {
    const w = new EventsLogger({ transport, taskId: await newTask('warmup'), spillDir: join(dir, 'spill') });
    for (let i = 0; i < 2000; i++) w.scalar('m0', 'v', i, value(0, i));
    await w.close();
  }
  // 1. raw: json-lines bodies of 2000 events prepared before the clock starts, sent one after another
  {
    const taskId = await newTask('raw');
    const lines: string[] = [];
    for (let st = 0; st < STEPS; st++) for (let k = 0; k < KEYS; k++) lines.push(JSON.stringify({ type: 'training_stats_scalar', task: taskId, timestamp: Date.now(), iter: st, metric: `m${k}`, variant: 'v', value: value(k, st) }));
    const bodies: string[] = [];
    for (let i = 0; i < lines.length; i += 2000) bodies.push(lines.slice(i, i + 2000).join('\n'));
    const auth = await transport.authorization();
    log(`raw events.add_batch loop: ${bodies.length} requests`);
    const t = Date.now();
    for (const body of bodies) {
      const res = await request(`${s.apiHost}/v2.23/events.add_batch`, { method: 'POST', body, headers: { 'content-type': 'application/json-lines', authorization: auth } });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`raw events.add_batch: HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
    }
    const sent = Date.now();
    results.push({ name: 'raw events.add_batch loop (ceiling)', seconds: ((await allStored(taskId, 'raw')) - t) / 1000, taskId, note: `requests done after ${((sent - t) / 1000).toFixed(2)} s` });
  }
  // 2. EventsLogger: one scalar() call per point, then close() (everything delivered)
  {
    const taskId = await newTask('ts-logger');
    log('EventsLogger');
    const logger = new EventsLogger({ transport, taskId, spillDir: join(dir, 'spill') });
    const t = Date.now();
    const c = performance.now();
    for (let st = 0; st < STEPS; st++) for (let k = 0; k < KEYS; k++) logger.scalar(`m${k}`, 'v', st, value(k, st));
    const callMs = performance.now() - c;
    const r = await logger.close();
    const closed = Date.now();
    if (!r.delivered || r.stats.rejected) throw new Error(`logger: ${r.pending ?? `${r.stats.rejected} rejected`}`);
    results.push({ name: 'TS EventsLogger (scalar calls + close)', seconds: ((await allStored(taskId, 'EventsLogger')) - t) / 1000, taskId, note: `the ${STEPS * KEYS} scalar() calls took ${callMs.toFixed(0)} ms in total; close() returned after ${((closed - t) / 1000).toFixed(2)} s` });
  }
  // 3. the official SDK: Logger.report_scalar per point + flush(wait=True), timed inside Python
  {
    const taskId = await newTask('python-sdk');
    log('Python Logger.report_scalar + flush');
    const child = execa(join(root, '.venv/bin/python'), [join(import.meta.dirname, 'python_ingest.py'), taskId, String(KEYS), String(STEPS)], {
      env: { ...clearmlSdkEnv(s, dir), CLEARML_CACHE_DIR: join(dir, 'sdk-cache') },
      extendEnv: false,
      lines: true,
    });
    let start: number | undefined;
    child.stdout.on('data', (b: Buffer) => {
      const m = /START (\d+)/.exec(b.toString());
      if (m) start = Number(m[1]);
    });
    // poll while Python runs: its events may still be in flight when it exits (the SDK flushes at exit)
    const [done, out] = await Promise.all([allStored(taskId, 'Python'), child]);
    if (start === undefined) throw new Error('python_ingest.py printed no START line');
    const py = JSON.parse(out.stdout.at(-1)!) as { call_seconds: number; flush_seconds: number };
    results.push({ name: 'Python Logger.report_scalar + flush', seconds: (done - start) / 1000, taskId, note: `report_scalar calls ${py.call_seconds.toFixed(2)} s; flush(wait=True) returned after ${py.flush_seconds.toFixed(2)} s` });
  }

  const ceiling = results[0]!.seconds;
  const python = results.find((r) => r.name.startsWith('Python'))!.seconds;
  const ts = results.find((r) => r.name.startsWith('TS'))!.seconds;
  console.log(`\nScalar ingest, ${STEPS * KEYS} points (${KEYS} metrics × ${STEPS} iterations), ClearML server ${s.apiHost}, ${new Date().toISOString()}`);
  console.log('| client | seconds | points/s | time vs raw ceiling | time vs Python |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of results) console.log(`| ${r.name} | ${r.seconds.toFixed(2)} | ${Math.round((STEPS * KEYS) / r.seconds)} | ${(r.seconds / ceiling).toFixed(2)}× | ${(r.seconds / python).toFixed(2)}× |`);
  for (const r of results) if (r.note) console.log(`- ${r.name}: ${r.note}`);
  console.log(`\nEventsLogger / Python SDK points per second: ${(python / ts).toFixed(2)}`);
} finally {
  await transport.close();
  await resolved.release();
  await rm(dir, { recursive: true, force: true });
}
