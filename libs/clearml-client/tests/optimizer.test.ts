// runHyperParameterOptimizer against the real server without agents: clones as the SDK's optimizer makes them
// (name, parent, tags, the point in their section, the template's other sections kept), a trial no agent picks up
// fails and the sweep still ends with its summary, an unknown queue creates nothing, and an abort (Ctrl-C) stops the
// queued trials and the optimizer. The run with real agents is libs/pipeline/tests/sweep.test.ts.
import { z } from 'zod';
import { ClearmlClient, ClearmlError, ClearmlOptimizerAbortedError, gridPoints, objectiveOf, runHyperParameterOptimizer, summaryTable } from '../src/index.js';
import { hasServer, testConfig, uniqueProjectName } from './helpers.js';

describe('optimizer helpers', () => {
  it('objectiveOf reads the value by the names inside last_metrics; the summary table is best first', () => {
    const lm = { h1: { h2: { metric: 'roc_auc', variant: 'test', value: 0.8 } }, h3: { h4: { metric: 'f1', variant: 'test', value: 0.5 } } };
    expect(objectiveOf(lm, { metric: 'roc_auc', variant: 'test' })).toBe(0.8);
    expect(objectiveOf(lm, { metric: 'roc_auc', variant: 'valid' })).toBeUndefined();
    const t = (index: number, value: number | undefined) => ({ index, taskId: `t${index}`, name: 'n', params: { lr: index }, status: 'completed' as const, worker: 'w', value });
    const table = summaryTable([t(0, 0.5), t(1, undefined), t(2, 0.9)], { metric: 'roc_auc', variant: 'test', higherIsBetter: true });
    expect(table.map((r) => r[0])).toEqual(['task id', 't2', 't0', 't1']);
    expect(summaryTable([t(0, 0.5), t(2, 0.9)], { metric: 'log_loss', variant: 'test', higherIsBetter: false }).map((r) => r[0])).toEqual(['task id', 't0', 't2']);
  });
});

describe.skipIf(!hasServer)('runHyperParameterOptimizer (real server, no agent)', () => {
  let client: ClearmlClient;
  beforeAll(() => {
    client = new ClearmlClient(testConfig());
  });
  afterAll(() => client?.close());
  const children = async (parent: string) =>
    (await client.transport.call('tasks.get_all', { parent, search_hidden: true, only_fields: ['id', 'name', 'status', 'tags', 'comment', 'project'] }, z.object({ tasks: z.array(z.object({ id: z.string(), name: z.string(), status: z.string(), tags: z.array(z.string()).nullish(), comment: z.string().nullish(), project: z.string().nullish() }).loose()) }))).tasks;

  it('clones per point, a trial no agent picks up fails, the others still end; the optimizer completes with its summary', async () => {
    const queue = `mlops-ts-test-opt-idle-${Date.now().toString(36)}`;
    const queueId = await client.queues.create(queue);
    const template = await client.tasks.create({ name: 'template task', project: uniqueProjectName('opt'), script: { binary: '/bin/bash', diff: 'true\n' }, hyperparams: { sweep: { lr: '0.1', keep: 'me' }, Args: { model: 'm' } } });
    const lines: string[] = [];
    const r = await runHyperParameterOptimizer({
      client,
      templateId: template.id,
      queue,
      points: gridPoints({ lr: { values: [0.01, 0.03] } }),
      objective: { metric: 'roc_auc', variant: 'test', higherIsBetter: true },
      pollIntervalMs: 300,
      pickupTimeoutMs: 1500,
      log: (l) => lines.push(l),
    });
    expect(r.best).toBeUndefined();
    expect(r.trials.map((t) => [t.status, t.reason])).toEqual([
      ['failed', `no agent picked it up from queue '${queue}' within 2 s`],
      ['failed', `no agent picked it up from queue '${queue}' within 2 s`],
    ]);
    const optimizer = await client.tasks.get(r.optimizerId);
    expect([optimizer.type, optimizer.status, optimizer.name, optimizer.project]).toEqual(['optimizer', 'completed', 'Optimizing: template task', template.project]);
    expect((await client.tasks.getHyperParams(r.optimizerId))['General']).toMatchObject({ base_task_id: template.id, objective_metric_title: 'roc_auc', objective_metric_series: 'test', objective_metric_sign: 'max', execution_queue: queue });
    const clones = await children(r.optimizerId);
    expect(clones.map((c) => c.name).sort()).toEqual(['template task: lr=0.01', 'template task: lr=0.03']);
    for (const c of clones) {
      expect(c.status).toBe('failed');
      expect([...(c.tags ?? [])].sort()).toEqual([`opt: ${r.optimizerId}`, 'optimization']);
      expect(c.project).toBe(template.project);
    }
    const hp = await client.tasks.getHyperParams(clones.find((c) => c.name.endsWith('0.03'))!.id);
    expect(hp['sweep']).toEqual({ lr: '0.03', keep: 'me' });
    expect(hp['Args']).toEqual({ model: 'm' });
    const summary = JSON.parse((await client.artifacts.download(r.optimizerId, 'summary')).toString('utf8')) as { table: unknown[][] };
    expect(summary.table[0]).toEqual(['task id', 'roc_auc/test', 'status', 'worker', 'lr']);
    expect(summary.table).toHaveLength(3);
    expect(await client.queues.entries(queueId)).toEqual([]);
    expect(lines.filter((l) => l.includes(': queued'))).toHaveLength(2);
  });

  it('an unknown queue: one line, no optimizer task created', async () => {
    const project = uniqueProjectName('opt-noqueue');
    const template = await client.tasks.create({ name: 'template task', project });
    const err = await runHyperParameterOptimizer({ client, templateId: template.id, queue: 'mlops-ts-no-such-queue-x', points: [{ a: 1 }], objective: { metric: 'm', variant: 'v', higherIsBetter: true } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClearmlError);
    expect((err as Error).message).toBe(`ClearML queue 'mlops-ts-no-such-queue-x' does not exist on ${client.server}`);
    const tasks = await client.transport.call('tasks.get_all', { project: [template.project], only_fields: ['id'] }, z.object({ tasks: z.array(z.unknown()) }).loose());
    expect(tasks.tasks).toHaveLength(1);
  });

  it('abort (Ctrl-C): queued trials dequeued and stopped, the optimizer stopped, a typed error', async () => {
    const queue = `mlops-ts-test-opt-abort-${Date.now().toString(36)}`;
    const queueId = await client.queues.create(queue);
    const template = await client.tasks.create({ name: 'template task', project: uniqueProjectName('opt-abort'), script: { binary: '/bin/bash', diff: 'true\n' } });
    const abort = new AbortController();
    const err = await runHyperParameterOptimizer({
      client,
      templateId: template.id,
      queue,
      points: gridPoints({ lr: { values: [1, 2, 3] } }),
      objective: { metric: 'roc_auc', variant: 'test', higherIsBetter: true },
      pollIntervalMs: 300,
      signal: abort.signal,
      log: (l) => {
        if (l.startsWith('trial 3/3')) setTimeout(() => abort.abort(), 200);
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClearmlOptimizerAbortedError);
    const e = err as ClearmlOptimizerAbortedError;
    expect(e.stopped).toHaveLength(3);
    expect((await client.tasks.get(e.optimizerId)).status).toBe('stopped');
    expect((await children(e.optimizerId)).map((c) => c.status)).toEqual(['stopped', 'stopped', 'stopped']);
    expect(await client.queues.entries(queueId)).toEqual([]);
  });
});
