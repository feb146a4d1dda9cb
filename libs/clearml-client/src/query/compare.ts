import { ClearmlValidationError } from '../errors.js';
import type { MetricSummary, TaskSummary } from './summaries.js';

export interface TaskComparison {
  tasks: { id: string; name: string; status: string | undefined }[];
  params: {
    /** Parameters with the same value in every task (missing counts as a difference). */
    same: Record<string, string>;
    /** `Section/name` → task id → value (`undefined`: the task does not have it). */
    differing: Record<string, Record<string, string | undefined>>;
  };
  /** `metric/variant` → task id → { last, min, max } (absent: the task did not report it). */
  metrics: Record<string, Record<string, Pick<MetricSummary, 'last' | 'min' | 'max' | 'count'>>>;
}

/** Compare tasks: the parameters that differ (and those that do not), and every metric's last/min/max per task. */
export function compareTasks(tasks: readonly TaskSummary[]): TaskComparison {
  const keys = [...new Set(tasks.flatMap((t) => Object.keys(t.params)))].sort();
  const same: Record<string, string> = {};
  const differing: Record<string, Record<string, string | undefined>> = {};
  for (const k of keys) {
    const values = tasks.map((t) => t.params[k]);
    if (values.every((v) => v !== undefined && v === values[0])) same[k] = values[0]!;
    else differing[k] = Object.fromEntries(tasks.map((t) => [t.id, t.params[k]]));
  }
  const metricKeys = [...new Set(tasks.flatMap((t) => Object.keys(t.metrics)))].sort();
  const metrics: TaskComparison['metrics'] = {};
  for (const m of metricKeys) {
    metrics[m] = {};
    for (const t of tasks) {
      const s = t.metrics[m];
      if (s) metrics[m][t.id] = { last: s.last, min: s.min, max: s.max, count: s.count };
    }
  }
  return { tasks: tasks.map((t) => ({ id: t.id, name: t.name, status: t.status })), params: { same, differing }, metrics };
}

export interface RankOptions {
  /** `metric/variant`, e.g. `eval/accuracy` (or `{ metric, variant }`). */
  metric: string | { metric: string; variant: string };
  /** Which summary value: the last reported (default), the minimum or the maximum. */
  value?: 'last' | 'min' | 'max';
  /** `desc` (default: higher is better) or `asc` (lower is better, e.g. a loss). */
  order?: 'asc' | 'desc';
}

export interface RankedTask {
  rank: number;
  task: TaskSummary;
  value: number;
}

export interface Ranking {
  metric: string;
  value: 'last' | 'min' | 'max';
  order: 'asc' | 'desc';
  ranked: RankedTask[];
  /** Tasks that did not report the metric. */
  missing: TaskSummary[];
}

/** Rank tasks by a metric; ties keep the input order and share no rank (1, 2, 3…). */
export function rankTasks(tasks: readonly TaskSummary[], opts: RankOptions): Ranking {
  const metric = typeof opts.metric === 'string' ? opts.metric : `${opts.metric.metric}/${opts.metric.variant}`;
  if (!metric.includes('/')) throw new ClearmlValidationError('metric', `'${metric}' must be metric/variant (e.g. eval/accuracy)`);
  const which = opts.value ?? 'last';
  const order = opts.order ?? 'desc';
  const withValue: { task: TaskSummary; value: number; i: number }[] = [];
  const missing: TaskSummary[] = [];
  tasks.forEach((task, i) => {
    const v = task.metrics[metric]?.[which];
    if (v === undefined || Number.isNaN(v)) missing.push(task);
    else withValue.push({ task, value: v, i });
  });
  withValue.sort((a, b) => (order === 'desc' ? b.value - a.value : a.value - b.value) || a.i - b.i);
  return { metric, value: which, order, ranked: withValue.map((x, k) => ({ rank: k + 1, task: x.task, value: x.value })), missing };
}
