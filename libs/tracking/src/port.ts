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
  metrics?: Record<string, number>;
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
}

export interface LoggedModelRef {
  /** Tracker-specific model id (MLflow logged model id, ClearML model id), when the tracker has one. */
  modelId?: string;
  /** Where the model's files were stored (artifact URI). */
  uri?: string;
}

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
