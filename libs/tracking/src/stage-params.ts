import { z } from 'zod';

/** The `tracking` section of params.yaml. */
export const TrackingParamsSchema = z.strictObject({
  /** MLflow experiment (ClearML project) the pipeline's runs go to. */
  experiment: z.string().min(1).default('mlops-ts'),
  /**
   * When the tracking server is down at the start of a stage: `false` (default) stops with one clear error;
   * `true` trains anyway and keeps the run in `<out>/offline-run.json` to be sent later.
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

/** `models/<name>/run.json`: which tracker runs hold a trained model's record. */
export const RunFileSchema = z.object({
  model: z.string(),
  experiment: z.string(),
  pipelineRunId: z.string(),
  /** tracker name → run id; empty when the run was not tracked. */
  ref: z.record(z.string(), z.string()),
  loggedModelId: z.string().optional(),
  url: z.string().optional(),
});
export type RunFile = z.infer<typeof RunFileSchema>;
