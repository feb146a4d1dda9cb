// Offline sessions written by the TypeScript client, imported by the official SDK (Task.import_offline_session)
// and by importOfflineSession; what the SDK reads back of either task must be what was logged.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { clearmlSdkEnv, runSdkScript } from '../../../tools/testing/clearml-server.js';
import { ClearmlClient, ClearmlOfflineSessionError, confusionFigure, importOfflineSession, OfflineSession, readOfflineSession, type OfflineSessionResult } from '../src/index.js';
import { close32, countPoints, poll, readScalars } from './events-support.js';
import { hasServer, serverInfo, testConfig, uniqueProjectName } from './helpers.js';

interface SdkView {
  id: string;
  name: string;
  project: string;
  status: string;
  params: Record<string, string>;
  configuration_dicts: Record<string, unknown>;
  scalars: Record<string, Record<string, { x: number[]; y: number[] }>>;
  single_values: Record<string, number>;
  plots: { metric: string; variant: string; iter: number; figure: { data: Record<string, unknown>[] } }[];
  console: string[];
  artifacts: Record<string, { content: string; url: string }>;
  models: { name: string; url: string; framework: string; content: string }[];
}

async function sdk(dir: string, ...args: string[]): Promise<SdkView> {
  return (await runSdkScript(join(import.meta.dirname, 'offline-sdk.py'), args, { env: { ...clearmlSdkEnv(serverInfo(), dir), CLEARML_CACHE_DIR: join(dir, 'sdk-cache') } })) as SdkView;
}

const loss = (v: string, i: number) => (v === 'train' ? 1 / (i + 1) : 1.2 / (i + 1)) + 0.0123456;

describe.skipIf(!hasServer)('offline sessions', () => {
  let dir: string;
  let project: string;
  let written: OfflineSessionResult;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cml-offline-'));
    project = uniqueProjectName('offline');
    const s = await OfflineSession.create({ dir: join(dir, 'sessions'), project, name: 'ts offline run', outputUri: serverInfo().filesHost });
    s.setParameters({ General: { lr: 0.01, epochs: 3, shuffle: true, optimizer: 'adam' }, Args: { seed: 7 } });
    s.setConfiguration('model', { layers: [16, 8], activation: 'relu' });
    for (let i = 0; i < 4; i++) for (const v of ['train', 'val']) s.scalar('loss', v, i, loss(v, i));
    s.singleValue('test_auc', 0.8125);
    s.plot('confusion', 'test', 3, confusionFigure({ matrix: [[9, 1], [2, 8]], labels: ['neg', 'pos'] }));
    s.log(['epoch 1', 'epoch 2']);
    await writeFile(join(dir, 'metrics.json'), '{"auc": 0.8125}\n');
    await s.addArtifact('metrics', join(dir, 'metrics.json'));
    await writeFile(join(dir, 'model.bin'), 'weights-bytes');
    await s.addModel('mlp', join(dir, 'model.bin'), { framework: 'TensorFlow.js' });
    written = await s.close();
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function expectLogged(v: SdkView): void {
    expect(v.name).toBe('ts offline run');
    expect(v.project).toBe(project);
    expect(v.status).toBe('completed');
    expect(v.params).toEqual({ 'General/lr': '0.01', 'General/epochs': '3', 'General/shuffle': 'True', 'General/optimizer': 'adam', 'Args/seed': '7' });
    expect(v.configuration_dicts).toEqual({ model: { layers: [16, 8], activation: 'relu' } });
    expect(Object.keys(v.scalars)).toEqual(['loss']);
    for (const variant of ['train', 'val']) {
      const s = v.scalars['loss']![variant]!;
      expect(s.x).toEqual([0, 1, 2, 3]);
      s.y.forEach((y, i) => expect(close32(y, loss(variant, i)), `${variant}@${i}: ${y}`).toBe(true));
    }
    expect(v.single_values).toEqual({ test_auc: 0.8125 });
    expect(v.plots.map((p) => [p.metric, p.variant, p.iter])).toEqual([['confusion', 'test', 3]]);
    expect(v.plots[0]!.figure.data[0]).toMatchObject({ type: 'heatmap', z: [[9, 1], [2, 8]], x: ['neg', 'pos'] });
    expect(v.console).toEqual(['epoch 1\nepoch 2']);
    expect(Object.keys(v.artifacts)).toEqual(['metrics']);
    expect(v.artifacts['metrics']!.content).toBe('{"auc": 0.8125}\n');
    expect(v.artifacts['metrics']!.url.startsWith(serverInfo().filesHost)).toBe(true);
    expect(v.models.map((m) => [m.name, m.framework, m.content])).toEqual([['mlp', 'TensorFlow.js', 'weights-bytes']]);
    expect(v.models[0]!.url.startsWith(serverInfo().filesHost)).toBe(true);
  }

  test('the official SDK imports a session written by the TypeScript client', async () => {
    const v = await sdk(dir, 'import', written.zip);
    expectLogged(v);
    expect(v.artifacts['metrics']!.url).toContain(`.${v.id}/artifacts/metrics/metrics.json`);
  });

  test('importOfflineSession imports the same session; the SDK reads back the same', async () => {
    const client = new ClearmlClient(testConfig());
    const lines: string[] = [];
    try {
      const r = await importOfflineSession(written.zip, { client, log: (l) => lines.push(l) });
      expect(r).toMatchObject({ continued: false, events: { sent: 11, added: 11, refused: 0 }, artifacts: ['metrics'], status: 'completed' });
      expect(r.webUrl).toContain(r.taskId);
      expect(lines.some((l) => l.startsWith('events 11/11'))).toBe(true);
      await new Promise((res) => setTimeout(res, 1200)); // index refresh
      const v = await sdk(dir, 'read', r.taskId);
      expectLogged(v);
      expect(v.id).toBe(r.taskId);
    } finally {
      await client.close();
    }
  });

  test('importOfflineSession continues a task that had completed: events, artifacts, model in, status back', async () => {
    const client = new ClearmlClient(testConfig());
    try {
      const task = await client.tasks.create({ project, name: 'continued' });
      await client.tasks.started(task.id);
      await client.tasks.completed(task.id);
      const r = await importOfflineSession(written.folder, { client, previousTaskId: task.id, iterationOffset: 100 });
      expect(r).toMatchObject({ taskId: task.id, continued: true, status: 'completed', events: { added: 11 }, artifacts: ['metrics'] });
      expect(r.models.map((m) => m.name)).toEqual(['mlp']);
      const after = await client.tasks.get(task.id);
      expect(after.status).toBe('completed');
      expect(after.models?.output?.map((m) => m.name)).toEqual(['mlp']);
      const scalars = await poll(() => readScalars(client.transport, task.id), (h) => countPoints(h) >= 8);
      expect(scalars['loss']!['train']!.x).toEqual([100, 101, 102, 103]);
    } finally {
      await client.close();
    }
  });

  test('a folder that is not a session is refused with the file named', async () => {
    await expect(readOfflineSession(join(dir, 'metrics.json'))).rejects.toThrow(ClearmlOfflineSessionError);
    await expect(readOfflineSession(dir)).rejects.toThrow(/no task\.json/);
  });
});
