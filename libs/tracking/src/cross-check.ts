import type { MlflowClient } from '@mlops-ts/mlflow-client';
import { z } from 'zod';
import type { ClearmlSinkClient } from './clearml.js';
import { metricKeyOf } from './scalars.js';

/** The latest value of each metric of an MLflow run. */
export async function mlflowRunMetrics(client: MlflowClient, runId: string): Promise<Record<string, number>> {
  const run = await client.getRun(runId);
  return Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, Number(m.value)]));
}

const LastMetricsSchema = z.object({
  task: z.looseObject({
    id: z.string(),
    last_metrics: z.record(z.string(), z.record(z.string(), z.looseObject({ metric: z.string(), variant: z.string(), value: z.number().nullish() }))).nullish(),
  }),
});

/** The last value of each scalar of a ClearML task, under the port's metric keys (`roc_auc`/`test` → `test_roc_auc`). */
export async function clearmlTaskMetrics(client: Pick<ClearmlSinkClient, 'transport'>, taskId: string): Promise<Record<string, number>> {
  const { task } = await client.transport.call('tasks.get_by_id', { task: taskId }, LastMetricsSchema);
  const out: Record<string, number> = {};
  for (const variants of Object.values(task.last_metrics ?? {})) {
    for (const m of Object.values(variants)) if (typeof m.value === 'number') out[metricKeyOf(m.metric, m.variant)] = m.value;
  }
  return out;
}

export interface MetricDisagreement {
  model: string;
  tracker: string;
  metric: string;
  /** What the DVC-versioned metrics file says. */
  file: number;
  /** What the tracker holds (`null`: the tracker has no such metric). */
  tracker_value: number | null;
}

/**
 * Where a tracker's metrics disagree with the metrics files: a metric missing there, or differing by more than
 * float32 rounding (ClearML stores scalars as float32).
 */
export function metricDisagreements(model: string, tracker: string, file: Record<string, number>, held: Record<string, number>): MetricDisagreement[] {
  const out: MetricDisagreement[] = [];
  for (const [metric, value] of Object.entries(file)) {
    const v = held[metric];
    if (v === undefined || Number.isNaN(v)) out.push({ model, tracker, metric, file: value, tracker_value: v ?? null });
    else if (Math.abs(v - value) > 1e-6 * Math.max(1, Math.abs(value))) out.push({ model, tracker, metric, file: value, tracker_value: v });
  }
  return out;
}

const TasksSchema = z.looseObject({ tasks: z.array(z.looseObject({ id: z.string(), tags: z.array(z.string()).nullish(), project: z.string().nullish() })) });
const TaskSchema = z.object({ task: z.looseObject({ id: z.string(), tags: z.array(z.string()).nullish(), project: z.string().nullish() }) });

/**
 * Tags the champion's ClearML task with `tag` (e.g. `champion`, beside the MLflow alias) and removes it from any
 * other task of the same project holding it. Returns the tasks it was removed from.
 */
export async function tagClearmlChampion(client: Pick<ClearmlSinkClient, 'transport'>, taskId: string, tag = 'champion'): Promise<{ taskId: string; removedFrom: string[]; changed: boolean }> {
  const { task } = await client.transport.call('tasks.get_by_id', { task: taskId }, TaskSchema);
  const removedFrom: string[] = [];
  if (task.project) {
    const holders = await client.transport.call('tasks.get_all', { project: [task.project], tags: [tag], only_fields: ['id', 'tags', 'project'] }, TasksSchema);
    for (const t of holders.tasks) {
      if (t.id === taskId || !(t.tags ?? []).includes(tag)) continue;
      await client.transport.call('tasks.update', { task: t.id, tags: (t.tags ?? []).filter((x) => x !== tag) }, z.unknown());
      removedFrom.push(t.id);
    }
  }
  const tags = task.tags ?? [];
  const changed = !tags.includes(tag);
  if (changed) await client.transport.call('tasks.update', { task: taskId, tags: [...tags, tag] }, z.unknown());
  return { taskId, removedFrom, changed: changed || removedFrom.length > 0 };
}
