/**
 * A hyperparameter optimizer over a template (base) task, behaving as the SDK's `HyperParameterOptimizer` with a
 * `GridSearch` / `RandomSearch` strategy does (clearml/automation/optimization.py):
 * - an optimizer task, type `optimizer`, named `Optimizing: <template name>`, tag `optimization`, in the
 *   template's project; its `General` section holds the objective and the strategy;
 * - per point a clone of the template (`tasks.clone`), named `<template name>: k=v k=v`, the values as its comment,
 *   parent = the optimizer task, tags `optimization` and `opt: <optimizer id>`, the point's values written into the
 *   hyperparameter `section` (the rest of the template's hyperparameters kept); each clone is enqueued;
 * - the clones are polled (`tasks.get_all`: status, last_worker, last_metrics); the objective is read from each
 *   completed clone's `last_metrics[metric][variant]` (`value`, the last reported);
 * - the optimizer task gets the objective per trial as scalars (`objective / <metric>/<variant>` and
 *   `… best`), the table of trials as the plot `summary / job` (a Plotly table, as the SDK's `report_table`) and the
 *   artifact `summary` (`{ table: [[header…], [row…]…] }`, as the SDK uploads it).
 * A failing trial is reported and the others go on; an abort (Ctrl-C) stops the running clones and dequeues the
 * queued ones, and marks the optimizer stopped.
 */
import { z } from 'zod';
import type { ClearmlClient } from '../client.js';
import { ClearmlApiError, ClearmlError } from '../errors.js';
import type { HyperParamSections } from '../api/tasks.js';
import { readTaskLog } from '../pipeline/controller.js';
import { formatSweepValue, type SweepPoint } from './space.js';

export const OPTIMIZATION_TAG = 'optimization';
const FINAL_OK: ReadonlySet<string> = new Set(['completed', 'published', 'closed']);
const FINAL_BAD: ReadonlySet<string> = new Set(['failed', 'stopped']);

/** The optimizer was stopped (Ctrl-C): queued and running trials were stopped. */
export class ClearmlOptimizerAbortedError extends ClearmlError {
  static override readonly brand: symbol = Symbol.for('@mlops-ts/clearml-client/ClearmlOptimizerAbortedError');
  override readonly code: string = 'ERR_CLEARML_OPTIMIZER_ABORTED';
  constructor(
    readonly optimizerId: string,
    readonly stopped: string[],
  ) {
    super(`sweep aborted: optimizer task ${optimizerId} stopped, ${stopped.length} trial${stopped.length === 1 ? '' : 's'} stopped (${stopped.join(', ') || 'none running'})`);
  }
}

export interface Objective {
  /** last_metrics metric (title), e.g. `roc_auc`. */
  metric: string;
  /** last_metrics variant (series), e.g. `test`. */
  variant: string;
  higherIsBetter: boolean;
}

export type TrialStatus = 'queued' | 'running' | 'completed' | 'failed' | 'stopped';
export interface TrialResult {
  index: number;
  taskId: string;
  name: string;
  params: SweepPoint;
  status: TrialStatus;
  /** The worker that ran it (`last_worker`). */
  worker: string | undefined;
  /** The objective from last_metrics (undefined: not completed, or it reported no such metric). */
  value: number | undefined;
  /** Why it failed. */
  reason?: string;
}
export interface OptimizerResult {
  optimizerId: string;
  webUrl: string;
  trials: TrialResult[];
  /** The best completed trial by the objective (undefined when none completed with a value). */
  best: TrialResult | undefined;
  /** The summary table (header first), as uploaded. */
  table: (string | number)[][];
}

export interface RunOptimizerOptions {
  client: ClearmlClient;
  /** The template task (a draft, never enqueued itself). */
  templateId: string;
  points: readonly SweepPoint[];
  /** Hyperparameter section the point's values go in (default `sweep`). */
  section?: string;
  objective: Objective;
  queue: string;
  /** Extra hyperparameters of each clone besides the point (e.g. `{ Args: { trial: name } }`), per trial. */
  extraHyperparams?: (index: number, name: string, optimizerId: string) => HyperParamSections;
  /** Called with each clone's id and hyperparameters once it is created (before it is enqueued). */
  onTrialCreated?: (taskId: string, hyperparams: HyperParamSections) => void;
  /** The optimizer task's `General` section besides the objective (strategy, seed, …). */
  general?: Record<string, string | number | boolean>;
  tags?: string[];
  pollIntervalMs?: number;
  /** A trial still queued after this long fails (default 10 min; the others go on). */
  pickupTimeoutMs?: number;
  /** How long stopped trials may take to report `stopped` before they are forced (default 20 s). */
  stopTimeoutMs?: number;
  signal?: AbortSignal;
  /** Progress lines: one per trial state change. */
  log?: (line: string) => void;
}

const pollSchema = z.object({
  tasks: z.array(
    z
      .object({
        id: z.string(),
        status: z.string().nullish(),
        status_reason: z.string().nullish(),
        status_message: z.string().nullish(),
        last_worker: z.string().nullish(),
        last_metrics: z.record(z.string(), z.record(z.string(), z.object({ metric: z.string().nullish(), variant: z.string().nullish(), value: z.number().nullish() }).loose())).nullish(),
      })
      .loose(),
  ),
});

/** The objective's value in a task's last_metrics (keys there are hashes: match on the names inside). */
export function objectiveOf(lastMetrics: z.infer<typeof pollSchema>['tasks'][number]['last_metrics'], o: Pick<Objective, 'metric' | 'variant'>): number | undefined {
  for (const variants of Object.values(lastMetrics ?? {})) {
    for (const v of Object.values(variants)) if (v.metric === o.metric && v.variant === o.variant && typeof v.value === 'number') return v.value;
  }
  return undefined;
}

const trialName = (base: string, p: SweepPoint): string => `${base}: ${Object.keys(p).sort().map((k) => `${k}=${formatSweepValue(p[k]!)}`).join(' ')}`;

/** The table of trials, best first (completed with a value), then the rest in order. */
export function summaryTable(trials: readonly TrialResult[], o: Objective): (string | number)[][] {
  const keys = [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
  const sorted = [...trials].sort((a, b) => {
    if (a.value === undefined || b.value === undefined) return a.value === undefined ? (b.value === undefined ? a.index - b.index : 1) : -1;
    return o.higherIsBetter ? b.value - a.value : a.value - b.value;
  });
  return [
    ['task id', `${o.metric}/${o.variant}`, 'status', 'worker', ...keys],
    ...sorted.map((t) => [t.taskId, t.value ?? '', t.status, t.worker ?? '', ...keys.map((k) => (t.params[k] === undefined ? '' : formatSweepValue(t.params[k]!)))]),
  ];
}

/** Run the sweep: clone, edit, enqueue, poll, collect, report. Resolves when every trial is final (some may have failed). */
export async function runHyperParameterOptimizer(opts: RunOptimizerOptions): Promise<OptimizerResult> {
  const { client } = opts;
  const log = opts.log ?? (() => {});
  const section = opts.section ?? 'sweep';
  const o = opts.objective;
  const template = await client.tasks.get(opts.templateId);
  const queue = await client.queues.byName(opts.queue);
  if (!queue) throw new ClearmlError(`ClearML queue '${opts.queue}' does not exist on ${client.server}`);
  const projectId = template.project ?? undefined;
  const templateParams = await client.tasks.getHyperParams(opts.templateId);

  const optimizer = await client.tasks.create({
    name: `Optimizing: ${template.name}`,
    ...(projectId ? { projectId } : {}),
    type: 'optimizer',
    tags: [OPTIMIZATION_TAG, ...(opts.tags ?? [])],
    comment: `${opts.points.length} trials of ${template.name} (${opts.templateId}) on queue '${opts.queue}'`,
    hyperparams: {
      General: {
        base_task_id: opts.templateId,
        objective_metric_title: o.metric,
        objective_metric_series: o.variant,
        objective_metric_sign: o.higherIsBetter ? 'max' : 'min',
        execution_queue: opts.queue,
        total_max_jobs: opts.points.length,
        ...(opts.general ?? {}),
      },
    },
  });
  const optimizerId = optimizer.id;
  await client.tasks.started(optimizerId);
  const webUrl = client.webUrl(optimizerId, projectId);
  log(`optimizer task ${optimizerId}: ${opts.points.length} trials on queue '${opts.queue}' (${webUrl})`);

  const trials: (TrialResult & { queuedAt: number; stopRequested?: boolean })[] = [];
  const aborter = new AbortController();
  const onAbort = (): void => aborter.abort();
  if (opts.signal?.aborted) aborter.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let best: TrialResult | undefined;
  let reported = 0;
  const better = (a: number, b: number): boolean => (o.higherIsBetter ? a > b : a < b);

  const scalar = async (variant: string, iter: number, value: number): Promise<void> => {
    await client.transport.call('events.add_batch', [{ type: 'training_stats_scalar', task: optimizerId, timestamp: Date.now(), iter, metric: 'objective', variant, value }], z.unknown(), { jsonLines: true });
  };

  const finish = async (how: 'completed' | 'stopped' | 'failed', reason?: string): Promise<(string | number)[][]> => {
    const table = summaryTable(trials, o);
    const plot = {
      data: [{ type: 'table', header: { values: table[0]!.map(String) }, cells: { values: table[0]!.map((_, c) => table.slice(1).map((r) => String(r[c] ?? ''))) } }],
      layout: { title: `objective: ${o.metric}/${o.variant}` },
    };
    await client.transport.call('events.add_batch', [{ type: 'plot', task: optimizerId, timestamp: Date.now(), iter: 0, metric: 'summary', variant: 'job', plot_str: JSON.stringify(plot) }], z.unknown(), { jsonLines: true }).catch(() => {});
    await client.artifacts.upload(optimizerId, 'summary', { bytes: new TextEncoder().encode(JSON.stringify({ table }, null, 2)), filename: 'summary.json' }, { type: 'dict', contentType: 'application/json', preview: `${trials.length} trials, best ${best ? `${best.taskId} ${o.metric}/${o.variant}=${best.value}` : 'none'}` }).catch((e: unknown) => log(`warning: summary artifact not uploaded: ${(e as Error).message}`));
    if (how === 'completed') await client.tasks.completed(optimizerId, { force: true });
    else if (how === 'stopped') await client.tasks.stopped(optimizerId, { force: true, message: 'sweep aborted' });
    else await client.tasks.failed(optimizerId, { force: true, reason: (reason ?? 'sweep failed').slice(0, 250) });
    return table;
  };

  try {
    for (const [index, point] of opts.points.entries()) {
      if (aborter.signal.aborted) break;
      const name = trialName(template.name, point);
      const values = Object.fromEntries(Object.entries(point).map(([k, v]) => [k, formatSweepValue(v)]));
      const sections: HyperParamSections = { ...templateParams, [section]: { ...(templateParams[section] ?? {}), ...values }, ...(opts.extraHyperparams?.(index, name, optimizerId) ?? {}) };
      const id = await client.tasks.clone(opts.templateId, {
        name,
        comment: Object.keys(values).sort().map((k) => `${k}=${values[k]}`).join('\n'),
        tags: [OPTIMIZATION_TAG, `opt: ${optimizerId}`],
        parent: optimizerId,
        ...(projectId ? { projectId } : {}),
        hyperparams: sections,
      });
      opts.onTrialCreated?.(id, sections);
      await client.tasks.enqueue(id, { id: queue.id });
      trials.push({ index, taskId: id, name, params: point, status: 'queued', worker: undefined, value: undefined, queuedAt: Date.now() });
      log(`trial ${index + 1}/${opts.points.length} ${id}: queued (${Object.entries(values).map(([k, v]) => `${k}=${v}`).join(' ')})`);
    }

    while (!aborter.signal.aborted && trials.some((t) => t.status === 'queued' || t.status === 'running')) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, opts.pollIntervalMs ?? 2000);
        aborter.signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
      });
      if (aborter.signal.aborted) break;
      const open = trials.filter((t) => t.status === 'queued' || t.status === 'running');
      const r = await client.transport.call('tasks.get_all', { id: open.map((t) => t.taskId), only_fields: ['id', 'status', 'status_reason', 'status_message', 'last_worker', 'last_metrics'], search_hidden: true }, pollSchema);
      const byId = new Map(r.tasks.map((t) => [t.id, t]));
      for (const t of open) {
        const row = byId.get(t.taskId);
        if (!row) continue;
        const status = row.status ?? '';
        if (row.last_worker) t.worker = row.last_worker;
        const tag = `trial ${t.index + 1}/${opts.points.length} ${t.taskId}`;
        if (status === 'in_progress' && t.status === 'queued') {
          t.status = 'running';
          log(`${tag}: running on ${t.worker ?? 'an agent'}`);
        } else if (status === 'queued' && Date.now() - t.queuedAt > (opts.pickupTimeoutMs ?? 600_000)) {
          await client.tasks.dequeue(t.taskId, { force: true }).catch(() => {});
          await client.tasks.failed(t.taskId, { force: true, reason: 'not picked up', message: `no agent picked it up from queue '${opts.queue}'` }).catch(() => {});
          t.status = 'failed';
          t.reason = `no agent picked it up from queue '${opts.queue}' within ${Math.round((opts.pickupTimeoutMs ?? 600_000) / 1000)} s`;
          log(`${tag}: failed: ${t.reason}`);
        } else if (FINAL_OK.has(status)) {
          t.status = 'completed';
          t.value = objectiveOf(row.last_metrics, o);
          log(`${tag}: completed on ${t.worker ?? 'an agent'}: ${o.metric}/${o.variant} = ${t.value ?? '(not reported)'}`);
          if (t.value !== undefined) {
            await scalar(`${o.metric}/${o.variant}`, reported, t.value).catch(() => {});
            if (!best || better(t.value, best.value!)) best = t;
            await scalar(`${o.metric}/${o.variant} best`, reported, best.value!).catch(() => {});
            reported++;
          }
        } else if (FINAL_BAD.has(status)) {
          t.status = status as 'failed' | 'stopped';
          t.reason = row.status_reason || row.status_message || `the agent marked it ${status}`;
          // the last lines of its console say why (the agent's own lines after the script's are left out)
          const tail = (await readTaskLog(client, t.taskId).catch(() => [] as string[])).map((l) => l.trim()).filter((l) => l && !/^(Process failed, exit code|Node\.js v|Process completed|DONE: Running task)/.test(l));
          if (tail.length) t.reason += `; last output: ${tail.at(-1)!.slice(0, 300)}`;
          log(`${tag}: ${status}${t.worker ? ` on ${t.worker}` : ''}: ${t.reason}`);
        }
      }
    }

    if (aborter.signal.aborted) {
      const stopped: string[] = [];
      for (const t of trials) {
        if (t.status !== 'queued' && t.status !== 'running') continue;
        stopped.push(t.taskId);
        try {
          if (t.status === 'queued') await client.tasks.dequeue(t.taskId, { force: true }).catch(() => {});
          await client.tasks.stop(t.taskId, { force: true, reason: 'sweep aborted' });
        } catch (e) {
          if (!(e instanceof ClearmlApiError)) throw e;
        }
      }
      // an agent reports `stopped` itself once its process ends; force it after a while
      const deadline = Date.now() + (opts.stopTimeoutMs ?? 20_000);
      while (stopped.length) {
        const r = await client.transport.call('tasks.get_all', { id: stopped, only_fields: ['id', 'status'], search_hidden: true }, pollSchema);
        const open = r.tasks.filter((t) => !FINAL_OK.has(t.status ?? '') && !FINAL_BAD.has(t.status ?? '') && t.status !== 'created');
        if (open.length === 0) break;
        if (Date.now() > deadline) {
          for (const t of open) await client.tasks.stopped(t.id, { force: true, message: 'sweep aborted' }).catch(() => {});
          break;
        }
        await new Promise((res) => setTimeout(res, 500));
      }
      for (const t of trials) if (stopped.includes(t.taskId)) t.status = 'stopped';
      log(`sweep aborted: ${stopped.length} trials stopped`);
      await finish('stopped');
      throw new ClearmlOptimizerAbortedError(optimizerId, stopped);
    }
    const table = await finish('completed');
    const clean = trials.map(({ queuedAt: _q, stopRequested: _s, ...t }) => t);
    return { optimizerId, webUrl, trials: clean, best: best ? clean.find((t) => t.taskId === best!.taskId) : undefined, table };
  } catch (e) {
    if (e instanceof ClearmlOptimizerAbortedError) throw e;
    for (const t of trials) if (t.status === 'queued' || t.status === 'running') await client.tasks.stop(t.taskId, { force: true, reason: 'sweep controller error' }).catch(() => {});
    await finish('failed', (e as Error).message).catch(() => {});
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
