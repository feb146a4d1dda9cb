import { z } from 'zod';

/** Status a run ends with (MLflow's names; ClearML maps them to completed / failed / stopped). */
export const RunStatusSchema = z.enum(['FINISHED', 'FAILED', 'KILLED']);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const StartRunOptionsSchema = z.object({
  /** Experiment (MLflow) or project (ClearML) the run belongs to. */
  experiment: z.string().min(1),
  /** Human-readable run name (mlflow.runName / ClearML task name). */
  runName: z.string().min(1),
  tags: z.record(z.string(), z.string()).default({}),
  /** Parent run id in the same tracker, for nested runs. */
  parentRunId: z.string().optional(),
  /**
   * What the run is: `model` (a train/evaluate run of one model; ClearML task type `training`) or `comparison` (the
   * report of several model runs; ClearML task type `qc`). Callers finding model runs by tag never see a comparison:
   * it carries none of the model-run tags.
   */
  role: z.enum(['model', 'comparison']).default('model'),
});
export type StartRunOptions = z.input<typeof StartRunOptionsSchema>;

export interface MetricPoint {
  key: string;
  value: number;
  step: number;
  /** Milliseconds since the epoch; defaults to the time of the call. */
  timestamp?: number;
}

export interface DatasetInput {
  name: string;
  /** Content digest; for DVC-tracked data, the md5 from the .dvc pointer or dvc.lock. */
  digest: string;
  /** Where the data lives (path in the repository, remote URL, ...). */
  source: string;
  /** Role of the dataset in this run: train, valid, test. */
  context?: string;
  /** Column names and types, as JSON. */
  schema?: string;
  /** Row count and other profile facts, as JSON. */
  profile?: string;
}

/** A model's interface: feature names in, one probability column per class out (MLflow writes it into `MLmodel`). */
export const ModelSignatureSchema = z.object({
  inputs: z.array(z.object({ name: z.string().min(1), type: z.literal('float') })).min(1),
  outputs: z.array(z.object({ name: z.string().min(1), type: z.literal('float') })).min(1),
});
export type ModelSignature = z.infer<typeof ModelSignatureSchema>;

export interface LogModelOptions {
  name: string;
  params?: Record<string, string>;
  /** The model's own metrics (MLflow: metrics linked to the logged model; ClearML: the model's metadata). */
  metrics?: Record<string, number>;
  /** Class names, index = label (ClearML: the model's labels). */
  labels?: readonly string[];
  signature?: ModelSignature;
}

/**
 * What `end()` reports. `delivered: false`: the server was unreachable and what was left (metrics, params, tags,
 * artifacts, model, end status) waits on disk; `pending` is one line naming where it waits and the exact command
 * that delivers it (e.g. `npm run mlflow -- replay .mlflow-spill --uri http://host:5000`, no credentials).
 */
export interface RunEndReport {
  tracker: string;
  delivered: boolean;
  pending?: string;
  /**
   * Runs kept offline by design (no server configured, e.g. a ClearML offline session): one line each, naming the
   * file and the exact command that sends it to a server. Not a failure: `delivered` stays true.
   */
  offline?: string[];
}

/** One tracker's model entity. */
export interface TrackerModelRef {
  /** Tracker-specific model id (MLflow logged model id, ClearML model id), when the tracker has one. */
  modelId?: string;
  /** Where the model's files were stored (artifact URI, fileserver URL). */
  uri?: string;
}

/**
 * What `logModel` returns: `models` holds each tracker's model (tracker name → its id and URI; a tracker that could
 * not create one now, e.g. with the server gone, has no `modelId`). `modelId`/`uri` are the first tracker's with a
 * model id (MLflow's in the stages' order), kept for callers that know one tracker only.
 */
export interface LoggedModelRef extends TrackerModelRef {
  models: Record<string, TrackerModelRef>;
}

const finite = z.number().refine(Number.isFinite, 'a finite number');
const numbers = z.array(finite);

/**
 * A tracker-neutral figure: each sink renders it natively (MLflow: an HTML artifact with the Plotly figure, which its
 * UI shows, plus this JSON; ClearML: a Plotly plot event). `plotlyFigure` is the shared Plotly rendering.
 */
export const FigureSchema = z.discriminatedUnion('kind', [
  /** Per-epoch curves: one series per (metric, variant), e.g. loss/train and loss/valid. */
  z.object({
    kind: z.literal('learning_curves'),
    title: z.string().optional(),
    xLabel: z.string().default('epoch'),
    series: z.array(z.object({ metric: z.string().min(1), variant: z.string().min(1), x: numbers, y: numbers })).min(1),
  }),
  /** One ROC curve per class (one-vs-rest), with its AUC when known. */
  z.object({
    kind: z.literal('roc'),
    title: z.string().optional(),
    curves: z.array(z.object({ label: z.string().min(1), fpr: numbers, tpr: numbers, auc: finite.optional() })).min(1),
  }),
  /** `counts[actual][predicted]`, rows and columns in the order of `labels`. */
  z.object({
    kind: z.literal('confusion_matrix'),
    title: z.string().optional(),
    labels: z.array(z.string().min(1)).min(1),
    counts: z.array(z.array(z.number().int().nonnegative())),
  }),
  /** A generic line or bar chart. */
  z.object({
    kind: z.enum(['line', 'bar']),
    title: z.string().optional(),
    xLabel: z.string().optional(),
    yLabel: z.string().optional(),
    series: z.array(z.object({ name: z.string().min(1), x: z.array(z.union([finite, z.string()])), y: numbers })).min(1),
  }),
]).superRefine((f, ctx) => {
  const sameLength = (a: readonly unknown[], b: readonly unknown[], path: (string | number)[]) => {
    if (a.length !== b.length) ctx.addIssue({ code: 'custom', path, message: `x and y differ in length (${a.length} vs ${b.length})` });
  };
  if (f.kind === 'learning_curves' || f.kind === 'line' || f.kind === 'bar') f.series.forEach((s, i) => sameLength(s.x, s.y, ['series', i]));
  if (f.kind === 'roc') f.curves.forEach((c, i) => sameLength(c.fpr, c.tpr, ['curves', i]));
  if (f.kind === 'confusion_matrix') {
    const n = f.labels.length;
    if (f.counts.length !== n || f.counts.some((row) => row.length !== n)) ctx.addIssue({ code: 'custom', path: ['counts'], message: `counts must be ${n}×${n} (one row and column per label)` });
  }
});
export type Figure = z.input<typeof FigureSchema>;
export type ParsedFigure = z.output<typeof FigureSchema>;

/** Figure names are file and plot names: letters, digits, `_`, `-`, `.`. */
export const FigureNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a figure name is letters, digits, _, - and .');

/**
 * One run in one tracker. Metric logging is synchronous and never waits on the network (implementations buffer);
 * everything else is awaited. `end` flushes and must be called, also on failure.
 */
export interface TrackerRun {
  /** Tracker name, e.g. "mlflow". */
  readonly tracker: string;
  /** The run id in that tracker. */
  readonly runId: string;
  /** Tracker name → run id, for every tracker this run writes to; `Tracker.resumeRun` takes it back. */
  readonly ref: RunRef;
  /** Where a person can look at the run, when the tracker has a UI. */
  readonly url?: string;
  logParams(params: Record<string, string | number | boolean>): Promise<void>;
  logMetric(point: MetricPoint): void;
  setTags(tags: Record<string, string>): Promise<void>;
  logInput(dataset: DatasetInput): Promise<void>;
  /** Upload a file or a directory (recursively) under `artifactPath`. */
  logArtifact(localPath: string, artifactPath?: string): Promise<void>;
  /** Store a model folder as the run's model (artifacts + the tracker's model entity). */
  logModel(localDir: string, options: LogModelOptions): Promise<LoggedModelRef>;
  /** A figure (learning curves, ROC, confusion matrix, line/bar), rendered natively by each tracker. */
  logFigure(name: string, figure: Figure): Promise<void>;
  /**
   * Flushes and ends the run; must be called, also on failure. `logArtifact`/`logModel`/`logParams`/`setTags` do not
   * throw because the server went away mid-run: what could not be sent waits on disk and the report says so.
   */
  end(status?: RunStatus): Promise<RunEndReport>;
}

/** Tracker name → run id in that tracker. Stages store it (in `.mlops/runs/<model>.json`, see `RunRecordSchema`) so a later stage can resume. */
export type RunRef = Record<string, string>;

export interface Tracker {
  readonly name: string;
  startRun(options: StartRunOptions): Promise<TrackerRun>;
  /** Log more to a run started earlier (e.g. the evaluate stage adding test metrics to the train run). */
  resumeRun(ref: RunRef): Promise<TrackerRun>;
}

/** The tracker-specific ids of a model, from a `LoggedModelRef` (what a run record keeps). */
export function modelIdsOf(ref: LoggedModelRef): Record<string, string> {
  return Object.fromEntries(Object.entries(ref.models).flatMap(([t, m]) => (m.modelId ? [[t, m.modelId]] : [])));
}
