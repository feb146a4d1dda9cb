/**
 * Event constructors shared by the live {@link EventsLogger} and the {@link OfflineSession} writer, so that both
 * produce exactly what the official SDK sends for the same call.
 */
import { PlotlyFigureSchema, SINGLE_VALUE_ITER, SINGLE_VALUE_METRIC, type LogEvent, type LogLevel, type PlotEvent, type PlotlyFigure, type ScalarEvent } from './types.js';

const int = (name: string, v: number): number => {
  if (!Number.isSafeInteger(v)) throw new RangeError(`${name} must be an integer, got ${v}`);
  return v;
};

/** `Logger.report_scalar(title=metric, series=variant, value, iteration)`. Non-finite values are refused (the server stores floats). */
export function scalarEvent(task: string, metric: string, variant: string, iter: number, value: number, timestamp = Date.now()): ScalarEvent {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`scalar ${metric}/${variant} @${iter}: value must be a finite number, got ${value}`);
  return { timestamp, type: 'training_stats_scalar', task, iter: int('iter', iter), metric, variant, value };
}

/** `Logger.report_single_value(name, value)`: the "Summary" table of the web UI's Scalars tab. */
export function singleValueEvent(task: string, name: string, value: number, timestamp = Date.now()): ScalarEvent {
  return scalarEvent(task, SINGLE_VALUE_METRIC, name, SINGLE_VALUE_ITER, value, timestamp);
}

/** `Logger.report_plotly(title=metric, series=variant, figure, iteration)`. */
export function plotEvent(task: string, metric: string, variant: string, iter: number, figure: PlotlyFigure, timestamp = Date.now()): PlotEvent {
  const fig = PlotlyFigureSchema.parse(figure);
  return { timestamp, type: 'plot', task, iter: int('iter', iter), metric, variant, plot_str: JSON.stringify(fig) };
}

/** Console lines (`task_log_event`): several lines go into one event, as the SDK batches stdout. */
export function logEvent(task: string, lines: string | readonly string[], level: LogLevel = 'info', opts: { timestamp?: number; worker?: string; iter?: number } = {}): LogEvent {
  const msg = typeof lines === 'string' ? lines : lines.join('\n');
  return {
    timestamp: opts.timestamp ?? Date.now(),
    type: 'log',
    task,
    level,
    msg,
    ...(opts.worker !== undefined ? { worker: opts.worker } : {}),
    ...(opts.iter !== undefined ? { iter: int('iter', opts.iter) } : {}),
  };
}
