import { z } from 'zod';
import { ParamsError } from './errors.js';

/**
 * A comparison on a numeric value: every bound given must hold (`{ gt: 0 }`, `{ gte: 0, lt: 5000 }`).
 * Used for binarizing a numeric target (`positive_when`) and for rows to keep (`valid`).
 */
export const ConditionSchema = z
  .strictObject({
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
  })
  .refine((c) => Object.values(c).some((v) => v !== undefined), { message: 'give at least one of gt, gte, lt, lte' });
export type Condition = z.output<typeof ConditionSchema>;

const columnList = z.array(z.string().min(1)).default([]);

/** `params.yaml` → `data`: everything that is specific to one table. Switching tables edits only this section. */
export const DataParamsSchema = z
  .strictObject({
    /** Path of the raw table, relative to the working directory of the stage. */
    path: z.string().min(1),
    /** `auto` infers it from the extension (.parquet, .csv, .json = JSON array, .ndjson/.jsonl = JSON lines). */
    format: z.enum(['auto', 'parquet', 'csv', 'json', 'ndjson']).default('auto'),
    /** Rows to sample (seeded, `prepare.seed`) from the raw table; 0 = all rows. */
    rows: z.number().int().min(0),
    target: z.strictObject({
      column: z.string().min(1),
      /** For a numeric target: the condition that makes the positive class (label 1). Omit for a categorical target. */
      positive_when: ConditionSchema.optional(),
      /**
       * Class names in label order. With `positive_when`: the names of [negative, positive]. For a categorical
       * target: the values kept, in label order (rows with other values are dropped); default: sorted distinct values.
       */
      classes: z.array(z.string().min(1)).min(2).optional(),
    }),
    task: z.enum(['binary', 'multiclass']),
    features: z.strictObject({ numeric: columnList, categorical: columnList, datetime: columnList }),
    /** String values read as missing (e.g. "." or "NA"), in every string column used. */
    na_values: z.array(z.string()).default([]),
    /** Impossible values: rows where a column breaks its condition are dropped (nulls are kept). */
    valid: z.record(z.string(), ConditionSchema).default({}),
    /** Outlier clipping of numeric columns to fixed thresholds. */
    clip: z
      .record(
        z.string(),
        z
          .strictObject({ min: z.number().optional(), max: z.number().optional() })
          .refine((c) => c.min !== undefined || c.max !== undefined, { message: 'give min and/or max' })
          .refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, { message: 'min must be <= max' }),
      )
      .default({}),
  })
  // Cross-field rules. They also run when another key of the section is broken (`when`), so a check lists every
  // problem at once; each rule reads only keys that parsed, through the guards below.
  .superRefine(
    (raw, ctx) => {
      const d = raw as unknown as Record<string, unknown>;
      const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
      const record = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
      const features = record(d['features']);
      const target = record(d['target']);
      const all = [...strings(features['numeric']), ...strings(features['categorical']), ...strings(features['datetime'])];
      if (typeof d['features'] === 'object' && all.length === 0) ctx.addIssue({ code: 'custom', path: ['features'], message: 'list at least one feature column' });
      const seen = new Set<string>();
      for (const c of all) {
        if (seen.has(c)) ctx.addIssue({ code: 'custom', path: ['features'], message: `column "${c}" is listed twice` });
        seen.add(c);
      }
      const column = typeof target['column'] === 'string' ? target['column'] : undefined;
      if (column !== undefined && seen.has(column)) {
        ctx.addIssue({ code: 'custom', path: ['features'], message: `the target column "${column}" cannot be a feature` });
      }
      const classes = Array.isArray(target['classes']) ? target['classes'] : undefined;
      if (target['positive_when'] !== undefined) {
        if (d['task'] === 'multiclass') ctx.addIssue({ code: 'custom', path: ['task'], message: 'target.positive_when makes a binary task' });
        if (classes && classes.length !== 2) {
          ctx.addIssue({ code: 'custom', path: ['target', 'classes'], message: 'with positive_when give exactly two names: [negative, positive]' });
        }
      } else if (d['task'] === 'binary' && classes && classes.length !== 2) {
        ctx.addIssue({ code: 'custom', path: ['target', 'classes'], message: 'a binary task has exactly two classes' });
      }
      if (column === undefined) return; // "neither the target nor a feature" needs the target
      const used = new Set([...all, column]);
      for (const key of ['valid', 'clip'] as const) {
        for (const c of Object.keys(record(d[key]))) {
          if (!used.has(c)) ctx.addIssue({ code: 'custom', path: [key, c], message: `column "${c}" is neither the target nor a feature` });
        }
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );
export type DataParams = z.output<typeof DataParamsSchema>;

/** `params.yaml` → `prepare`: table-agnostic cleaning policy. */
export const PrepareParamsSchema = z.strictObject({
  /** Seed of the row sample (`data.rows`). */
  seed: z.number().int().min(0),
  /** Drop exact duplicate rows (over the target and feature columns), keeping the first. */
  drop_duplicates: z.boolean().default(true),
  /** Drop rows with a null in any feature column; when false, featurize imputes them (fitted on train). */
  drop_null_features: z.boolean().default(false),
});
export type PrepareParams = z.output<typeof PrepareParamsSchema>;

export const DATE_PARTS = ['year', 'month', 'day', 'weekday', 'hour', 'minute', 'ordinal_day', 'week'] as const;
export type DatePart = (typeof DATE_PARTS)[number];

/** `params.yaml` → `featurize`: encoders and scalers (all fitted on the train split only). */
export const FeaturizeParamsSchema = z.strictObject({
  /** Categorical columns keep their `top_k` most frequent train values; the rest become "other". One-hot encoded. */
  top_k: z.number().int().min(1),
  /**
   * Parts extracted from each datetime column, as numeric features. A column holding dates without a time of day
   * (a Date column, or datetimes that are all at midnight) gets only the date parts: hour and minute are skipped for
   * it (recorded in the feature metadata); a column left with no part at all is an error naming it.
   */
  date_parts: z
    .array(z.enum(DATE_PARTS))
    .min(1)
    .default(['month', 'weekday', 'hour'])
    .superRefine((parts, ctx) => {
      parts.forEach((p, i) => {
        if (parts.indexOf(p) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `"${p}" is listed twice` });
      });
    }),
  /** Scaling of numeric features and date parts: standard (z-score), minmax (to [0, 1]) or none. */
  scaling: z.enum(['standard', 'minmax', 'none']).default('standard'),
  /** How missing numeric values are filled (statistic of the train split). */
  impute: z.enum(['median', 'mean']).default('median'),
});
export type FeaturizeParams = z.output<typeof FeaturizeParamsSchema>;

/** `params.yaml` → `split`: seeded, optionally stratified train/valid/test fractions. */
export const SplitParamsSchema = z
  .strictObject({
    train: z.number().gt(0).lt(1),
    valid: z.number().min(0).lt(1),
    test: z.number().min(0).lt(1),
    seed: z.number().int().min(0),
    stratify: z.boolean().default(true),
  })
  .superRefine((s, ctx) => {
    const sum = s.train + s.valid + s.test;
    if (Math.abs(sum - 1) >= 1e-9) {
      // Rounded so that 0.7 + 0.15 + 0.1 shows as 0.95, not 0.9499999999999999.
      ctx.addIssue({ code: 'custom', path: [], message: `train + valid + test = ${Number(sum.toFixed(9))}, must be 1` });
    }
  });
export type SplitParams = z.output<typeof SplitParamsSchema>;

/**
 * Validates one params section and returns the typed value. Errors name the file and each key
 * (`params.yaml: invalid params: data.target.column: ...`).
 */
export function parseParamsSection<S extends z.ZodType>(schema: S, section: string, value: unknown, source = 'params.yaml'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ParamsError(
    source,
    result.error.issues.map((i) => ({ key: [section, ...i.path.map(String)].join('.'), message: i.message })),
  );
}

/** The sections data-prep reads, validated from a parsed params.yaml object. */
export function parseDataPrepParams(params: unknown, source = 'params.yaml'): {
  data: DataParams;
  prepare: PrepareParams;
  featurize: FeaturizeParams;
  split: SplitParams;
} {
  const root = parseParamsSection(z.record(z.string(), z.unknown()), 'params', params, source);
  return {
    data: parseParamsSection(DataParamsSchema, 'data', root['data'], source),
    prepare: parseParamsSection(PrepareParamsSchema, 'prepare', root['prepare'], source),
    featurize: parseParamsSection(FeaturizeParamsSchema, 'featurize', root['featurize'], source),
    split: parseParamsSection(SplitParamsSchema, 'split', root['split'], source),
  };
}
