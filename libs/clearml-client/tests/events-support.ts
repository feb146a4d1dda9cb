// Shared by the events / offline / outage tests: a task to log to, and the REST read side of what was logged
// (events become searchable about 1 s after they are indexed, so reads poll).
import { z } from 'zod';
import type { EventsTransport } from '../src/index.js';

const Id = z.object({ id: z.string() });

export async function createTask(t: EventsTransport, project: string, name: string): Promise<{ taskId: string; projectId: string }> {
  const projectId = (await t.call('projects.create', { name: project, description: 'mlops-ts test' }, Id)).id;
  const taskId = (await t.call('tasks.create', { name, project: projectId, type: 'training' }, Id)).id;
  await t.call('tasks.started', { task: taskId }, z.looseObject({}));
  return { taskId, projectId };
}

/** Retry `read` until `done(value)` holds or `timeoutMs` passes; returns the last value (the test asserts on it). */
export async function poll<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let v = await read();
  while (!done(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 300));
    v = await read();
  }
  return v;
}

const Histogram = z.record(z.string(), z.record(z.string(), z.object({ x: z.array(z.number()), y: z.array(z.number()) })));
/** metric → variant → {x, y} (`events.scalar_metrics_iter_histogram`). */
export function readScalars(t: EventsTransport, task: string): Promise<z.output<typeof Histogram>> {
  return t.call('events.scalar_metrics_iter_histogram', { task, samples: 5000 }, Histogram);
}
export const countPoints = (h: z.output<typeof Histogram>): number =>
  Object.values(h).reduce((n, vs) => n + Object.values(vs).reduce((m, s) => m + s.x.length, 0), 0);

const Singles = z.object({ tasks: z.array(z.object({ task: z.string(), values: z.array(z.object({ metric: z.string(), variant: z.string(), value: z.number() })) })) });
/** variant → value of the "Summary" single values (`events.get_task_single_value_metrics`). */
export async function readSingleValues(t: EventsTransport, task: string): Promise<Record<string, number>> {
  const r = await t.call('events.get_task_single_value_metrics', { tasks: [task] }, Singles);
  return Object.fromEntries((r.tasks[0]?.values ?? []).map((v) => [v.variant, v.value]));
}

const Plots = z.object({ plots: z.array(z.looseObject({ metric: z.string(), variant: z.string(), iter: z.number(), plot_str: z.string() })) });
/** `events.get_task_plots`, each figure parsed. */
export async function readPlots(t: EventsTransport, task: string): Promise<{ metric: string; variant: string; iter: number; figure: { data: Record<string, unknown>[]; layout?: Record<string, unknown> } }[]> {
  const r = await t.call('events.get_task_plots', { task, iters: 100 }, Plots);
  return r.plots.map((p) => ({ metric: p.metric, variant: p.variant, iter: p.iter, figure: JSON.parse(p.plot_str) as { data: Record<string, unknown>[] } }));
}

const Log = z.object({ events: z.array(z.looseObject({ msg: z.string().optional(), level: z.string().optional() })), total: z.number() });
/** Console events oldest first (`events.get_task_log`). */
export async function readLog(t: EventsTransport, task: string): Promise<{ msg: string; level: string }[]> {
  const r = await t.call('events.get_task_log', { task, batch_size: 10000, navigate_earlier: false }, Log);
  return r.events.map((e) => ({ msg: e.msg ?? '', level: e.level ?? '' }));
}

/** float32 storage: compare with a relative tolerance. */
export const close32 = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
