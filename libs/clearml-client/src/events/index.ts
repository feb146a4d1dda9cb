export { EventsLogger, type EventsLoggerOptions, type EventsTransport, type FlushResult, type CloseReport } from './logger.js';
export { confusionFigure, learningCurveFigure, lineFigure, rocFigure, tableFigure, type LineSeries } from './figures.js';
export { logEvent, plotEvent, scalarEvent, singleValueEvent } from './build.js';
export { deliverSpillFile, readSpillFile, SPILL_SUFFIX, REJECTED_SUFFIX } from './spill.js';
export {
  AddBatchResponseSchema,
  LOG_LEVELS,
  LogEventSchema,
  PlotEventSchema,
  PlotlyFigureSchema,
  ScalarEventSchema,
  SINGLE_VALUE_ITER,
  SINGLE_VALUE_METRIC,
  TaskEventSchema,
  type LogEvent,
  type LogLevel,
  type PlotEvent,
  type PlotlyFigure,
  type ScalarEvent,
  type TaskEvent,
} from './types.js';
