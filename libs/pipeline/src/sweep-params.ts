import { z } from 'zod';

const RangeSchema = z.union([
  z.array(z.any()).min(1, 'a list of values needs at least one value'),
  z.strictObject({ min: z.number(), max: z.number(), log: z.boolean().default(false) }).refine((r) => r.min <= r.max, 'min must not exceed max').refine((r) => !r.log || r.min > 0, 'a log range needs min > 0'),
]);

/** The `sweep` section of params.yaml: defaults of `npm run clearml -- sweep`. */
export const SweepParamsSchema = z.strictObject({
  /** The model swept: a key of `models`. */
  model: z.string().min(1).default('mlp_small'),
  /** params.yaml key (`models.mlp_small.dropout`, `train.learningRate`) → list of values, or `{min, max, log?}` (random only). */
  space: z.record(z.string().min(1), RangeSchema).default({}),
  strategy: z.enum(['grid', 'random']).default('grid'),
  /** random: points drawn; grid: at most this many of the grid's points (0 = all). */
  trials: z.number().int().min(0).default(0),
  seed: z.number().int().default(42),
  /** The objective: a test metric as evaluate logs it (`test_roc_auc`, `test_f1`, …). */
  metric: z.string().default('test_roc_auc'),
  /** Default: true, except for log_loss. */
  higher_is_better: z.boolean().optional(),
});
export type SweepParams = z.output<typeof SweepParamsSchema>;
