export * from './port.js';
export { flattenParams } from './params.js';
export { TrackingError } from './errors.js';
export { fanOut, FanOutRun, type FanOutTracker } from './fan-out.js';
export { MemoryTracker, type RecordedRun } from './memory.js';
export { MlflowTracker, MLFLOW, type MlflowTrackerOptions } from './mlflow.js';
export { openMlflowTracking, type OpenMlflowTrackingOptions, type OpenedMlflowTracking } from './open.js';
export { TrackingParamsSchema, CompareParamsSchema, RunFileSchema, type TrackingParams, type CompareParams, type RunFile } from './stage-params.js';
export { PipelineTags, rankByMetric, rankMlflowRuns, registerChampion, rankingCsv, type Candidate, type RankedCandidate } from './compare.js';
