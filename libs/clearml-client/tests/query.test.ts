import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { ClearmlClient, compareTasks, rankTasks, type TaskSummary } from '../src/index.js';
import { hasServer, testConfig, uniqueProjectName } from './helpers.js';

/** Scalars come back as float32. */
const f32 = (v: number) => Math.fround(v);

describe.skipIf(!hasServer)('queries, comparison and ranking against the real server', () => {
  let client: ClearmlClient;
  const project = uniqueProjectName('query');
  // three runs with different learning rates; losses and accuracies that differ per run
  const runs = [
    { name: 'run.1', lr: 0.1, losses: [0.9, 0.5, 0.6], accuracy: 0.71 },
    { name: 'runX1', lr: 0.01, losses: [0.8, 0.4, 0.3], accuracy: 0.83 },
    { name: 'run (3)', lr: 0.001, losses: [0.95, 0.9, 0.85], accuracy: 0.64 },
  ];
  const ids: string[] = [];
  let noMetrics: string;
  let archived: string;

  beforeAll(async () => {
    client = new ClearmlClient(testConfig());
    for (const r of runs) {
      const t = await client.tasks.create({ name: r.name, project, hyperparams: { General: { lr: r.lr, epochs: 3 } }, tags: ['sweep'] });
      await client.tasks.started(t.id);
      const events = [
        ...r.losses.map((v, iter) => ({ task: t.id, type: 'training_stats_scalar', metric: 'loss', variant: 'train', iter, value: v, timestamp: Date.now() })),
        { task: t.id, type: 'training_stats_scalar', metric: 'eval', variant: 'accuracy', iter: 2, value: r.accuracy, timestamp: Date.now() },
      ];
      await client.transport.call('events.add_batch', events, z.object({ added: z.number() }).loose(), { jsonLines: true });
      await client.tasks.completed(t.id);
      ids.push(t.id);
    }
    noMetrics = (await client.tasks.create({ name: 'no metrics yet', project, hyperparams: { General: { lr: 0.5 } } })).id;
    archived = (await client.tasks.create({ name: 'old archived run', project })).id;
    await client.tasks.archive(archived);
  });
  afterAll(async () => {
    const p = await client.projects.byName(project);
    if (p) await client.projects.delete(p.id, { force: true, deleteContents: true }).catch(() => undefined);
    await client.close();
  });

  test('tasks of a project with hyperparameters and last_metrics; archived left out; exact names are escaped', async () => {
    const tasks = await client.query.tasksOfProject({ name: project });
    expect(tasks.map((t) => t.id).sort()).toEqual([...ids, noMetrics].sort());
    const first = tasks.find((t) => t.id === ids[1])!;
    expect(first.params).toEqual({ 'General/lr': '0.01', 'General/epochs': '3' });
    expect(first.metrics['loss/train']).toMatchObject({ metric: 'loss', variant: 'train', count: 3, minIteration: 2, maxIteration: 0 });
    expect(first.metrics['loss/train']!.last).toBeCloseTo(0.3, 5);
    expect(first.metrics['loss/train']!.min).toBeCloseTo(Math.min(...runs[1]!.losses), 5);
    expect(first.metrics['loss/train']!.max).toBeCloseTo(Math.max(...runs[1]!.losses), 5);
    expect(first.status).toBe('completed');
    expect(first.projectName).toBe(project);

    expect((await client.query.tasksOfProject({ name: project }, { includeArchived: true })).map((t) => t.id)).toContain(archived);
    // 'run.1' as a regex would also match 'runX1'; as a name it matches only itself. Same for the parentheses.
    expect((await client.query.tasksOfProject({ name: project }, { name: 'run.1' })).map((t) => t.id)).toEqual([ids[0]]);
    expect((await client.query.tasksOfProject({ name: project }, { name: 'run (3)' })).map((t) => t.id)).toEqual([ids[2]]);
    expect((await client.query.tasksOfProject({ name: project }, { nameRegex: '^run' })).length).toBe(3);
    expect((await client.query.tasksOfProject({ name: project }, { status: ['created'] })).map((t) => t.id)).toEqual([noMetrics]);
    expect(await client.query.tasksOfProject({ name: project }, { limit: 2 })).toHaveLength(2);
  });

  test('scalar histories of one task and of several', async () => {
    // events become searchable after the index refresh (up to ~1 s)
    let one = await client.query.scalars(ids[0]!);
    for (let i = 0; i < 20 && !one['loss']?.['train']; i++) {
      await new Promise((r) => setTimeout(r, 250));
      one = await client.query.scalars(ids[0]!);
    }
    expect(one['loss']!['train']).toEqual({ x: [0, 1, 2], y: runs[0]!.losses.map(f32) });
    expect(one['eval']!['accuracy']).toEqual({ x: [2], y: [f32(runs[0]!.accuracy)] });
    const onlyLoss = await client.query.scalars(ids[0]!, { metrics: [{ metric: 'loss' }] });
    expect(Object.keys(onlyLoss)).toEqual(['loss']);

    const many = await client.query.scalarsOfTasks(ids);
    expect(Object.keys(many['loss']!['train']!).sort()).toEqual([...ids].sort());
    ids.forEach((id, i) => expect(many['loss']!['train']![id]!.y).toEqual(runs[i]!.losses.map(f32)));
  });

  test('console log, plots and single values read back', async () => {
    const id = ids[0]!;
    const figure = { data: [{ x: [0, 0.5, 1], y: [0, 0.8, 1], type: 'scatter' }], layout: { title: 'ROC' } };
    await client.transport.call(
      'events.add_batch',
      [
        { task: id, type: 'log', level: 'info', msg: 'line one\nline two', worker: 'tests', timestamp: 1_700_000_000_000 },
        { task: id, type: 'log', level: 'warning', msg: 'careful', worker: 'tests', timestamp: 1_700_000_000_500 },
        { task: id, type: 'log', level: 'info', msg: 'same millisecond', worker: 'tests', timestamp: 1_700_000_000_500 },
        { task: id, type: 'log', level: 'info', msg: 'last', worker: 'tests', timestamp: 1_700_000_000_900 },
        { task: id, type: 'plot', metric: 'roc', variant: 'test', iter: 0, plot_str: JSON.stringify(figure), timestamp: Date.now() },
        { task: id, type: 'training_stats_scalar', metric: 'Summary', variant: 'f1', iter: -2147483648, value: 0.75, timestamp: Date.now() },
      ],
      z.object({ added: z.number() }).loose(),
      { jsonLines: true },
    );
    let lines = await client.query.log(id);
    for (let i = 0; i < 20 && lines.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 250));
      lines = await client.query.log(id);
    }
    expect(lines.map((l) => l.msg).slice(0, 1)).toEqual(['line one\nline two']);
    expect(lines.slice(1, 3).map((l) => l.msg).sort()).toEqual(['careful', 'same millisecond']);
    expect(lines.map((l) => l.msg)[3]).toBe('last');
    expect(lines.find((l) => l.msg === 'careful')?.level).toBe('warning');
    expect(await client.query.log(id, { batchSize: 1 })).toEqual(lines); // paged in batches of one
    const plots = await client.query.plots(id);
    expect(plots).toEqual([expect.objectContaining({ metric: 'roc', variant: 'test', iter: 0, figure })]);
    const single = await client.query.singleValues([id]);
    expect(single[id]!['Summary/f1']).toBeCloseTo(0.75, 5);
  });

  test('compare: differing parameters, shared ones, metric summaries per task', async () => {
    const cmp = await client.query.compare([...ids, noMetrics]);
    expect(cmp.tasks.map((t) => t.name)).toEqual([...runs.map((r) => r.name), 'no metrics yet']);
    expect(cmp.params.differing['General/lr']).toEqual({ [ids[0]!]: '0.1', [ids[1]!]: '0.01', [ids[2]!]: '0.001', [noMetrics]: '0.5' });
    // epochs: the same in the three runs, missing in the fourth → differing
    expect(cmp.params.differing['General/epochs']).toEqual({ [ids[0]!]: '3', [ids[1]!]: '3', [ids[2]!]: '3', [noMetrics]: undefined });
    const three = await client.query.compare(ids);
    expect(three.params.same).toEqual({ 'General/epochs': '3' });
    expect(Object.keys(three.params.differing)).toEqual(['General/lr']);
    expect(three.metrics['eval/accuracy']![ids[1]!]!.last).toBeCloseTo(0.83, 5);
    expect(cmp.metrics['loss/train']![noMetrics]).toBeUndefined();
  });

  test('ranking by a metric: higher accuracy first; lowest minimum loss first; tasks without the metric listed apart', async () => {
    const byAcc = await client.query.rank({ name: project }, { metric: 'eval/accuracy' });
    const expectedOrder = runs.map((r, i) => ({ id: ids[i]!, acc: r.accuracy })).sort((a, b) => b.acc - a.acc).map((x) => x.id);
    expect(byAcc.ranked.map((r) => r.task.id)).toEqual(expectedOrder);
    expect(byAcc.ranked.map((r) => r.rank)).toEqual([1, 2, 3]);
    expect(byAcc.missing.map((t) => t.id)).toEqual([noMetrics]);

    const summaries = await client.query.taskSummaries(ids);
    const byLoss = rankTasks(summaries, { metric: { metric: 'loss', variant: 'train' }, value: 'min', order: 'asc' });
    const lossOrder = runs.map((r, i) => ({ id: ids[i]!, min: Math.min(...r.losses) })).sort((a, b) => a.min - b.min).map((x) => x.id);
    expect(byLoss.ranked.map((r) => r.task.id)).toEqual(lossOrder);
    expect(byLoss.ranked[0]!.value).toBeCloseTo(Math.min(...runs[1]!.losses), 5);
    expect(() => rankTasks(summaries, { metric: 'accuracy' })).toThrow(/metric\/variant/);
  });

  test('models of a project, filtered by ready and tags', async () => {
    const a = await client.models.create({ name: 'model alpha', project, tags: ['champion'] });
    const b = await client.models.create({ name: 'model beta', project });
    await client.models.publish(a.id);
    const all = await client.query.modelsOfProject({ name: project });
    expect(all.map((m) => m.id).sort()).toEqual([a.id, b.id].sort());
    expect(all.map((m) => m.project_name)).toEqual([project, project]);
    expect((await client.query.modelsOfProject({ name: project }, { ready: true })).map((m) => m.id)).toEqual([a.id]);
    expect((await client.query.modelsOfProject({ name: project }, { tags: ['champion'] })).map((m) => m.id)).toEqual([a.id]);
    expect((await client.query.modelsOfProject({ name: project }, { name: 'model beta' })).map((m) => m.id)).toEqual([b.id]);
    // a task's output model shows in its summary (get_all_ex joins the model into {id, name}); the server takes
    // models only on a task that is not finished yet
    const refused = await client.models.createForTask(ids[0]!, { name: 'model on a completed task' }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ endpoint: 'tasks.add_or_update_model', resultSubcode: 110 });
    const c = await client.models.createForTask(noMetrics, { name: 'model gamma' });
    const [summary] = await client.query.tasksOfProject({ name: project }, { name: 'no metrics yet' });
    expect(summary!.outputModels).toEqual([c.id]);
  });
});

describe('compareTasks / rankTasks (pure)', () => {
  const t = (id: string, params: Record<string, string>, acc?: number): TaskSummary => ({
    id,
    name: id,
    status: 'completed',
    type: 'training',
    projectId: undefined,
    projectName: undefined,
    tags: [],
    systemTags: [],
    comment: undefined,
    created: undefined,
    started: undefined,
    completed: undefined,
    lastIteration: undefined,
    params,
    metrics:
      acc === undefined
        ? {}
        : { 'eval/accuracy': { metric: 'eval', variant: 'accuracy', last: acc, min: acc, max: acc, minIteration: 0, maxIteration: 0, first: acc, mean: acc, count: 1 } },
    outputModels: [],
  });
  test('ties keep input order; NaN counts as missing', () => {
    const r = rankTasks([t('a', {}, 0.5), t('b', {}, 0.7), t('c', {}, 0.5), t('d', {}, Number.NaN)], { metric: 'eval/accuracy' });
    expect(r.ranked.map((x) => x.task.id)).toEqual(['b', 'a', 'c']);
    expect(r.missing.map((x) => x.id)).toEqual(['d']);
    const c = compareTasks([t('a', { 'G/x': '1', 'G/y': '2' }), t('b', { 'G/x': '1', 'G/y': '3' })]);
    expect(c.params).toEqual({ same: { 'G/x': '1' }, differing: { 'G/y': { a: '2', b: '3' } } });
  });
});
