export { analyzeReport, flattenParams, type Analysis, type AnalyzeOptions, type CurvePoint, type ModelAnalysis, type ModelCurves, type Part, type RankingRow, type ThresholdPoint } from './analyze.js';
export { buildCharts, CHART_FONT, renderCharts, renderSvg, svgToPng, type ChartSpec, type PngOptions, type RenderedChart } from './charts.js';
export { buildConclusions, type Conclusion, type ConclusionKind } from './conclusions.js';
export { ReportError, ReportErrorCodes, ReportInputError, ReportRenderError, ReportStatsError, type ReportInputIssue } from './errors.js';
export { bytes, ci, duration, fmt, int, pct, signed } from './format.js';
export { escapeHtml, renderHtml } from './html.js';
export { chartImagePath, renderMarkdown, type MarkdownOptions } from './markdown.js';
export { renderReport, writeReport, type RenderedReport, type RenderReportOptions, type WriteReportOptions, type WrittenReport } from './report.js';
export {
  BaselineMetricsSchema,
  BootstrapParamsSchema,
  ConfusionCellSchema,
  CostSchema,
  DataQualitySchema,
  DatasetSchema,
  DvcSchema,
  EvalMetricsSchema,
  ExpRowSchema,
  HistoryEpochSchema,
  LinksSchema,
  MetricsDiffSchema,
  ModelInputSchema,
  parseReportInput,
  PredictionsSchema,
  predictionsRecord,
  PrPointSchema,
  ReportInputSchema,
  RocPointSchema,
  TrackerSchema,
  UnavailableSchema,
  type EvalMetrics,
  type HistoryEpoch,
  type ModelInput,
  type ParsedReportInput,
  type Predictions,
  type ReportInput,
  type Unavailable,
} from './schema.js';
export { buildSections, type Block, type Cell, type Section } from './sections.js';
export {
  averagePrecision,
  computeMetrics,
  confusionMatrix,
  downsample,
  HIGHER_IS_BETTER,
  METRIC_LABELS,
  METRIC_NAMES,
  pairedBootstrap,
  prCurve,
  predictedClasses,
  quantile,
  rocAuc,
  rocCurve,
  seededRandom,
  trapezoid,
  type BootstrapOptions,
  type BootstrapResult,
  type Interval,
  type MetricName,
  type MetricValues,
  type PairDifference,
  type PrCurve,
  type PredictionSet,
  type RocCurve,
} from './stats.js';
