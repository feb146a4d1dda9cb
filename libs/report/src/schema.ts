/**
 * The input model of a report, as zod schemas. Every part is optional except the models' names: a section whose
 * data is missing says so and the rest renders. The shapes are those of the pipeline's DVC files, so a caller can
 * pass them as read: `metrics/eval/<model>.json` (`eval`), `models/<model>/history.json` (`history`),
 * `plots/<model>/roc.json` and `confusion.json` (`roc`, `confusion`), `metrics/data_quality.json`
 * (`dataset.quality`), the test predictions evaluate writes (`predictions`), and `dvc metrics diff --json` /
 * `dvc exp show` rows as `@mlops-ts/dvc-adapter` returns them (`dvc`).
 */
import { z } from 'zod';
import { ReportInputError } from './errors.js';
import { METRIC_NAMES } from './stats.js';

/** JSON writes NaN as null: a metric may be null (undefined for that split, e.g. ROC AUC with one class). */
const metric = z.number().nullable();

/** Test metrics of the baseline inside an eval file. */
export const BaselineMetricsSchema = z.looseObject({
  name: z.string().default('majority_class'),
  /** The train split's class frequencies the baseline predicts (proposed for evaluate to write; see `baseline.prior` of the input). */
  prior: z.array(z.number().min(0).max(1)).min(2).optional(),
  accuracy: metric.optional(),
  precision: metric.optional(),
  recall: metric.optional(),
  f1: metric.optional(),
  roc_auc: metric.optional(),
  log_loss: metric.optional(),
});

/** Paired-bootstrap settings: resamples, seed and confidence level of the intervals. */
export const BootstrapParamsSchema = z.object({
  resamples: z.int().min(2).max(100_000).default(1000),
  seed: z.int().default(42),
  confidence: z.number().gt(0).lt(1).default(0.95),
});

/** `metrics/eval/<model>.json` as the evaluate stage writes it. */
export const EvalMetricsSchema = z.looseObject({
  model: z.string().optional(),
  task: z.enum(['binary', 'multiclass']).optional(),
  average: z.string().optional(),
  rows: z.int().nonnegative().optional(),
  accuracy: metric.optional(),
  precision: metric.optional(),
  recall: metric.optional(),
  f1: metric.optional(),
  roc_auc: metric.optional(),
  log_loss: metric.optional(),
  baseline: BaselineMetricsSchema.optional(),
  per_class: z.record(z.string(), z.looseObject({ precision: metric, recall: metric, f1: metric, support: z.int().nonnegative() })).optional(),
});
export type EvalMetrics = z.output<typeof EvalMetricsSchema>;

/** One epoch of `models/<model>/history.json` (train stage): losses and accuracies of the train and valid splits. */
export const HistoryEpochSchema = z.looseObject({
  epoch: z.int().nonnegative(),
  loss: z.number(),
  accuracy: z.number().optional(),
  valLoss: z.number().optional(),
  valAccuracy: z.number().optional(),
  improved: z.boolean().optional(),
});
export type HistoryEpoch = z.output<typeof HistoryEpochSchema>;

/**
 * Test predictions of one model: the true label (class index) of each test row and the model's probability of each
 * class, rows in the same order for every model (the paired bootstrap checks that the labels agree).
 */
export const PredictionsSchema = z
  .object({
    format: z.literal('mlops-ts.predictions/1').optional(),
    model: z.string().optional(),
    /** Class names; index = label (binary: index 1 is the positive class). */
    classes: z.array(z.string()).min(2).optional(),
    labels: z.array(z.int().nonnegative()).min(1),
    /** `probabilities[i][c]`: probability of class c for row i. */
    probabilities: z.array(z.array(z.number().min(0).max(1)).min(2)).min(1),
  })
  .superRefine((p, ctx) => {
    if (p.labels.length !== p.probabilities.length) {
      ctx.addIssue({ code: 'custom', path: ['probabilities'], message: `${p.probabilities.length} rows of probabilities for ${p.labels.length} labels` });
    }
    const k = p.probabilities[0]?.length ?? 0;
    const bad = p.probabilities.findIndex((row) => row.length !== k);
    if (bad >= 0) ctx.addIssue({ code: 'custom', path: ['probabilities', bad], message: `${p.probabilities[bad]!.length} probabilities, row 0 has ${k}` });
    const out = p.labels.findIndex((y) => y >= k);
    if (out >= 0) ctx.addIssue({ code: 'custom', path: ['labels', out], message: `label ${p.labels[out]} is not a class index 0..${k - 1}` });
    if (p.classes && p.classes.length !== k) ctx.addIssue({ code: 'custom', path: ['classes'], message: `${p.classes.length} class names for ${k} probability columns` });
  });
export type Predictions = z.output<typeof PredictionsSchema>;

/**
 * The predictions file evaluate writes (`predictions/<model>.json`), from its labels and row-major `rows × K`
 * probability array (e.g. a Float32Array from `predictProba`). Probabilities are rounded to `digits` (default 6:
 * ~20 bytes a row, metrics move by less than 1e-5) so the file stays small; the result is validated.
 */
export function predictionsRecord(o: { model: string; classes: readonly string[]; labels: ArrayLike<number>; proba: ArrayLike<number>; digits?: number }): Predictions {
  const k = o.classes.length;
  const scale = 10 ** (o.digits ?? 6);
  if (o.proba.length !== o.labels.length * k) {
    throw new ReportInputError([{ path: 'proba', message: `${o.proba.length} probabilities for ${o.labels.length} rows × ${k} classes` }], { what: `predictions of ${o.model}` });
  }
  const probabilities = Array.from({ length: o.labels.length }, (_, i) => Array.from({ length: k }, (_, c) => Math.round(o.proba[i * k + c]! * scale) / scale));
  const parsed = PredictionsSchema.safeParse({ format: 'mlops-ts.predictions/1', model: o.model, classes: [...o.classes], labels: Array.from(o.labels), probabilities });
  if (!parsed.success) throw new ReportInputError(parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })), { what: `predictions of ${o.model}` });
  return parsed.data;
}

/** A point of `plots/<model>/roc.json` (evaluate stage). */
export const RocPointSchema = z.looseObject({ class: z.string().optional(), fpr: z.number(), tpr: z.number(), threshold: z.number().nullable().optional() });
/** A point of a precision-recall curve. */
export const PrPointSchema = z.looseObject({ class: z.string().optional(), precision: z.number(), recall: z.number(), threshold: z.number().nullable().optional() });
/** A cell of `plots/<model>/confusion.json` (evaluate stage). */
export const ConfusionCellSchema = z.looseObject({ actual: z.string(), predicted: z.string(), count: z.int().nonnegative() });

/** What a model cost. Training time and throughput come from the run record (`.mlops/runs/<model>.json`), size from the model folder. */
export const CostSchema = z.object({
  trainSeconds: z.number().nonnegative().optional(),
  rowsPerSecond: z.number().nonnegative().optional(),
  modelBytes: z.int().nonnegative().optional(),
  epochs: z.int().nonnegative().optional(),
});

/** Where to look at the model's runs. */
export const LinksSchema = z.object({
  mlflowRunUrl: z.url().optional(),
  clearmlTaskUrl: z.url().optional(),
  /** Path of a ClearML offline session (zip or folder) when the run was not sent to a server. */
  clearmlOfflineSession: z.string().optional(),
});

/** Where each part of a model's data was read from (named in the report's "Source" lines). */
const ModelSourcesSchema = z.object({
  eval: z.string().optional(),
  history: z.string().optional(),
  predictions: z.string().optional(),
  params: z.string().optional(),
  roc: z.string().optional(),
  confusion: z.string().optional(),
  cost: z.string().optional(),
});

export const ModelInputSchema = z.object({
  name: z.string().min(1),
  /** The model's params (nested, e.g. model-meta.json's `params` and `train`): flattened to dotted keys for the table. */
  params: z.record(z.string(), z.unknown()).optional(),
  eval: EvalMetricsSchema.optional(),
  history: z.array(HistoryEpochSchema).optional(),
  predictions: PredictionsSchema.optional(),
  /** Curves used when there are no predictions to compute them from. */
  roc: z.array(RocPointSchema).optional(),
  pr: z.array(PrPointSchema).optional(),
  confusion: z.array(ConfusionCellSchema).optional(),
  cost: CostSchema.optional(),
  links: LinksSchema.optional(),
  sources: ModelSourcesSchema.optional(),
});
export type ModelInput = z.output<typeof ModelInputSchema>;

/** `metrics/data_quality.json` (prepare stage). */
export const DataQualitySchema = z.looseObject({
  rows: z.looseObject({ source: z.int().optional(), in: z.int().optional(), out: z.int().optional(), dropped: z.int().optional() }).optional(),
  dropped: z.record(z.string(), z.int()).optional(),
  clipped: z.record(z.string(), z.int()).optional(),
  nulls_in: z.record(z.string(), z.int()).optional(),
  nulls_out: z.record(z.string(), z.int()).optional(),
  class_counts: z.record(z.string(), z.int()).optional(),
  class_balance: z.record(z.string(), z.number()).optional(),
});

export const DatasetSchema = z.object({
  name: z.string().optional(),
  /** The DVC-tracked data (e.g. `data/raw/flights.parquet`). */
  path: z.string().optional(),
  /** Its md5 as DVC records it (the `.dvc` file or dvc.lock). */
  md5: z.string().optional(),
  /** Rows per split (`train`, `valid`, `test`). */
  splits: z.record(z.string(), z.int().nonnegative()).optional(),
  quality: DataQualitySchema.optional(),
  sources: z.object({ md5: z.string().optional(), quality: z.string().optional(), splits: z.string().optional() }).optional(),
});

/** A part that could not be read: the report shows the reason in its place. */
export const UnavailableSchema = z.object({ unavailable: z.string().min(1) });
export type Unavailable = z.output<typeof UnavailableSchema>;

/** `dvc metrics diff --json` (file → key → change), as `@mlops-ts/dvc-adapter`'s `metricsDiff()` returns it. */
export const MetricsDiffSchema = z.record(z.string(), z.record(z.string(), z.object({ old: z.unknown(), new: z.unknown(), diff: z.unknown().optional() })));

/** A row of `dvc exp show`, as `@mlops-ts/dvc-adapter`'s `expShow().rows` returns it (file → dotted key → value). */
export const ExpRowSchema = z.looseObject({
  kind: z.enum(['workspace', 'baseline', 'experiment']),
  rev: z.string(),
  name: z.string().nullable().optional(),
  state: z.string().optional(),
  timestamp: z.string().nullable().optional(),
  params: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  metrics: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  error: z.string().nullable().optional(),
});

export const DvcSchema = z.object({
  metricsDiff: z.union([z.object({ against: z.string().default('HEAD'), diff: MetricsDiffSchema }), UnavailableSchema]).optional(),
  expShow: z.union([z.object({ rows: z.array(ExpRowSchema) }), UnavailableSchema]).optional(),
});

/** A tracker the runs went to, and whether it could be reached when the report was made. */
export const TrackerSchema = z.object({
  name: z.string().min(1),
  status: z.enum(['online', 'offline', 'unavailable']),
  url: z.url().optional(),
  detail: z.string().optional(),
});

export const ReportInputSchema = z.object({
  title: z.string().default('Model comparison'),
  /** When the data was produced (shown as given; the library reads no clock). */
  generatedAt: z.string().optional(),
  git: z.object({ commit: z.string().optional(), branch: z.string().optional(), dirty: z.boolean().optional() }).optional(),
  task: z.enum(['binary', 'multiclass']).optional(),
  /** Class names; index = label. Default: from the predictions, else the eval files' `per_class`. */
  classes: z.array(z.string()).min(2).optional(),
  /** The metric models are ranked and compared by. */
  metric: z.enum(METRIC_NAMES).default('roc_auc'),
  /** Default: true except for log loss. */
  higherIsBetter: z.boolean().optional(),
  /** Decision threshold of binary models (0.5 = the most probable class, as evaluate predicts). */
  threshold: z.number().gt(0).lt(1).default(0.5),
  bootstrap: BootstrapParamsSchema.prefault({}),
  /** The majority-class baseline: `prior` = the train split's class frequencies (each test row gets them as probabilities). */
  baseline: z.object({ name: z.string().default('majority_class'), prior: z.array(z.number().min(0).max(1)).min(2).optional() }).prefault({}),
  dataset: DatasetSchema.optional(),
  models: z.array(ModelInputSchema).min(1),
  dvc: DvcSchema.optional(),
  trackers: z.array(TrackerSchema).optional(),
});
export type ReportInput = z.input<typeof ReportInputSchema>;
export type ParsedReportInput = z.output<typeof ReportInputSchema>;

/** Validates report input; a {@link ReportInputError} lists every problem with its path. */
export function parseReportInput(input: unknown): ParsedReportInput {
  const parsed = ReportInputSchema.safeParse(input);
  if (!parsed.success) throw new ReportInputError(parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })));
  const names = parsed.data.models.map((m) => m.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new ReportInputError([{ path: 'models', message: `model ${dup} is listed twice` }]);
  return parsed.data;
}
