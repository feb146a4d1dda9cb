import pl from 'nodejs-polars';
import { ColumnTypeError, DataContentError, DatePartsError } from './errors.js';
import type { Encoder, Scaler } from './meta.js';
import { DATE_PARTS, type DataParams, type DatePart, type FeaturizeParams } from './params.js';
import { compareStrings } from './target.js';

/** The value nulls of a categorical column are read as; it competes for the top-K like any other value. */
export const MISSING_CATEGORY = '(missing)';
/** Suffix of the one-hot column that collects every value outside the top-K (and values unseen in train). */
export const OTHER_CATEGORY = '(other)';

/** Everything fitted on the train split; applied unchanged to valid and test. */
export interface Featurizer {
  featureNames: string[];
  /** Keyed by source column. */
  encoders: Record<string, Encoder>;
  /** Keyed by feature name. */
  scalers: Record<string, Scaler>;
}

export interface FeaturizeOptions {
  data: Pick<DataParams, 'features'>;
  featurize: FeaturizeParams;
  /** File the frame comes from, named in error messages. */
  file?: string;
}

/** Date parts that need a time of day; a column holding dates without one has none of them. */
export const TIME_PARTS: readonly DatePart[] = ['hour', 'minute'];

/**
 * The requested parts a datetime column can give: all of them when it holds a time of day, else only the date parts
 * (`skipped` lists the time parts left out).
 */
export function applicableDateParts(requested: readonly DatePart[], hasTime: boolean): { parts: DatePart[]; skipped: DatePart[] } {
  const parts = hasTime ? [...requested] : requested.filter((p) => !TIME_PARTS.includes(p));
  return { parts, skipped: requested.filter((p) => !parts.includes(p)) };
}

/**
 * The date-parts problems a table's schema already shows, before any row is read: a `Date` column (dates without
 * a time of day) in `data.features.datetime` for which `featurize.date_parts` asks only for time parts. (A
 * `Datetime` column whose values are all at midnight is found when featurize fits on the rows.) `schema` maps
 * columns to polars dtype names, as `readTableSchema` returns them.
 */
export function checkDateParts(
  schema: Readonly<Record<string, string>>,
  data: Pick<DataParams, 'features'>,
  featurize: Pick<FeaturizeParams, 'date_parts'>,
  file: string,
): DatePartsError[] {
  return data.features.datetime
    .filter((column) => schema[column] === 'Date' && applicableDateParts(featurize.date_parts, false).parts.length === 0)
    .map((column) => dateOnlyError(column, file, featurize.date_parts));
}

function dateOnlyError(column: string, file: string, requested: readonly DatePart[]): DatePartsError {
  return new DatePartsError({
    column,
    file,
    key: 'featurize.date_parts',
    requested,
    available: DATE_PARTS.filter((p) => !TIME_PARTS.includes(p)),
    reason: 'holds dates without a time of day (no hour, no minute)',
  });
}

function datePartExpr(column: string, part: DatePart): pl.Expr {
  const dt = pl.col(column).dt;
  switch (part) {
    case 'year':
      return dt.year();
    case 'month':
      return dt.month();
    case 'day':
      return dt.day();
    case 'weekday':
      return dt.weekday();
    case 'hour':
      return dt.hour();
    case 'minute':
      return dt.minute();
    case 'ordinal_day':
      return dt.ordinalDay();
    case 'week':
      return dt.week();
  }
}

/**
 * Whether a datetime column of `df` holds a time of day: false for a Date column and for datetimes that are all at
 * midnight (or all null), true as soon as one value has a non-zero hour, minute, second or sub-second part.
 */
function holdsTimeOfDay(df: pl.DataFrame, column: string, file: string): boolean {
  const variant = (df.schema as Record<string, pl.DataType>)[column]?.variant;
  if (variant === 'Date') return false;
  if (variant !== 'Datetime') {
    throw new ColumnTypeError({
      column,
      file,
      role: 'datetime feature',
      expected: 'Date or Datetime (featurize.date_parts takes date parts from it)',
      actual: String(variant ?? 'missing'),
      key: 'data.features.datetime',
    });
  }
  const c = pl.col(column);
  const withTime = c.dt.hour().neq(0).or(c.dt.minute().neq(0)).or(c.dt.second().neq(0)).or(c.dt.nanosecond().neq(0));
  return Number(df.select(withTime.cast(pl.UInt32).sum().alias('t')).getColumn('t').get(0) ?? 0) > 0;
}

/** Numeric features before imputation and scaling: numeric columns, then the date parts of each datetime column. */
function rawNumeric(numeric: readonly string[], dateParts: readonly { column: string; parts: readonly DatePart[] }[]): { name: string; expr: pl.Expr }[] {
  const out = numeric.map((c) => ({ name: c, expr: pl.col(c).cast(pl.Float64).alias(c) }));
  for (const { column, parts } of dateParts) {
    for (const part of parts) {
      const name = `${column}_${part}`;
      out.push({ name, expr: datePartExpr(column, part).cast(pl.Float64).alias(name) });
    }
  }
  return out;
}

/** The date parts each datetime column got when the featurizer was fitted (from its encoders). */
function fittedDateParts(featurizer: Featurizer, opts: FeaturizeOptions): { column: string; parts: DatePart[] }[] {
  return opts.data.features.datetime.map((column) => {
    const enc = featurizer.encoders[column];
    if (!enc || enc.type !== 'date_parts') throw new DataContentError(`no fitted date parts for datetime column "${column}"`);
    return { column, parts: enc.parts as DatePart[] };
  });
}

function categoryExpr(column: string): pl.Expr {
  return pl.col(column).cast(pl.String).fillNull(pl.lit(MISSING_CATEGORY));
}

/**
 * Fits a scaler on the non-null train values of one feature (imputation first, then scaling statistics on the
 * imputed values). `median` is the exact median of `values` (polars computes it faster than a JS sort).
 */
export function fitScaler(
  values: Float64Array,
  nulls: number,
  method: FeaturizeParams['scaling'],
  impute: FeaturizeParams['impute'],
  feature: string,
  median?: number,
): Scaler {
  if (values.length === 0) throw new DataContentError(`feature "${feature}" has no non-null value in the train split`);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const fill = impute === 'median' ? (median ?? medianOf(values)) : sum / values.length;
  const n = values.length + nulls;
  const mean = (sum + fill * nulls) / n;
  let sq = nulls * (fill - mean) ** 2;
  for (const v of values) sq += (v - mean) ** 2;
  const std = Math.sqrt(sq / n);
  min = Math.min(min, fill);
  max = Math.max(max, fill);
  switch (method) {
    case 'standard':
      return { method, impute: fill, center: mean, scale: std > 0 ? std : 1 };
    case 'minmax':
      return { method, impute: fill, center: min, scale: max > min ? max - min : 1 };
    case 'none':
      return { method, impute: fill, center: 0, scale: 1 };
  }
}

function medianOf(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The top `k` values by count (descending), ties broken by value, from value → count pairs. */
export function topK(counts: ReadonlyMap<string, number>, k: number): string[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || compareStrings(a[0], b[0]))
    .slice(0, k)
    .map(([v]) => v);
}

/**
 * Fits encoders and scalers on the train split only: imputation values and scaling statistics of numeric features
 * and date parts, top-K categories (by train frequency) of categorical columns.
 */
export function fitFeaturizer(train: pl.DataFrame, opts: FeaturizeOptions): Featurizer {
  if (train.height === 0) throw new DataContentError('the train split is empty');
  const encoders: Record<string, Encoder> = {};
  const scalers: Record<string, Scaler> = {};
  const featureNames: string[] = [];
  // Which requested parts each datetime column can give, decided on the train split.
  const requested = opts.featurize.date_parts;
  const dateParts = opts.data.features.datetime.map((column) => {
    const { parts, skipped } = applicableDateParts(requested, holdsTimeOfDay(train, column, opts.file ?? '<frame>'));
    if (parts.length === 0) throw dateOnlyError(column, opts.file ?? '<frame>', requested);
    return { column, parts, skipped };
  });
  const raw = rawNumeric(opts.data.features.numeric, dateParts);
  if (raw.length > 0) {
    const frame = train.select(...raw.map((r) => r.expr));
    for (const { name } of raw) {
      const s = frame.getColumn(name);
      const present = s.dropNulls();
      const values = present.toTypedArray() as Float64Array;
      const median = opts.featurize.impute === 'median' && present.length > 0 ? Number(present.median()) : undefined;
      scalers[name] = fitScaler(values, s.nullCount(), opts.featurize.scaling, opts.featurize.impute, name, median);
      featureNames.push(name);
    }
  }
  for (const { column, parts, skipped } of dateParts) {
    encoders[column] = {
      type: 'date_parts',
      parts: [...parts],
      features: parts.map((p) => `${column}_${p}`),
      ...(skipped.length > 0 ? { skipped: [...skipped], skippedBecause: 'no time of day' } : {}),
    };
  }
  for (const c of opts.data.features.categorical) {
    const vc = train.select(categoryExpr(c).alias('value')).getColumn('value').valueCounts();
    const values = vc.getColumn('value').toArray() as string[];
    const counts = vc.getColumn('count').toArray() as number[];
    const categories = topK(new Map(values.map((v, i) => [v, Number(counts[i])])), opts.featurize.top_k);
    const features = [...categories.map((v) => `${c}=${v}`), `${c}=${OTHER_CATEGORY}`];
    encoders[c] = { type: 'onehot_topk', categories, missing: MISSING_CATEGORY, features };
    featureNames.push(...features);
  }
  const dup = featureNames.find((n, i) => featureNames.indexOf(n) !== i);
  if (dup) throw new DataContentError(`two features would be named "${dup}"; rename a column or category`);
  return { featureNames, encoders, scalers };
}

/**
 * The expressions of a fitted featurizer, built once and reusable on every split (building polars expressions
 * costs far more than running them on small frames).
 */
export function featurizerExprs(featurizer: Featurizer, opts: FeaturizeOptions): pl.Expr[] {
  const exprs = new Map<string, pl.Expr>();
  for (const { name, expr } of rawNumeric(opts.data.features.numeric, fittedDateParts(featurizer, opts))) {
    const s = featurizer.scalers[name];
    if (!s) throw new DataContentError(`no fitted scaler for feature "${name}"`);
    exprs.set(name, expr.fillNull(pl.lit(s.impute)).sub(pl.lit(s.center)).div(pl.lit(s.scale)).cast(pl.Float32).alias(name));
  }
  for (const c of opts.data.features.categorical) {
    const enc = featurizer.encoders[c];
    if (!enc || enc.type !== 'onehot_topk') throw new DataContentError(`no fitted encoder for categorical column "${c}"`);
    const v = categoryExpr(c);
    enc.categories.forEach((cat, i) => exprs.set(enc.features[i]!, v.eq(pl.lit(cat)).cast(pl.Float32).alias(enc.features[i]!)));
    const other = enc.features[enc.features.length - 1]!;
    exprs.set(other, v.isIn(enc.categories).not().cast(pl.Float32).alias(other));
  }
  return featurizer.featureNames.map((n) => {
    const e = exprs.get(n);
    if (!e) throw new DataContentError(`feature "${n}" has no fitted encoder or scaler`);
    return e;
  });
}

/** Applies a fitted featurizer: one Float32 column per feature name, in `featureNames` order. */
export function applyFeaturizer(df: pl.DataFrame, featurizer: Featurizer, opts: FeaturizeOptions, exprs = featurizerExprs(featurizer, opts)): pl.DataFrame {
  return df.select(...exprs);
}
