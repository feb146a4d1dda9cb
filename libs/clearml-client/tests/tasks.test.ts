import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ClearmlApiError, ClearmlClient, ClearmlValidationError } from '../src/index.js';
import { hasServer, testConfig, uniqueProjectName } from './helpers.js';

describe.skipIf(!hasServer)('tasks against the real server', () => {
  let client: ClearmlClient;
  const project = `${uniqueProjectName('tasks')}/nested/leaf`;
  beforeAll(() => {
    client = new ClearmlClient(testConfig());
  });
  afterAll(async () => {
    const root = await client.projects.byName(project.split('/')[0]!);
    if (root) await client.projects.delete(root.id, { force: true, deleteContents: true }).catch(() => undefined);
    await client.close();
  });

  test('projects: get-or-create by name creates the missing parents, once', async () => {
    const a = await client.projects.getOrCreate(project);
    const b = await client.projects.getOrCreate(project);
    expect(b.id).toBe(a.id);
    expect(a.name).toBe(project);
    const parent = await client.projects.byName(project.split('/').slice(0, 2).join('/'));
    expect(parent).toBeDefined();
    expect(a.parent).toBe(parent!.id);
    // the name filter is a regex on the server: a name with regex characters still matches only itself
    expect(await client.projects.byName(`${project.split('/')[0]}.*`)).toBeUndefined();
    await expect(client.projects.getOrCreate('ab')).rejects.toBeInstanceOf(ClearmlValidationError);
  });

  test('create with type, project by name, tags, system tags, script info; read back as stored', async () => {
    const task = await client.tasks.create({
      name: 'train logreg',
      project,
      type: 'training',
      tags: ['logreg', 'demo'],
      systemTags: ['mlops-ts'],
      comment: 'first',
      script: {
        repository: 'https://example.com/org/repo.git',
        commit: '0123456789abcdef0123456789abcdef01234567',
        branch: 'main',
        entryPoint: 'apps/train/src/main.ts',
        workingDir: '.',
        diff: 'diff --git a/x b/x\n+change\n',
        binary: 'node',
      },
    });
    expect(task).toMatchObject({ name: 'train logreg', type: 'training', status: 'created', tags: ['demo', 'logreg'], system_tags: ['mlops-ts'], comment: 'first' });
    expect(task.project).toBe((await client.projects.byName(project))!.id);
    expect(task.script).toMatchObject({
      repository: 'https://example.com/org/repo.git',
      version_num: '0123456789abcdef0123456789abcdef01234567',
      branch: 'main',
      entry_point: 'apps/train/src/main.ts',
      working_dir: '.',
      diff: 'diff --git a/x b/x\n+change\n',
      binary: 'node',
    });
    expect(client.webUrl(task.id, task.project)).toBe(`${testConfig().webHost}/projects/${task.project}/tasks/${task.id}`);
    expect(client.webUrl(task.id, undefined, 'output/scalars')).toBe(`${testConfig().webHost}/projects/*/tasks/${task.id}/output/scalars`);
    expect(client.webUrl({ modelId: 'm1', projectId: task.project })).toBe(`${testConfig().webHost}/projects/${task.project}/models/m1`);
    // the web UI serves that page (its SPA answers every route; the API behind it knows the task)
    const page = await fetch(client.webUrl(task.id, task.project));
    expect(page.status).toBe(200);
  });

  test('a 2-character name is refused on the client; the server error is typed (400/800)', async () => {
    await expect(client.tasks.create({ name: 'ab', project })).rejects.toBeInstanceOf(ClearmlValidationError);
  });

  test('lifecycle: hyperparams and configuration (also after start, with force), status changes, comment, tags', async () => {
    const task = await client.tasks.create({ name: 'lifecycle task', project, hyperparams: { General: { lr: 0.01 } } });
    await client.tasks.setHyperParams(task.id, { General: { epochs: 5, optimizer: 'adam' }, Args: { seed: { value: 42, type: 'int', description: 'the seed' } } });
    expect(await client.tasks.getHyperParams(task.id)).toEqual({ General: { lr: '0.01', epochs: '5', optimizer: 'adam' }, Args: { seed: '42' } });
    const seed = (await client.tasks.getHyperParamItems(task.id)).find((p) => p.name === 'seed');
    expect(seed).toMatchObject({ section: 'Args', value: '42', type: 'int', description: 'the seed' });

    await client.tasks.setConfiguration(task.id, { params: { value: 'train:\n  epochs: 5\n', type: 'yaml', description: 'params.yaml' }, features: { value: { columns: ['a', 'b'] } } });
    const conf = await client.tasks.getConfiguration(task.id);
    expect(conf['params']).toMatchObject({ name: 'params', value: 'train:\n  epochs: 5\n', type: 'yaml', description: 'params.yaml' });
    expect(JSON.parse(conf['features']!.value!)).toEqual({ columns: ['a', 'b'] });

    await client.tasks.started(task.id);
    expect((await client.tasks.get(task.id)).status).toBe('in_progress');
    // editing a running task needs force; without it the server refuses
    const refused = await client.tasks.setHyperParams(task.id, { General: { lr: 0.5 } }, { force: false }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ClearmlApiError);
    expect((refused as ClearmlApiError).endpoint).toBe('tasks.edit_hyper_params');
    await client.tasks.setHyperParams(task.id, { General: { lr: 0.02 } });
    expect((await client.tasks.getHyperParams(task.id))['General']!['lr']).toBe('0.02');

    await client.tasks.setComment(task.id, 'trained on 1000 rows');
    expect(await client.tasks.updateTags(task.id, { add: ['best', 'demo'], remove: [] })).toEqual(['best', 'demo']);
    expect(await client.tasks.updateTags(task.id, { remove: ['demo'] })).toEqual(['best']);

    await client.tasks.completed(task.id);
    let t = await client.tasks.get(task.id);
    expect(t).toMatchObject({ status: 'completed', comment: 'trained on 1000 rows', tags: ['best'] });
    const [viaEx] = await client.tasks.getAllEx({ id: [task.id], only_fields: ['id', 'name', 'status', 'project.name'] });
    expect(viaEx).toMatchObject({ id: task.id, name: 'lifecycle task', status: 'completed', project: task.project, project_name: project });
    await client.tasks.close(task.id, { force: true });
    t = await client.tasks.get(task.id);
    expect(t.status).toBe('closed');

    const failing = await client.tasks.create({ name: 'failing task', project });
    await client.tasks.started(failing.id);
    await client.tasks.failed(failing.id, { reason: 'boom', message: 'the stage threw' });
    expect(await client.tasks.get(failing.id)).toMatchObject({ status: 'failed', status_reason: 'boom', status_message: 'the stage threw' });

    const stopping = await client.tasks.create({ name: 'stopping task', project });
    await client.tasks.started(stopping.id);
    await client.tasks.stopped(stopping.id, { reason: 'user abort' });
    expect((await client.tasks.get(stopping.id)).status).toBe('stopped');
  });

  test('clone, reset, enqueue/dequeue, archive, delete', async () => {
    const original = await client.tasks.create({ name: 'to be cloned', project, tags: ['orig'], hyperparams: { General: { lr: 0.1 } } });
    await client.tasks.started(original.id);
    await client.tasks.completed(original.id);

    const cloneId = await client.tasks.clone(original.id, { name: 'the clone', hyperparams: { General: { lr: 0.2 } } });
    const clone = await client.tasks.get(cloneId);
    expect(clone).toMatchObject({ name: 'the clone', status: 'created', project: original.project, tags: ['orig'] });
    expect(await client.tasks.getHyperParams(cloneId)).toEqual({ General: { lr: '0.2' } });

    // reset: completed → created
    await client.tasks.reset(original.id, { force: true });
    expect((await client.tasks.get(original.id)).status).toBe('created');

    const queueName = `mlops-ts-test-queue-${Date.now().toString(36)}`;
    const queueId = await client.tasks.enqueue(cloneId, { name: queueName });
    expect((await client.tasks.get(cloneId)).status).toBe('queued');
    expect(await client.queues.entries(queueId)).toContain(cloneId);
    expect((await client.queues.getOrCreate(queueName)).id).toBe(queueId);
    await client.tasks.dequeue(cloneId);
    expect((await client.tasks.get(cloneId)).status).toBe('created');
    expect(await client.queues.entries(queueId)).not.toContain(cloneId);

    expect(await client.tasks.archive(cloneId)).toBe(1);
    expect((await client.tasks.get(cloneId)).system_tags).toContain('archived');

    await client.tasks.delete(cloneId);
    const gone = await client.tasks.get(cloneId).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ClearmlApiError);
    expect((gone as ClearmlApiError).resultSubcode).toBe(101); // invalid task id
    await client.queues.delete(queueId);
  });
});
