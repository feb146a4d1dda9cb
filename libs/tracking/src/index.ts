export * from './port.js';
export { flattenParams } from './params.js';
export { TrackingError } from './errors.js';
export { fanOut, FanOutRun, type FanOutTracker, type FanOutOptions } from './fan-out.js';
export { plotlyFigure, plotlyHtml, PLOTLY_JS_CDN, type PlotlyFigure } from './plotly.js';
export { MemoryTracker, type RecordedRun } from './memory.js';
export { MlflowTracker, MLFLOW, type MlflowTrackerOptions } from './mlflow.js';
export { openMlflowTracking, MLFLOW_UI_URI, type OpenMlflowTrackingOptions, type OpenedMlflowTracking } from './open.js';
export {
  TrackingParamsSchema,
  CompareParamsSchema,
  RunRecordSchema,
  TrackingTargetSchema,
  type TrackingParams,
  type CompareParams,
  type RunRecord,
  type RunRecordInput,
  type TrackingTarget,
} from './stage-params.js';
export { PipelineTags, rankByMetric, rankMlflowRuns, registerChampion, rankingCsv, type ChampionRegistration, type Candidate, type RankedCandidate } from './compare.js';
export { importRecordedRun, readRecordedRun, locateRecordedPath, RecordedRunError, RecordedRunSchema, IMPORTED_FROM_TAG, type ImportResult } from './mlflow-import.js';
export type { MlflowLogModelOptions } from './mlflow.js';
