import type { LastMetricsEvent, Task } from '../api/schemas.js';

/** One metric/variant of a task as the server summarises it in `last_metrics`. */
export interface MetricSummary {
  metric: string;
  variant: string;
  last: number | undefined;
  min: number | undefined;
  minIteration: number | undefined;
  max: number | undefined;
  maxIteration: number | undefined;
  first: number | undefined;
  mean: number | undefined;
  count: number | undefined;
}

/** A task with what comparisons need: its parameters (`Section/name` → value) and metric summaries (`metric/variant`). */
export interface TaskSummary {
  id: string;
  name: string;
  status: string | undefined;
  type: string | undefined;
  projectId: string | undefined;
  /** When the query joined it (`tasksOfProject`). */
  projectName: string | undefined;
  tags: string[];
  systemTags: string[];
  comment: string | undefined;
  created: string | undefined;
  started: string | undefined;
  completed: string | undefined;
  lastIteration: number | undefined;
  /** `Section/name` → value, the SDK's `Task.get_parameters()` keys. */
  params: Record<string, string>;
  /** `metric/variant` → summary. */
  metrics: Record<string, MetricSummary>;
  /** Output model ids. */
  outputModels: string[];
}

const num = (v: number | null | undefined): number | undefined => (v === null || v === undefined ? undefined : v);

export function metricSummary(e: LastMetricsEvent): MetricSummary {
  return {
    metric: e.metric ?? '',
    variant: e.variant ?? '',
    last: num(e.value),
    min: num(e.min_value),
    minIteration: num(e.min_value_iteration),
    max: num(e.max_value),
    maxIteration: num(e.max_value_iteration),
    first: num(e.first_value),
    mean: num(e.mean_value),
    count: num(e.count),
  };
}

/** Flatten a task as the server returns it into a {@link TaskSummary}. */
export function summarizeTask(t: Task): TaskSummary {
  const params: Record<string, string> = {};
  for (const [section, items] of Object.entries(t.hyperparams ?? {})) {
    for (const [name, item] of Object.entries(items)) params[`${section}/${name}`] = item.value;
  }
  const metrics: Record<string, MetricSummary> = {};
  for (const variants of Object.values(t.last_metrics ?? {})) {
    for (const e of Object.values(variants)) {
      const s = metricSummary(e);
      metrics[`${s.metric}/${s.variant}`] = s;
    }
  }
  return {
    id: t.id,
    name: t.name,
    status: t.status ?? undefined,
    type: t.type ?? undefined,
    projectId: t.project,
    projectName: t.project_name,
    tags: t.tags,
    systemTags: t.system_tags,
    comment: t.comment,
    created: t.created,
    started: t.started,
    completed: t.completed,
    lastIteration: num(t.last_iteration),
    params,
    metrics,
    outputModels: (t.models?.output ?? []).map((m) => m.model).filter((m): m is string => m !== undefined),
  };
}
