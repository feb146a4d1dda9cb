// The ClearML sink when the server goes away mid-run: nothing is lost. The tracker talks to the real server through
// TCP proxies (API and fileserver) that are cut after training started; what could not be sent (events, an
// artifact, the model, the end status) goes to offline sessions continuing the task, `end()` says so with the import
// command, and importing them completes the task on the server — read back through REST.
import { EventsLogger, importOfflineSession, OfflineSession } from '@mlops-ts/clearml-client';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { clearmlSinkClient, ClearmlTracker } from '../src/index.js';
import { requireClearml, uniqueProjectName } from '../../../tools/testing/clearml-server.js';
import { clearmlReader } from './contract-readers.js';

const server = inject('clearml');

/** A TCP proxy to `target` that can be cut (every connection dropped, new ones refused). */
async function proxy(target: string): Promise<{ url: string; cut(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const srv: Server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const address = srv.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    cut: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

describe.skipIf(!server.available)('ClearML going away mid-run', () => {
  const s = server.available ? requireClearml(server) : undefined!;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tracking-clearml-outage-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('loses nothing: the rest goes to offline sessions continuing the task, and their import completes it', async () => {
    const api = await proxy(s.apiHost);
    const files = await proxy(s.filesHost);
    const config = { apiHost: api.url, webHost: s.webHost, filesHost: files.url, credentials: { accessKey: s.accessKey, secretKey: s.secretKey }, retries: { maxRetries: 0 } };
    const client = clearmlSinkClient(config);
    const direct = clearmlSinkClient({ apiHost: s.apiHost, webHost: s.webHost, filesHost: s.filesHost, credentials: { accessKey: s.accessKey, secretKey: s.secretKey } });
    const offlineDir = join(dir, 'offline');
    const lines: string[] = [];
    const tracker = new ClearmlTracker({
      client,
      events: (taskId) => new EventsLogger({ transport: client.transport, taskId, spillDir: join(dir, 'spill'), offline: { dir: offlineDir }, retryDelayMs: 50, maxRetryDelayMs: 100 }),
      offlineSession: (o) => OfflineSession.create(o),
      offlineDir,
      project: uniqueProjectName('tracking-outage'),
      log: (l) => lines.push(l),
    });
    try {
      const run = await tracker.startRun({ experiment: 'outage', runName: 'outage-run', tags: { 'mlops.model': 'm' } });
      await run.logParams({ 'model.type': 'mlp' });
      run.logMetric({ key: 'train_loss', value: 0.5, step: 1 });
      await api.cut();
      await files.cut();
      run.logMetric({ key: 'train_loss', value: 0.25, step: 2 });
      const file = join(dir, 'history.json');
      await writeFile(file, '[1,2]');
      await run.logArtifact(file, 'plots');
      const model = join(dir, 'model');
      await mkdir(model, { recursive: true });
      await writeFile(join(model, 'model.json'), '{}');
      const ref = await run.logModel(model, { name: 'model', labels: ['a', 'b'] });
      expect(ref.models['clearml']?.modelId).toBeUndefined(); // the model gets its id when the session is imported
      const report = await run.end('FINISHED');
      expect(report.delivered).toBe(false);
      expect(report.pending).toMatch(new RegExp(`ClearML task ${run.runId} is incomplete on the server .*deliver with: npm run clearml -- import \\S+\\.zip`));
      expect(lines.some((l) => /ClearML unreachable while logging artifact/.test(l))).toBe(true);

      // The server is back (here: reached directly): import every session the run left, in the order written.
      const zips = (await readdir(offlineDir)).filter((f) => f.endsWith('.zip'));
      expect(zips.length).toBeGreaterThanOrEqual(1);
      for (const zip of zips) await importOfflineSession(join(offlineDir, zip), { client: direct, previousTaskId: run.runId });
      const back = await clearmlReader(direct)(run.runId);
      expect(back.params).toEqual({ 'model.type': 'mlp' });
      expect(back.metrics['train_loss']).toEqual([[1, 0.5], [2, 0.25]]);
      expect(back.artifactKeys).toContain('plots/history.json');
      expect((await back.artifact('plots/history.json')).toString()).toBe('[1,2]');
      expect(back.model?.labels).toEqual(['a', 'b']);
      expect(back.status).toBe('FINISHED');
    } finally {
      await client.close();
      await direct.close();
    }
  });
});
