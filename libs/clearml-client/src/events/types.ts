/**
 * The events the ClearML API server stores (`events.add` / `events.add_batch`, schema `metrics_scalar_event`,
 * `metrics_plot_event`, `task_log_event` of services/events.conf), as this client sends them and as offline
 * sessions store them. zod schemas, because spill files and offline sessions are read back from disk.
 */
import { z } from 'zod';

/** The iteration the SDK gives single values (`Logger.report_single_value`): the smallest int32. */
export const SINGLE_VALUE_ITER = -2147483648;
/** The metric single values are reported under (the web UI's "Summary" table of the Scalars tab). */
export const SINGLE_VALUE_METRIC = 'Summary';

export const LOG_LEVELS = ['notset', 'debug', 'verbose', 'info', 'warn', 'warning', 'error', 'fatal', 'critical'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const base = {
  task: z.string().min(1),
  /** Epoch milliseconds UTC. */
  timestamp: z.number(),
  model_event: z.boolean().optional(),
};

export const ScalarEventSchema = z.object({
  ...base,
  type: z.literal('training_stats_scalar'),
  iter: z.number().int(),
  metric: z.string(),
  variant: z.string(),
  value: z.number(),
});
export const PlotEventSchema = z.object({
  ...base,
  type: z.literal('plot'),
  iter: z.number().int(),
  metric: z.string(),
  variant: z.string(),
  /** A Plotly figure `{data, layout}` as JSON text. */
  plot_str: z.string(),
});
export const LogEventSchema = z.object({
  ...base,
  type: z.literal('log'),
  level: z.enum(LOG_LEVELS),
  msg: z.string(),
  worker: z.string().optional(),
  iter: z.number().int().optional(),
});

export const TaskEventSchema = z.discriminatedUnion('type', [ScalarEventSchema, PlotEventSchema, LogEventSchema]);
export type ScalarEvent = z.output<typeof ScalarEventSchema>;
export type PlotEvent = z.output<typeof PlotEventSchema>;
export type LogEvent = z.output<typeof LogEventSchema>;
export type TaskEvent = z.output<typeof TaskEventSchema>;

/** `events.add_batch` answer. */
export const AddBatchResponseSchema = z.object({
  added: z.number().int().default(0),
  errors: z.number().int().default(0),
  errors_info: z.record(z.string(), z.unknown()).optional().nullable(),
});
export type AddBatchResponse = z.output<typeof AddBatchResponseSchema>;

/** A Plotly figure as the web UI draws it (`data` traces + `layout`), kept open for any Plotly attribute. */
export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}
export const PlotlyFigureSchema = z.looseObject({
  data: z.array(z.record(z.string(), z.unknown())),
  layout: z.record(z.string(), z.unknown()).optional(),
  config: z.record(z.string(), z.unknown()).optional(),
});
