// The API server going away mid-run: the logger talks to it through a TCP proxy that the test stops and restarts.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ClearmlClient, ClearmlTransport, EventsLogger, importOfflineSession, learningCurveFigure } from '../src/index.js';
import { countPoints, createTask, poll, readLog, readPlots, readScalars } from './events-support.js';
import { hasServer, serverInfo, testConfig, uniqueProjectName } from './helpers.js';

/** A TCP proxy to the API server that can be stopped (connections cut, port closed) and started again on its port. */
class Proxy {
  port = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(private readonly target: URL) {}
  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(Number(this.target.port), this.target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((ok, fail) => server.once('error', fail).listen(this.port, '127.0.0.1', () => ok()));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
  }
}

describe.skipIf(!hasServer)('EventsLogger through an outage', () => {
  let direct: ClearmlTransport;
  let proxied: ClearmlTransport;
  let proxy: Proxy;
  let dir: string;
  beforeAll(async () => {
    direct = new ClearmlTransport(testConfig());
    proxy = new Proxy(new URL(serverInfo().apiHost));
    await proxy.start();
    proxied = new ClearmlTransport(testConfig({ apiHost: `http://127.0.0.1:${proxy.port}`, retries: { maxRetries: 1, initialDelayMs: 20, maxDelayMs: 50 } }));
    dir = await mkdtemp(join(tmpdir(), 'cml-outage-'));
  });
  afterAll(async () => {
    await proxied?.close();
    await direct?.close();
    await proxy?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('events logged while the server is away wait in memory and on disk, then arrive exactly once', async () => {
    if (!proxy.port) await proxy.start();
    const { taskId } = await createTask(direct, uniqueProjectName('outage'), 'outage');
    const spillDir = join(dir, 'spill-1');
    const logger = new EventsLogger({ transport: proxied, taskId, spillDir, maxMemoryEvents: 20, flushEvery: 10, flushIntervalMs: 100, retryDelayMs: 100 });
    for (let i = 0; i < 10; i++) logger.scalar('loss', 'train', i, i / 10);
    expect(await logger.flush()).toMatchObject({ pending: 0 });

    await proxy.stop();
    for (let i = 10; i < 60; i++) logger.scalar('loss', 'train', i, i / 10);
    for (let i = 0; i < 5; i++) logger.log(`outage line ${i}`);
    const during = await logger.flush();
    expect(during.error).toMatch(/unreachable|ECONNREFUSED/i);
    expect(during.pending).toBe(55);
    const spilled = (await readdir(spillDir)).filter((f) => f.endsWith('.events.jsonl'));
    expect(spilled.length).toBeGreaterThan(0); // more than maxMemoryEvents waited: some went to disk

    await proxy.start(); // same port
    const report = await logger.close();
    expect(report).toMatchObject({ delivered: true, stats: { logged: 65, delivered: 65, rejected: 0 } });
    expect(report.stats.spilled).toBeGreaterThan(0);
    expect((await readdir(spillDir)).filter((f) => f.endsWith('.events.jsonl'))).toEqual([]);

    const scalars = await poll(() => readScalars(direct, taskId), (h) => countPoints(h) >= 60);
    expect(scalars['loss']!['train']!.x).toEqual([...Array(60).keys()]);
    const lines = await poll(() => readLog(direct, taskId), (l) => l.length >= 5);
    await new Promise((r) => setTimeout(r, 1200)); // one more index refresh: a duplicate would show now
    const again = await readLog(direct, taskId);
    expect(again.map((l) => l.msg).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `outage line ${i}`));
    expect(lines.length).toBe(5);
  });

  test('with the server still away at close, an offline session is written; importing it delivers everything', async () => {
    if (!proxy.port) await proxy.start();
    const { taskId } = await createTask(direct, uniqueProjectName('outage-offline'), 'outage offline');
    const spillDir = join(dir, 'spill-2');
    const logger = new EventsLogger({ transport: proxied, taskId, spillDir, maxMemoryEvents: 10, flushIntervalMs: 100, retryDelayMs: 100 });
    for (let i = 0; i < 5; i++) logger.scalar('acc', 'val', i, 0.5 + i / 100);
    expect(await logger.flush()).toMatchObject({ pending: 0 });

    await proxy.stop();
    for (let i = 5; i < 35; i++) logger.scalar('acc', 'val', i, 0.5 + i / 100);
    logger.log(['down 1', 'down 2']);
    logger.text('still down');
    logger.plot('curves', 'acc', 34, learningCurveFigure({ series: { val: [0.5, 0.6] } }));
    const report = await logger.close();
    expect(report.delivered).toBe(false);
    expect(report.offlineSession?.events).toBe(33);
    const m = /deliver them with: npm run clearml -- import (\S+\.zip) --task (\S+)$/.exec(report.pending ?? '');
    expect(m, report.pending).not.toBeNull();
    expect(m![2]).toBe(taskId);
    expect(existsSync(m![1]!)).toBe(true);
    expect(report.pending).not.toContain(serverInfo().secretKey);
    expect(report.pending).not.toContain(serverInfo().accessKey);

    await proxy.start();
    const imported = await importOfflineSession(m![1]!, { client: new ClearmlClient(testConfig(), { transport: direct }) });
    expect(imported).toMatchObject({ taskId, continued: true, events: { sent: 33, added: 33, refused: 0 } });

    const scalars = await poll(() => readScalars(direct, taskId), (h) => countPoints(h) >= 35);
    expect(scalars['acc']!['val']!.x).toEqual([...Array(35).keys()]);
    const lines = await poll(() => readLog(direct, taskId), (l) => l.length >= 2);
    expect(lines.map((l) => l.msg).sort()).toEqual(['down 1\ndown 2', 'still down']);
    const plots = await poll(() => readPlots(direct, taskId), (p) => p.length >= 1);
    expect(plots.map((p) => `${p.metric}/${p.variant}@${p.iter}`)).toEqual(['curves/acc@34']);
  });
});
