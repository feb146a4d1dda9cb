import { z } from 'zod';
import { exactNameRegex } from '../api/names.js';
import type { ProjectsApi } from '../api/projects.js';
import { modelSchema, taskSchema, type Model } from '../api/schemas.js';
import { ClearmlValidationError } from '../errors.js';
import type { ClearmlTransport } from '../transport.js';
import { compareTasks, rankTasks, type RankOptions, type Ranking, type TaskComparison } from './compare.js';
import { summarizeTask, type TaskSummary } from './summaries.js';

/** A project by full name or by id. */
export type ProjectRef = { name: string } | { id: string };

export interface TaskQuery {
  /** Also tasks of sub-projects. */
  includeSubprojects?: boolean;
  /** Exact task name (escaped and anchored: the server's filter is a regex) … */
  name?: string;
  /** … or a regular expression of the name, as the server takes it. */
  nameRegex?: string;
  status?: string[];
  type?: string[];
  /** Tasks carrying all these tags (`-tag` excludes, the server's syntax). */
  tags?: string[];
  /** Archived tasks are left out unless this is true. */
  includeArchived?: boolean;
  /** Server-side order, e.g. `['-last_update']` (default: newest first by creation). */
  orderBy?: string[];
  /** At most this many tasks (default: all, fetched in pages of 500). */
  limit?: number;
}

/** One scalar series: x (iterations, or ms timestamps) and y. Values come back from the server as float32. */
export interface ScalarSeries {
  x: number[];
  y: number[];
}
/** `metric` → `variant` → series. */
export type ScalarHistory = Record<string, Record<string, ScalarSeries>>;

export interface ScalarOptions {
  /** x axis: `iter` (default), `timestamp` (ms) or `iso_time`. */
  key?: 'iter' | 'timestamp' | 'iso_time';
  /** Points per series (0 = all; the server's default is 6000 and it downsamples beyond). */
  samples?: number;
  /** Only these metrics (and variants). */
  metrics?: { metric: string; variants?: string[] }[];
}

export interface LogLine {
  timestamp: number | undefined;
  level: string | undefined;
  worker: string | undefined;
  msg: string;
}

export interface PlotEvent {
  metric: string;
  variant: string;
  iter: number | undefined;
  timestamp: number | undefined;
  /** The Plotly figure (`plot_str` parsed). */
  figure: Record<string, unknown>;
}

const logResponse = z
  .object({
    events: z.array(z.object({ timestamp: z.number().nullish(), level: z.string().nullish(), worker: z.string().nullish(), msg: z.string().nullish() }).loose()),
    total: z.number().nullish(),
  })
  .loose();
const plotsResponse = z
  .object({
    plots: z.array(z.object({ metric: z.string(), variant: z.string(), iter: z.number().nullish(), timestamp: z.number().nullish(), plot_str: z.string() }).loose()),
    scroll_id: z.string().nullish(),
  })
  .loose();
const singleValuesResponse = z.object({
  tasks: z.array(z.object({ task: z.string(), values: z.array(z.object({ metric: z.string(), variant: z.string(), value: z.number().nullable() }).loose()) }).loose()),
});

const seriesSchema = z.object({ name: z.string().nullish(), x: z.array(z.union([z.number(), z.string()])), y: z.array(z.number().nullable()) }).loose();
const historySchema = z.record(z.string(), z.record(z.string(), seriesSchema));
const multiHistorySchema = z.object({ metrics: z.record(z.string(), z.record(z.string(), z.record(z.string(), seriesSchema))) }).loose();

const TASK_FIELDS = [
  'id',
  'name',
  'status',
  'type',
  'project.name',
  'tags',
  'system_tags',
  'comment',
  'created',
  'started',
  'completed',
  'last_update',
  'last_iteration',
  'hyperparams',
  'last_metrics',
  'models',
];

const MODEL_FIELDS = [
  'id',
  'name',
  'project.name',
  'task',
  'parent',
  'user',
  'comment',
  'created',
  'last_update',
  'tags',
  'system_tags',
  'framework',
  'design',
  'labels',
  'uri',
  'ready',
  'last_iteration',
  'last_metrics',
  'metadata',
];

function toSeries(s: z.output<typeof seriesSchema>): ScalarSeries {
  const x: number[] = [];
  const y: number[] = [];
  s.x.forEach((xv, i) => {
    const yv = s.y[i];
    if (yv === null || yv === undefined) return;
    x.push(typeof xv === 'number' ? xv : Date.parse(xv));
    y.push(yv);
  });
  return { x, y };
}

/** Read-side queries: tasks of a project with parameters and metrics, scalar histories, models; comparisons. */
export class QueriesApi {
  constructor(
    private readonly transport: ClearmlTransport,
    private readonly projects: ProjectsApi,
  ) {}

  private async projectId(ref: ProjectRef): Promise<string> {
    return 'id' in ref ? ref.id : (await this.projects.require(ref.name)).id;
  }

  /** Tasks of a project with their hyperparameters and `last_metrics`, as {@link TaskSummary}s (`tasks.get_all_ex`). */
  async tasksOfProject(project: ProjectRef, q: TaskQuery = {}): Promise<TaskSummary[]> {
    if (q.name !== undefined && q.nameRegex !== undefined) throw new ClearmlValidationError('query', 'give name or nameRegex, not both');
    const body: Record<string, unknown> = {
      project: [await this.projectId(project)],
      include_subprojects: q.includeSubprojects ?? false,
      only_fields: TASK_FIELDS,
      order_by: q.orderBy ?? ['-created'],
      search_hidden: true,
    };
    if (q.name !== undefined) body['name'] = exactNameRegex(q.name);
    if (q.nameRegex !== undefined) body['name'] = q.nameRegex;
    if (q.status) body['status'] = q.status;
    if (q.type) body['type'] = q.type;
    if (q.tags) body['tags'] = q.tags;
    if (!q.includeArchived) body['system_tags'] = ['-archived'];
    const out: TaskSummary[] = [];
    const pageSize = Math.min(500, q.limit ?? 500);
    for (let page = 0; ; page++) {
      const r = await this.transport.call('tasks.get_all_ex', { ...body, page, page_size: pageSize }, z.object({ tasks: z.array(taskSchema) }).loose());
      for (const t of r.tasks) out.push(summarizeTask(t));
      if (r.tasks.length < pageSize || (q.limit !== undefined && out.length >= q.limit)) break;
    }
    // exact names: the anchored regex may still match case-insensitively on some servers
    const filtered = q.name !== undefined ? out.filter((t) => t.name === q.name) : out;
    return q.limit !== undefined ? filtered.slice(0, q.limit) : filtered;
  }

  /** Summaries of the given tasks (any projects). */
  async taskSummaries(taskIds: readonly string[]): Promise<TaskSummary[]> {
    if (taskIds.length === 0) return [];
    const r = await this.transport.call('tasks.get_all_ex', { id: taskIds, only_fields: TASK_FIELDS, search_hidden: true }, z.object({ tasks: z.array(taskSchema) }).loose());
    const byId = new Map(r.tasks.map((t) => [t.id, summarizeTask(t)]));
    return taskIds.map((id) => byId.get(id)).filter((t): t is TaskSummary => t !== undefined);
  }

  /** Scalar histories of one task (`events.scalar_metrics_iter_histogram`). */
  async scalars(taskId: string, opts: ScalarOptions = {}): Promise<ScalarHistory> {
    const r = await this.transport.call(
      'events.scalar_metrics_iter_histogram',
      {
        task: taskId,
        key: opts.key ?? 'iter',
        ...(opts.samples !== undefined ? { samples: opts.samples } : {}),
        ...(opts.metrics ? { metrics: opts.metrics.map((m) => ({ metric: m.metric, ...(m.variants ? { variants: m.variants } : {}) })) } : {}),
      },
      historySchema,
    );
    const out: ScalarHistory = {};
    for (const [metric, variants] of Object.entries(r)) {
      out[metric] = {};
      for (const [variant, s] of Object.entries(variants)) out[metric][variant] = toSeries(s);
    }
    return out;
  }

  /** Scalar histories of several tasks, `metric` → `variant` → task id → series (`events.multi_task_scalar_metrics_iter_histogram`, ≤ 100 tasks). */
  async scalarsOfTasks(taskIds: readonly string[], opts: ScalarOptions = {}): Promise<Record<string, Record<string, Record<string, ScalarSeries>>>> {
    if (taskIds.length === 0) return {};
    if (taskIds.length > 100) throw new ClearmlValidationError('taskIds', `at most 100 tasks per call (got ${taskIds.length})`);
    const r = await this.transport.call(
      'events.multi_task_scalar_metrics_iter_histogram',
      {
        tasks: taskIds,
        key: opts.key ?? 'iter',
        ...(opts.samples !== undefined ? { samples: opts.samples } : {}),
        ...(opts.metrics ? { metrics: opts.metrics.map((m) => ({ metric: m.metric, ...(m.variants ? { variants: m.variants } : {}) })) } : {}),
      },
      multiHistorySchema,
    );
    const out: Record<string, Record<string, Record<string, ScalarSeries>>> = {};
    for (const [metric, variants] of Object.entries(r.metrics)) {
      out[metric] = {};
      for (const [variant, byTask] of Object.entries(variants)) {
        out[metric][variant] = {};
        for (const [task, s] of Object.entries(byTask)) out[metric][variant][task] = toSeries(s);
      }
    }
    return out;
  }

  /**
   * The console log of a task, oldest first (`events.get_task_log` from the earliest, paged by timestamp as API 2.9+
   * does). Pages overlap by one millisecond so lines sharing a timestamp across a page boundary are not lost; the
   * overlap is removed.
   */
  async log(taskId: string, opts: { batchSize?: number; maxLines?: number } = {}): Promise<LogLine[]> {
    const out: LogLine[] = [];
    const batch = opts.batchSize ?? 500;
    const max = opts.maxLines ?? 100_000;
    let from: number | undefined;
    let seenAtEdge = new Set<string>();
    const keyOf = (l: LogLine) => `${l.timestamp}\u0000${l.level}\u0000${l.worker}\u0000${l.msg}`;
    for (;;) {
      const r = await this.transport.call(
        'events.get_task_log',
        { task: taskId, batch_size: batch, navigate_earlier: false, ...(from !== undefined ? { from_timestamp: from } : {}) },
        logResponse,
      );
      const page = r.events.map((e) => ({ timestamp: e.timestamp ?? undefined, level: e.level ?? undefined, worker: e.worker ?? undefined, msg: e.msg ?? '' }));
      const fresh = page.filter((l) => !seenAtEdge.has(keyOf(l)));
      out.push(...fresh);
      const last = page[page.length - 1]?.timestamp;
      if (page.length < batch || last === undefined || out.length >= max || (typeof r.total === 'number' && out.length >= r.total)) break;
      // next page from just before the last timestamp (inclusive of lines sharing it), unless that would repeat this page
      const next = fresh.length > 0 ? last - 1 : last;
      seenAtEdge = new Set(page.filter((l) => l.timestamp !== undefined && l.timestamp > next).map(keyOf));
      from = next;
    }
    return out.slice(0, max);
  }

  /** The plots of a task (`events.get_task_plots`), figures parsed; the latest iteration of each metric/variant by default. */
  async plots(taskId: string, opts: { iters?: number; metrics?: { metric: string; variants?: string[] }[] } = {}): Promise<PlotEvent[]> {
    const r = await this.transport.call(
      'events.get_task_plots',
      {
        task: taskId,
        iters: opts.iters ?? 1,
        ...(opts.metrics ? { metrics: opts.metrics.map((m) => ({ metric: m.metric, ...(m.variants ? { variants: m.variants } : {}) })) } : {}),
      },
      plotsResponse,
    );
    return r.plots.map((p) => {
      let figure: Record<string, unknown>;
      try {
        figure = JSON.parse(p.plot_str) as Record<string, unknown>;
      } catch {
        figure = { unparsed: p.plot_str };
      }
      return { metric: p.metric, variant: p.variant, iter: p.iter ?? undefined, timestamp: p.timestamp ?? undefined, figure };
    });
  }

  /** Single values (`Summary` table in the UI; the SDK's `report_single_value`) of tasks: task id → `metric/variant` → value. */
  async singleValues(taskIds: readonly string[]): Promise<Record<string, Record<string, number | null>>> {
    if (taskIds.length === 0) return {};
    const r = await this.transport.call('events.get_task_single_value_metrics', { tasks: taskIds }, singleValuesResponse);
    return Object.fromEntries(r.tasks.map((t) => [t.task, Object.fromEntries(t.values.map((v) => [`${v.metric}/${v.variant}`, v.value]))]));
  }

  /** Models of a project (`models.get_all_ex`), newest first; archived ones left out unless asked. */
  async modelsOfProject(
    project: ProjectRef,
    q: { includeSubprojects?: boolean; tags?: string[]; ready?: boolean; name?: string; includeArchived?: boolean; limit?: number } = {},
  ): Promise<Model[]> {
    const body: Record<string, unknown> = {
      project: [await this.projectId(project)],
      include_subprojects: q.includeSubprojects ?? false,
      only_fields: MODEL_FIELDS,
      order_by: ['-created'],
      page: 0,
      page_size: Math.min(500, q.limit ?? 500),
    };
    if (q.tags) body['tags'] = q.tags;
    if (q.ready !== undefined) body['ready'] = q.ready;
    if (q.name !== undefined) body['name'] = exactNameRegex(q.name);
    if (!q.includeArchived) body['system_tags'] = ['-archived'];
    const out: Model[] = [];
    for (let page = 0; ; page++) {
      const r = await this.transport.call('models.get_all_ex', { ...body, page }, z.object({ models: z.array(modelSchema) }).loose());
      out.push(...r.models);
      if (r.models.length < (body['page_size'] as number) || (q.limit !== undefined && out.length >= q.limit)) break;
    }
    const filtered = q.name !== undefined ? out.filter((m) => m.name === q.name) : out;
    return q.limit !== undefined ? filtered.slice(0, q.limit) : filtered;
  }

  /** Compare tasks by id: differing parameters and metric summaries. */
  async compare(taskIds: readonly string[]): Promise<TaskComparison> {
    return compareTasks(await this.taskSummaries(taskIds));
  }

  /** Rank the tasks of a project (or the given summaries) by a metric. */
  async rank(source: ProjectRef | readonly TaskSummary[], opts: RankOptions & TaskQuery): Promise<Ranking> {
    const tasks = Array.isArray(source) ? (source as readonly TaskSummary[]) : await this.tasksOfProject(source as ProjectRef, opts);
    return rankTasks(tasks, opts);
  }
}
