import { execa } from 'execa';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { clearmlSdkEnv, sdkPython } from '../../../tools/testing/clearml-server.js';
import { ClearmlApiError, ClearmlClient, ClearmlFilesError } from '../src/index.js';
import { hasServer, serverInfo, testConfig, uniqueProjectName } from './helpers.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe.skipIf(!hasServer)('files, artifacts and models against the real server', () => {
  let client: ClearmlClient;
  let dir: string;
  const project = uniqueProjectName('artifacts');
  beforeAll(async () => {
    client = new ClearmlClient(testConfig());
    dir = await mkdtemp(join(tmpdir(), 'clearml-artifacts-'));
  });
  afterAll(async () => {
    const p = await client.projects.byName(project);
    if (p) await client.projects.delete(p.id, { force: true, deleteContents: true }).catch(() => undefined);
    await client.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('fileserver: upload with the token, download bytes equal; no token → refused', async () => {
    const bytes = randomBytes(50_000);
    const key = `${project}/raw files/blob one.bin`;
    const up = await client.files.put(bytes, key);
    expect(await client.files.upload(bytes, `${key}.copy`)).toBe(`${up.url}.copy`);
    expect(up).toMatchObject({ key, size: 50_000, sha256: sha256(bytes), url: `${serverInfo().filesHost}/${project}/raw%20files/blob%20one.bin` });
    expect(client.files.keyOf(up.url)).toBe(key);
    expect(sha256(await client.files.download(up.url))).toBe(sha256(bytes));
    const local = join(dir, 'downloaded.bin');
    expect(await client.files.downloadTo(up.url, local)).toEqual({ size: 50_000, sha256: sha256(bytes) });
    expect(sha256(await readFile(local))).toBe(sha256(bytes));
    // the fileserver wants the token: without it, 401
    const anonymous = await fetch(up.url);
    expect(anonymous.status).toBe(401);
    await client.files.delete(up.url);
    const gone = await client.files.download(up.url).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ClearmlFilesError);
    expect((gone as ClearmlFilesError).httpStatus).toBe(404);
  });

  test('artifacts: upload + register with sha256, size, content type, preview; download checks the hash', async () => {
    const task = await client.tasks.create({ name: 'artifact task', project });
    await client.tasks.started(task.id);
    const file = join(dir, 'metrics.json');
    const content = JSON.stringify({ accuracy: 0.91, f1: 0.88 });
    await writeFile(file, content);
    const a = await client.artifacts.upload(task.id, 'metrics', { file });
    expect(a).toMatchObject({ key: 'metrics', type: 'custom', mode: 'output', content_size: content.length, hash: sha256(Buffer.from(content)) });
    expect(a.type_data).toMatchObject({ content_type: 'application/json' });
    expect(a.uri).toBe(`${serverInfo().filesHost}/${project}/artifact%20task.${task.id}/artifacts/metrics/metrics.json`);
    expect((await client.artifacts.download(task.id, 'metrics')).toString()).toBe(content);

    const t = await client.artifacts.upload(task.id, 'notes', { text: 'hello artifacts' });
    expect(t).toMatchObject({ type: 'string', type_data: { preview: 'hello artifacts', content_type: 'text/plain' } });
    const d = await client.artifacts.upload(task.id, 'summary', { json: { rows: 3 } });
    expect(d.type).toBe('dict');
    expect(JSON.parse((await client.artifacts.download(task.id, 'summary')).toString())).toEqual({ rows: 3 });
    expect((await client.artifacts.list(task.id)).map((x) => x.key).sort()).toEqual(['metrics', 'notes', 'summary']);

    // replacing an artifact with the same name keeps one entry
    await client.artifacts.upload(task.id, 'notes', { text: 'second version' });
    const notes = (await client.artifacts.list(task.id)).filter((x) => x.key === 'notes');
    expect(notes).toHaveLength(1);
    expect((await client.artifacts.download(task.id, 'notes')).toString()).toBe('second version');
  });

  test('models: create with design and labels, weights on the fileserver, publish, tags; the SDK reads it all back', async () => {
    const task = await client.tasks.create({ name: 'model task', project, hyperparams: { General: { lr: 0.05 }, Args: { epochs: 3 } } });
    await client.tasks.setConfiguration(task.id, { params: { value: 'train:\n  lr: 0.05\n', type: 'yaml' } });
    await client.tasks.started(task.id);
    const weights = randomBytes(4096);
    const weightsFile = join(dir, 'weights.bin');
    await writeFile(weightsFile, weights);
    const model = await client.models.createForTask(task.id, {
      name: 'logreg model',
      framework: 'TensorFlow.js',
      design: '{"layers": [{"units": 1}]}',
      labels: { on_time: 0, delayed: 1 },
      tags: ['candidate'],
      weights: weightsFile,
      iteration: 3,
    });
    expect(model).toMatchObject({ name: 'logreg model', task: task.id, project: task.project, framework: 'TensorFlow.js', labels: { on_time: 0, delayed: 1 }, ready: false });
    expect(model.uri).toBe(`${serverInfo().filesHost}/${project}/model%20task.${task.id}/models/weights.bin`);
    expect(sha256(await client.models.downloadWeights(model.id))).toBe(sha256(weights));
    expect((await client.tasks.get(task.id)).models?.output?.map((m) => m.model)).toEqual([model.id]);

    const artifactText = 'artifact for the SDK';
    await client.artifacts.upload(task.id, 'readme', { text: artifactText });
    await client.tasks.completed(task.id);
    await client.models.publish(model.id);
    expect(await client.models.updateTags(model.id, { add: ['champion'] })).toEqual(['candidate', 'champion']);
    const published = await client.models.get(model.id);
    expect(published.ready).toBe(true);
    // unknown ids are typed errors naming the endpoint
    const missing = await client.models.get('0123456789abcdef0123456789abcdef').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ClearmlApiError);
    expect(missing).toMatchObject({ endpoint: 'models.get_by_id', httpStatus: 400, resultSubcode: 201 });

    const r = await execa(sdkPython, [join(import.meta.dirname, 'python/read_back.py'), task.id, model.id, 'readme', dir], {
      env: { ...clearmlSdkEnv(serverInfo(), dir), HOME: dir },
      extendEnv: false,
      reject: false,
      timeout: 90_000,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const sdk = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      name: string;
      status: string;
      parameters: Record<string, string>;
      configuration: string;
      artifacts: Record<string, { hash: string; size: number; type: string; preview: string; url: string }>;
      artifact_hex: string;
      model: { name: string; published: boolean; framework: string; labels: Record<string, number>; design: string; tags: string[]; url: string; task: string };
      weights_hex: string;
      output_models: string[];
    };
    expect(sdk.name).toBe('model task');
    expect(sdk.status).toBe('completed');
    expect(sdk.parameters).toEqual({ 'General/lr': '0.05', 'Args/epochs': '3' });
    expect(sdk.configuration).toBe('train:\n  lr: 0.05\n');
    expect(sdk.artifacts['readme']).toMatchObject({ hash: sha256(Buffer.from(artifactText)), size: artifactText.length, type: 'string', preview: artifactText });
    expect(Buffer.from(sdk.artifact_hex, 'hex').toString()).toBe(artifactText);
    expect(sdk.model).toMatchObject({ name: 'logreg model', published: true, framework: 'TensorFlow.js', labels: { on_time: 0, delayed: 1 }, design: '{"layers": [{"units": 1}]}', url: model.uri, task: task.id });
    expect([...sdk.model.tags].sort()).toEqual(['candidate', 'champion']);
    expect(sdk.weights_hex).toBe(weights.toString('hex'));
    expect(sdk.output_models).toEqual([model.id]);
  });
});
