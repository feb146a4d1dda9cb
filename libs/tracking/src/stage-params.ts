import { z } from 'zod';

/** The trackers a stage can log to. */
export const TRACKER_NAMES = ['mlflow', 'clearml'] as const;
export type TrackerName = (typeof TRACKER_NAMES)[number];

/** The `tracking.clearml` subsection. */
export const ClearmlParamsSchema = z.strictObject({
  /** ClearML project of the tasks; default: `tracking.experiment`. */
  project: z.string().min(3, 'a ClearML project name has at least 3 characters').optional(),
  /** Tags every task gets besides the stage's (e.g. the team). */
  tags: z.array(z.string().min(1)).default([]),
  /** Where the offline sessions go when no ClearML server is configured (the embedded default). */
  offline_dir: z.string().min(1).default('.mlops/clearml-offline'),
});
export type ClearmlParams = z.output<typeof ClearmlParamsSchema>;

/** The `tracking` section of params.yaml. */
export const TrackingParamsSchema = z.strictObject({
  /** MLflow experiment (and, unless `clearml.project` says otherwise, ClearML project) the pipeline's runs go to. */
  experiment: z.string().min(1).default('mlops-ts'),
  /**
   * The trackers every stage logs to. MLflow: the configured server (MLFLOW_TRACKING_URI) or the embedded one;
   * ClearML: the configured server (CLEARML_API_HOST + keys, or clearml.conf), else an offline session written
   * under `clearml.offline_dir`, importable later with `npm run clearml -- import`.
   */
  trackers: z
    .array(z.enum(TRACKER_NAMES))
    .min(1, 'name at least one tracker (mlflow, clearml)')
    .refine((t) => new Set(t).size === t.length, 'each tracker once')
    .default(['mlflow', 'clearml']),
  clearml: ClearmlParamsSchema.default({ tags: [], offline_dir: '.mlops/clearml-offline' }),
  /**
   * When a tracking server is down at the start of a stage: `false` (default) stops with one clear error;
   * `true` trains anyway: MLflow's run is kept in `<records>/<model>.offline-run.json`, ClearML's in an offline session.
   */
  offline_fallback: z.boolean().default(false),
});
export type TrackingParams = z.output<typeof TrackingParamsSchema>;

/** The `compare` section of params.yaml. */
export const CompareParamsSchema = z.strictObject({
  /** Evaluation metric to rank by, as the evaluate stage logs it without the `test_` prefix (roc_auc, f1, accuracy, log_loss, ...). */
  metric: z.string().min(1).default('roc_auc'),
  higher_is_better: z.boolean().default(true),
  /** Registered model the best run's model is registered under. */
  registered_model: z.string().min(1),
  alias: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'an alias is letters, digits, _ and -').default('champion'),
});
export type CompareParams = z.output<typeof CompareParamsSchema>;

/** Where a run record's tracking went: the embedded local server's folder, or the server the user configured. */
export const TrackingTargetSchema = z.discriminatedUnion('kind', [
  /** The embedded server over `dir` (`npm run mlflow-ui` serves it on port 5000). */
  z.object({ kind: z.literal('embedded'), dir: z.string() }),
  /** The configured tracking URI, without credentials. */
  z.object({ kind: z.literal('server'), uri: z.string() }),
  /** Not tracked (`--no-tracking`, or `tracking.offline_fallback` with the server down). */
  z.object({ kind: z.literal('offline') }),
  /** Kept in a ClearML offline session (the SDK's format), to import with `npm run clearml -- import <dir>`. */
  z.object({ kind: z.literal('offline-session'), dir: z.string() }),
]);
export type TrackingTarget = z.infer<typeof TrackingTargetSchema>;

/**
 * `.mlops/runs/<model>.json` (gitignored, not a DVC out): what changes from one run of a stage to the next — tracker
 * run ids, the tracking target as configured, the pipeline run id, timings. `models/<model>/` keeps only
 * deterministic files, so the same commit and data give the same DVC hash.
 */
export const RunRecordSchema = z.object({
  format: z.literal('mlops-ts.run-record/1'),
  model: z.string(),
  experiment: z.string(),
  pipelineRunId: z.string(),
  /** MLflow's target (kept as it was before there were several trackers). */
  tracking: TrackingTargetSchema,
  /** tracker name → where its run went (`mlflow` is `tracking`); absent in records written before ClearML. */
  targets: z.record(z.string(), TrackingTargetSchema).optional(),
  /** tracker name → run id (MLflow run id, ClearML task id); empty when the run was not tracked. */
  ref: z.record(z.string(), z.string()),
  /** MLflow's logged model id (compare registers it). */
  loggedModelId: z.string().optional(),
  /** tracker name → model id (MLflow logged model, ClearML output model). */
  loggedModels: z.record(z.string(), z.string()).optional(),
  /** tracker name → a link to the run that works after the stage. */
  urls: z.record(z.string(), z.string()).optional(),
  /** A link to the run that works after the stage ended (for the embedded server: the `npm run mlflow-ui` port). */
  url: z.string().optional(),
  /** false: the server went away and the rest waits on disk; `pending` says how to deliver it. */
  delivered: z.boolean().default(true),
  pending: z.string().optional(),
  /** Timings of the training run. */
  startedAt: z.string(),
  endedAt: z.string(),
  seconds: z.number(),
  /** Per-epoch timings (history.json in the model folder holds the deterministic part). */
  epochTimings: z.array(z.object({ epoch: z.number(), seconds: z.number(), rowsPerSecond: z.number() })).default([]),
  /** Runs the evaluate stage started because this record's run was missing (e.g. after `dvc pull` elsewhere). */
  evaluateRef: z.record(z.string(), z.string()).optional(),
});
export type RunRecord = z.output<typeof RunRecordSchema>;
export type RunRecordInput = z.input<typeof RunRecordSchema>;
