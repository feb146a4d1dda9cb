import { z } from 'zod';

/** How one categorical column was one-hot encoded: the top-K train values, then one column for everything else. */
export const OneHotEncoderSchema = z.object({
  type: z.literal('onehot_topk'),
  /** Kept categories, most frequent in train first (ties by value). Nulls count as the value `missing`. */
  categories: z.array(z.string()),
  /** The value nulls are read as before encoding. */
  missing: z.string(),
  /** Feature names produced, in order: one per category, then the "other" column. */
  features: z.array(z.string()),
});

/**
 * The numeric features taken from one datetime column: the parts it got, in `featurize.date_parts` order. Requested
 * parts it cannot give (hour and minute of a column holding dates without a time of day) are in `skipped`.
 */
export const DatePartsEncoderSchema = z.object({
  type: z.literal('date_parts'),
  parts: z.array(z.string()),
  features: z.array(z.string()),
  skipped: z.array(z.string()).optional(),
  /** Why the `skipped` parts were left out (e.g. `no time of day`). */
  skippedBecause: z.string().optional(),
});

export const EncoderSchema = z.discriminatedUnion('type', [OneHotEncoderSchema, DatePartsEncoderSchema]);

/** `scaled = (value ?? impute - center) / scale`, statistics from the train split. */
export const ScalerSchema = z.object({
  method: z.enum(['standard', 'minmax', 'none']),
  impute: z.number(),
  center: z.number(),
  scale: z.number(),
});

/** `data/features/meta.json`: what training and evaluation need to read the feature splits. */
export const FeatureMetaSchema = z.object({
  task: z.enum(['binary', 'multiclass']),
  target: z.string(),
  labelColumn: z.string(),
  classes: z.array(z.string()).min(2),
  featureNames: z.array(z.string()).min(1),
  rows: z.object({ train: z.number().int().min(0), valid: z.number().int().min(0), test: z.number().int().min(0) }),
  /** Rows per class (label order) in each split. */
  classCounts: z.object({ train: z.array(z.number().int()), valid: z.array(z.number().int()), test: z.array(z.number().int()) }),
  /** Keyed by source column. */
  encoders: z.record(z.string(), EncoderSchema),
  /** Keyed by feature name (numeric features and date parts). */
  scalers: z.record(z.string(), ScalerSchema),
  /** md5 of the raw data file the features come from. */
  dataMd5: z.string().regex(/^[0-9a-f]{32}$/),
});
export type FeatureMeta = z.output<typeof FeatureMetaSchema>;
export type Encoder = z.output<typeof EncoderSchema>;
export type Scaler = z.output<typeof ScalerSchema>;
