import { DataParamsSchema, FeaturizeParamsSchema, PrepareParamsSchema, SplitParamsSchema } from '@mlops-ts/data-prep';
import { ModelsParamsSchema, TrainParamsSchema } from '@mlops-ts/model-train';
import { CompareParamsSchema, TrackingParamsSchema } from '@mlops-ts/tracking';
import { ReportParamsSchema } from './report.js';
import { SweepParamsSchema } from './sweep-params.js';

/**
 * Every stage's params sections → the schemas that hold all of their rules: the one list the stage CLIs declare
 * (`defineStage({ params: STAGE_PARAMS.train })`) and `npm run check` validates before a pipeline run. prepare and
 * featurize declare the same sections from data-prep directly (so they do not load the training libraries); their
 * CLI tests check that they match this list.
 */
export const STAGE_PARAMS = {
  prepare: { data: DataParamsSchema, prepare: PrepareParamsSchema },
  featurize: { data: DataParamsSchema, featurize: FeaturizeParamsSchema, split: SplitParamsSchema },
  train: { models: ModelsParamsSchema, train: TrainParamsSchema, tracking: TrackingParamsSchema },
  evaluate: { tracking: TrackingParamsSchema },
  compare: { models: ModelsParamsSchema, compare: CompareParamsSchema, tracking: TrackingParamsSchema },
  report: { data: DataParamsSchema, models: ModelsParamsSchema, report: ReportParamsSchema, tracking: TrackingParamsSchema },
  // not a DVC stage: `npm run clearml -- sweep` (its defaults; each trial runs train + evaluate through dvc exp run)
  sweep: { sweep: SweepParamsSchema },
} as const;

export type StageName = keyof typeof STAGE_PARAMS;

/** The distinct sections of all stages (a section several stages read is validated once). */
export function allParamsSections(): Record<string, (typeof STAGE_PARAMS)[StageName][keyof (typeof STAGE_PARAMS)[StageName]]> {
  const out: Record<string, never> = {};
  for (const sections of Object.values(STAGE_PARAMS)) Object.assign(out, sections);
  return out;
}
