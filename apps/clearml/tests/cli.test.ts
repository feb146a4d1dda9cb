// `npm run clearml -- import`: a session written by the official SDK (Task.set_offline) goes to the server;
// what the SDK reads back of the imported task is what it logged offline. Bad input exits 2, server errors 1.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { clearmlSdkEnv, requireClearml, runSdkScript, uniqueProjectName, type ClearmlServerAvailable } from '../../../tools/testing/clearml-server.js';
import { root, runStageCli, tsx } from '../../../tools/testing/stage-cli.js';
import { ClearmlClient } from '@mlops-ts/clearml-client';
import { z } from 'zod';

const freePort = (): Promise<number> =>
  new Promise((ok) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
async function poll<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let v = await read();
  while (!done(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 300));
    v = await read();
  }
  return v;
}

const server = inject('clearml');
const oracle = join(root, 'libs/clearml-client/tests/offline-sdk.py');

describe.skipIf(!server.available)('npm run clearml -- import', () => {
  let s: ClearmlServerAvailable;
  let dir: string;
  let env: Record<string, string>;
  let project: string;
  let written: { folder: string; zip: string };
  // run from a copy outside the repository: Task.init in a git checkout spends minutes on repository detection
  const sdk = async (...args: string[]): Promise<Record<string, unknown>> =>
    (await runSdkScript(join(dir, 'offline-sdk.py'), args, { cwd: dir, env: { ...env, CLEARML_CACHE_DIR: join(dir, 'sdk-cache') } })) as Record<string, unknown>;
  beforeAll(async () => {
    s = requireClearml(server);
    dir = await mkdtemp(join(tmpdir(), 'cml-cli-'));
    env = clearmlSdkEnv(s, dir);
    await copyFile(oracle, join(dir, 'offline-sdk.py'));
    project = uniqueProjectName('cli');
    try {
      written = (await sdk('write', join(dir, 'sdk-offline'), project)) as { folder: string; zip: string };
    } catch (e) {
      // the SDK's write once hung in Task.close() (see runSdkScript): one bounded retry, said out loud
      console.warn(`[cli.test] SDK offline write failed once, retrying in a new folder: ${(e as Error).message.slice(0, 300)}`);
      written = (await sdk('write', join(dir, 'sdk-offline-retry'), project)) as { folder: string; zip: string };
    }
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('imports a session the official SDK wrote offline and prints the task page', async () => {
    const r = await runStageCli('clearml', ['import', written.zip], { cwd: dir, env });
    expect(r.exitCode, r.stderr).toBe(0);
    const url = r.stdout.trim();
    expect(url).toMatch(new RegExp(`^${s.webHost}/projects/\\w+/(experiments|tasks)/\\w+`));
    expect(r.stderr).toMatch(/\[clearml\] created task \w+: \d+ events, 1 artifacts, 0 models, status completed/);
    expect(r.stderr).not.toContain(s.secretKey);
    const taskId = /(?:experiments|tasks)\/(\w+)/.exec(url)![1]!;
    await new Promise((ok) => setTimeout(ok, 1200)); // index refresh

    const v = (await sdk('read', taskId)) as { project: string; status: string; params: Record<string, string>; scalars: Record<string, Record<string, { x: number[]; y: number[] }>>; single_values: Record<string, number>; plots: { metric: string }[]; console: string[]; artifacts: Record<string, { content: string }> };
    expect(v.project).toBe(project);
    expect(v.status).toBe('completed');
    expect(v.params).toEqual({ 'General/lr': '0.05', 'General/epochs': '2', 'General/optimizer': 'adam' });
    expect(v.scalars['loss']!['train']!.x).toEqual([0, 1, 2, 3]);
    v.scalars['loss']!['train']!.y.forEach((y, i) => expect(Math.abs(y - 1 / (i + 1))).toBeLessThan(1e-6));
    expect(v.single_values).toEqual({ auc: 0.81 });
    expect(v.plots.map((p) => p.metric)).toEqual(['confusion']);
    expect(v.console.join('\n')).toContain('sdk says hi');
    expect(v.artifacts['notes']!.content).toBe('sdk artifact\n');
  });

  test('events an EventsLogger left in a spill file when its process ended are delivered by import <spill file>', async () => {
    const client = new ClearmlClient({ apiHost: s.apiHost, webHost: s.webHost, filesHost: s.filesHost, credentials: { accessKey: s.accessKey, secretKey: s.secretKey } });
    try {
      const task = await client.tasks.create({ project: uniqueProjectName('cli-spill'), name: 'ended early' });
      await client.tasks.started(task.id);
      const closed = await freePort(); // nothing listens there: the server is unreachable for the child
      const child = await execa('node', ['--conditions=@mlops-ts/source', '--import', tsx, join(import.meta.dirname, 'fixtures/exit-without-close.ts'), `http://127.0.0.1:${closed}`, task.id, join(dir, 'spill')], { reject: false });
      expect(child.exitCode, child.stderr).toBe(0);
      const m = /wait in (\S+\.events\.jsonl); deliver them with: npm run clearml -- import (\S+)$/m.exec(child.stderr);
      expect(m, child.stderr).not.toBeNull();
      expect(m![2]).toBe(m![1]);

      const r = await runStageCli('clearml', ['import', m![2]!], { cwd: dir, env });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(client.webUrl(task.id));
      expect(existsSync(m![2]!)).toBe(false); // delivered: removed, so a second import cannot duplicate
      const lines = await poll(async () => (await client.transport.call('events.get_task_log', { task: task.id, navigate_earlier: false }, z.object({ events: z.array(z.looseObject({ msg: z.string() })) }))).events, (e) => e.length >= 1);
      expect(lines.map((e) => e.msg)).toEqual(['last words']);
      const h = await client.transport.call('events.scalar_metrics_iter_histogram', { task: task.id }, z.record(z.string(), z.record(z.string(), z.object({ x: z.array(z.number()) }))));
      expect(h['loss']!['train']!.x).toEqual([0, 1, 2, 3, 4]);
    } finally {
      await client.close();
    }
  });

  test('bad input exits 2 with one line naming it; a server error exits 1', async () => {
    const missing = await runStageCli('clearml', ['import', join(dir, 'nope.zip')], { cwd: dir, env });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr.trim()).toBe(`clearml: no offline session at ${join(dir, 'nope.zip')}`);

    const empty = join(dir, 'empty');
    await mkdir(empty);
    const notSession = await runStageCli('clearml', ['import', empty], { cwd: dir, env });
    expect(notSession.exitCode).toBe(2);
    expect(notSession.stderr).toMatch(/^clearml: offline session .*empty\/task\.json: no task\.json \(not an offline session\)$/);

    const noServer = await runStageCli('clearml', ['import', written.folder], { cwd: dir, env: { CLEARML_CONFIG_FILE: join(dir, 'none.conf'), CLEARML_API_HOST: '', CLEARML_API_ACCESS_KEY: '', CLEARML_API_SECRET_KEY: '', HOME: dir } });
    expect(noServer.exitCode).toBe(2);
    expect(noServer.stderr).toMatch(/^clearml: no ClearML server configured/);

    const badTask = await runStageCli('clearml', ['import', written.folder, '--task', 'no-such-task-id'], { cwd: dir, env });
    expect(badTask.exitCode).toBe(1);
    expect(badTask.stderr.trim().split('\n').at(-1)).toMatch(/^clearml: ClearML tasks\.get_by_id at .* failed: 400\/101/);
  });
});
