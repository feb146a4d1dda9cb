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
  ClearmlParamsSchema,
  TRACKER_NAMES,
  type TrackerName,
  type ClearmlParams,
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
export { ClearmlTracker, CLEARML, clearmlPlot, hyperParamOf, clearmlProjectId, PROPERTIES_SECTION, type ClearmlTrackerOptions, type ClearmlSinkClient, type ClearmlEventsSink, type ClearmlOfflineSession } from './clearml.js';
export { openClearmlTracking, clearmlSinkClient, clearmlConfigOf, type OpenClearmlTrackingOptions, type OpenedClearmlTracking, type ClearmlServerConfig } from './open-clearml.js';
export { openTracking, trackingConfigFromEnv, type OpenTrackingOptions, type OpenedTracking, type TrackingConfig } from './open-tracking.js';
export { clearmlScalarOf, metricKeyOf, SPLIT_PREFIXES } from './scalars.js';
export { zipFolder } from './zip.js';
export {
  mlflowRunMetrics,
  clearmlTaskMetrics,
  metricDisagreements,
  tagClearmlChampion,
  mlflowRunSnapshot,
  clearmlTaskSnapshots,
  rankingDisagreements,
  publishClearmlChampionModel,
  type MetricDisagreement,
  type RankingDisagreement,
  type TrackedRunSnapshot,
  type ClearmlModelChampion,
} from './cross-check.js';
