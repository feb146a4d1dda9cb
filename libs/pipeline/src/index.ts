export { STAGE_PARAMS, allParamsSections, type StageName } from './stages.js';
export { RUN_RECORDS_DIR, readRunRecord, writeRunRecord, runRecordPath } from './records.js';
export { trainModel, modelParamsOf, modelSignature, type TrainModelOptions, type TrainModelResult } from './train.js';
export { evaluateModel, majorityBaseline, classPrior, precisionRecallPoints, scalarsOf, METRIC_NAMES, type EvaluateModelOptions, type EvaluateModelResult, type OpenTracker, type Scalars, type MetricName, type PrPoint } from './evaluate.js';
export { compareModels, type CompareModelsOptions, type CompareResult, type OpenedRegistry, type TrackerRanking } from './compare.js';
export { collectReportInput, isLoopback, reportModels, ReportParamsSchema, type ReportParams, type ReportStageOptions, type ReportStageResult } from './report.js';
export { comparedRuns, comparisonRunName, logReportToTrackers, MODEL_RUN_TAGS, pipelineRunIdsOf, reportFigures, reportMetrics, ReportTags, type LoggedReport, type OpenReportTracker, type ReportFiles, type ReportTrackingOptions } from './report-tracking.js';
export { checkPipelineParams, type CheckResult } from './check.js';
export { openStageTracking, type StageTracking } from './tracking.js';
export { dvcPipelineStages, dvcStepScript, lockFromLog, runClearmlDvcPipeline, DVC_PARAMS_SECTION, type ClearmlDvcPipelineOptions, type DvcPipelineStage } from './clearml-pipeline.js';
export { planSweep, parseParamSpec, runClearmlSweep, runSweepTrial, sweepTrialScript, SweepParamsSchema, SWEEP_SECTION, type ClearmlSweepOptions, type ClearmlSweepResult, type SweepCliOptions, type SweepParams, type SweepPlan, type SweepTrialOptions } from './sweep.js';
// Apps pass `nativeTfDir: nativeTfDirFromEnv(env)` to trainModel/evaluateModel (apps depend on this package, not model-train).
export { nativeTfDirFromEnv } from '@mlops-ts/model-train';
