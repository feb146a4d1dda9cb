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

/** What a tracker holds for one run: its metrics (port keys, e.g. `test_roc_auc`) and params. */
export interface TrackedRunSnapshot {
  metrics: Record<string, number>;
  /** MLflow: the run's params; ClearML: the task's hyperparameters as `Section/name`. */
  params: Record<string, string>;
  /** ClearML: the task's output models (name → model id), in the order the task lists them. */
  outputModels?: { name: string; model: string }[];
}

/** An MLflow run's latest metrics and its params, in one `runs/get`. */
export async function mlflowRunSnapshot(client: MlflowClient, runId: string): Promise<TrackedRunSnapshot> {
  const run = await client.getRun(runId);
  return {
    metrics: Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, Number(m.value)])),
    params: Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value])),
  };
}

const TasksExSchema = z.looseObject({
  tasks: z.array(
    z.looseObject({
      id: z.string(),
      last_metrics: LastMetricsSchema.shape.task.shape.last_metrics,
      hyperparams: z.record(z.string(), z.record(z.string(), z.looseObject({ value: z.string().nullish() }))).nullish(),
      // get_all_ex joins each model reference into `{ id, name }`; get_by_id gives the id alone
      models: z.looseObject({ output: z.array(z.looseObject({ name: z.string().nullish(), model: z.union([z.string(), z.looseObject({ id: z.string() })]).nullish() })).nullish() }).nullish(),
    }),
  ),
});

/**
 * ClearML tasks' last scalars (under the port's metric keys: `roc_auc`/`test` → `test_roc_auc`), hyperparameters and
 * output models, in one `tasks.get_all_ex`. A task the server does not return is absent from the map.
 */
export async function clearmlTaskSnapshots(client: Pick<ClearmlSinkClient, 'transport'>, taskIds: readonly string[]): Promise<Map<string, TrackedRunSnapshot>> {
  const out = new Map<string, TrackedRunSnapshot>();
  if (taskIds.length === 0) return out;
  const r = await client.transport.call('tasks.get_all_ex', { id: [...taskIds], only_fields: ['id', 'last_metrics', 'hyperparams', 'models'], search_hidden: true }, TasksExSchema);
  for (const t of r.tasks) {
    const metrics: Record<string, number> = {};
    for (const variants of Object.values(t.last_metrics ?? {})) {
      for (const m of Object.values(variants)) if (typeof m.value === 'number') metrics[metricKeyOf(m.metric, m.variant)] = m.value;
    }
    const params: Record<string, string> = {};
    for (const [section, items] of Object.entries(t.hyperparams ?? {})) for (const [name, item] of Object.entries(items)) params[`${section}/${name}`] = item.value ?? '';
    const outputModels = (t.models?.output ?? []).flatMap((m) => (m.model ? [{ name: m.name ?? '', model: typeof m.model === 'string' ? m.model : m.model.id }] : []));
    out.set(t.id, { metrics, params, outputModels });
  }
  return out;
}

/** One way a tracker's ranking differs from the metrics files' (`metric` values: see {@link metricDisagreements}). */
export interface RankingDisagreement {
  tracker: string;
  kind: 'order' | 'champion';
  /** Models in the tracker's order / the files' order (only the models the tracker holds). */
  tracker_order: string[];
  file_order: string[];
}

/**
 * Where a tracker ranks the same models differently from the metrics files: a different order (one disagreement),
 * and a different best model (another). Only the models the tracker holds are compared, in both orders.
 */
export function rankingDisagreements(tracker: string, fileOrder: readonly string[], trackerOrder: readonly string[]): RankingDisagreement[] {
  const held = new Set(trackerOrder);
  const files = fileOrder.filter((m) => held.has(m));
  const theirs = trackerOrder.filter((m) => files.includes(m));
  if (files.length === 0 || files.every((m, i) => theirs[i] === m)) return [];
  const base = { tracker, tracker_order: theirs, file_order: files };
  return [{ ...base, kind: 'order' }, ...(theirs[0] !== files[0] ? [{ ...base, kind: 'champion' as const }] : [])];
}

const ModelSchema = z.object({ model: z.looseObject({ id: z.string(), project: z.string().nullish(), tags: z.array(z.string()).nullish(), ready: z.boolean().nullish() }) });
const ModelsSchema = z.looseObject({ models: z.array(z.looseObject({ id: z.string(), tags: z.array(z.string()).nullish() })) });

/** What `publishClearmlChampionModel` did. */
export interface ClearmlModelChampion {
  modelId: string;
  /** Other models of the project that held the tag and lost it. */
  removedFrom: string[];
  /** `true`: the model was published now; `false`: it already was. */
  published: boolean;
  /** Anything changed (tag added, moved, or the model published). */
  changed: boolean;
}

/**
 * The champion's ClearML model (the output model its task registered) gets `tag` and is published
 * (`models.set_ready`, its task left as it is); the tag is removed from any other model of the same project holding
 * it. Idempotent: a second call on the same model changes nothing. A published model stays published (ClearML has no
 * unpublish): the tag is what moves.
 */
export async function publishClearmlChampionModel(client: Pick<ClearmlSinkClient, 'transport'>, modelId: string, tag = 'champion'): Promise<ClearmlModelChampion> {
  const { model } = await client.transport.call('models.get_by_id', { model: modelId }, ModelSchema);
  const removedFrom: string[] = [];
  if (model.project) {
    const holders = await client.transport.call('models.get_all', { project: [model.project], tags: [tag], only_fields: ['id', 'tags'] }, ModelsSchema);
    for (const m of holders.models) {
      if (m.id === modelId || !(m.tags ?? []).includes(tag)) continue;
      await client.transport.call('models.update', { model: m.id, tags: (m.tags ?? []).filter((x) => x !== tag) }, z.unknown());
      removedFrom.push(m.id);
    }
  }
  const tags = model.tags ?? [];
  const tagged = !tags.includes(tag);
  if (tagged) await client.transport.call('models.update', { model: modelId, tags: [...tags, tag] }, z.unknown());
  const published = model.ready !== true;
  if (published) await client.transport.call('models.set_ready', { model: modelId, publish_task: false }, z.unknown());
  return { modelId, removedFrom, published, changed: tagged || published || removedFrom.length > 0 };
}
