/** zod schemas of the JSON that dvc prints with `--json` (shapes checked against dvc 3.67). */
import { z } from 'zod';

const str = z.string();

/** `dvc status -c --json`: path → new | deleted | missing | modified. */
export const CloudStatusJsonSchema = z.record(str, str);

/** `dvc status --json`: stage or .dvc file → list of changes (`"changed command"` or `{ "changed deps": {...} }`). */
export const LocalStatusJsonSchema = z.record(str, z.array(z.union([str, z.record(str, z.record(str, z.unknown()))])));

const renamedSchema = z.object({ old: str, new: str });
const changeListSchema = z.array(z.union([str, renamedSchema]));
export const DataChangeSetSchema = z.looseObject({
  added: changeListSchema.optional(),
  modified: changeListSchema.optional(),
  deleted: changeListSchema.optional(),
  renamed: changeListSchema.optional(),
  unknown: changeListSchema.optional(),
});

/** `dvc data status --json` (dvc omits empty keys). */
export const DataStatusJsonSchema = z.looseObject({
  committed: DataChangeSetSchema.optional(),
  uncommitted: DataChangeSetSchema.optional(),
  not_in_cache: z.array(str).optional(),
  not_in_remote: z.array(str).optional(),
  untracked: z.array(str).optional(),
  unchanged: z.array(str).optional(),
  unknown: z.array(str).optional(),
  git: z.record(str, z.unknown()).optional(),
});

/** One changed value in params/metrics/exp diffs. */
export const DiffEntrySchema = z.looseObject({ old: z.unknown(), new: z.unknown(), diff: z.unknown().optional() });
/** file → key → change. */
export const DiffJsonSchema = z.record(str, z.record(str, DiffEntrySchema));

const fileDataSchema = z.looseObject({ data: z.record(str, z.unknown()).optional(), error: z.unknown().optional() });
/** `dvc metrics show --json`: revision ("" = workspace) → { data: file → { data | error } }. */
export const MetricsShowJsonSchema = z.record(
  str,
  z.looseObject({ data: z.record(str, fileDataSchema).optional(), error: z.unknown().optional() }),
);

const vegaPlotSchema = z.looseObject({ type: z.literal('vega'), revisions: z.array(str), content: z.record(str, z.unknown()) });
const imagePlotSchema = z.looseObject({ type: z.literal('image'), revisions: z.array(z.union([str, z.null()])), url: str });
/** `dvc plots show|diff --json`: plot id → rendered Vega-Lite specs or image URLs, plus errors. */
export const PlotsJsonSchema = z.looseObject({
  data: z.record(str, z.array(z.discriminatedUnion('type', [vegaPlotSchema, imagePlotSchema]))).default({}),
  errors: z.array(z.unknown()).optional(),
});

const expFileSchema = z.looseObject({ data: z.record(str, z.unknown()).optional(), error: z.unknown().optional() });
const expHashSchema = z.looseObject({ hash: z.union([str, z.null()]), size: z.union([z.number(), z.null()]).optional(), nfiles: z.union([z.number(), z.null()]).optional() });
export const ExpDataSchema = z.looseObject({
  rev: str,
  timestamp: z.union([str, z.null()]),
  params: z.record(str, expFileSchema).default({}),
  metrics: z.record(str, expFileSchema).default({}),
  deps: z.record(str, expHashSchema).default({}),
  outs: z.record(str, expHashSchema).default({}),
  meta: z.record(str, z.unknown()).default({}),
});
export const ExpExecutorSchema = z.looseObject({
  state: str,
  name: z.union([str, z.null()]).optional(),
  local: z.union([z.record(str, z.unknown()), z.null()]).optional(),
});
const expErrorSchema = z.union([z.looseObject({ msg: str.optional(), type: str.optional() }), z.null()]);

export interface ExpStateJson {
  rev: string;
  name: string | null;
  data: z.infer<typeof ExpDataSchema> | null;
  error: z.infer<typeof expErrorSchema>;
  experiments: ExpRangeJson[] | null;
}
export interface ExpRangeJson {
  revs: ExpStateJson[];
  executor: z.infer<typeof ExpExecutorSchema> | null;
  name: string | null;
}

export const ExpStateSchema: z.ZodType<ExpStateJson> = z.lazy(() =>
  z.object({
    rev: str,
    name: z.union([str, z.null()]).default(null),
    data: z.union([ExpDataSchema, z.null()]).default(null),
    error: expErrorSchema.default(null),
    experiments: z.union([z.array(ExpRangeSchema), z.null()]).default(null),
  }),
) as unknown as z.ZodType<ExpStateJson>;
export const ExpRangeSchema: z.ZodType<ExpRangeJson> = z.lazy(() =>
  z.object({
    revs: z.array(ExpStateSchema),
    executor: z.union([ExpExecutorSchema, z.null()]).default(null),
    name: z.union([str, z.null()]).default(null),
  }),
) as unknown as z.ZodType<ExpRangeJson>;
/** `dvc exp show --json`: the workspace, then each baseline commit with its experiments. */
export const ExpShowJsonSchema = z.array(ExpStateSchema);

/** `dvc exp diff --json`. */
export const ExpDiffJsonSchema = z.looseObject({ params: DiffJsonSchema.default({}), metrics: DiffJsonSchema.default({}) });
