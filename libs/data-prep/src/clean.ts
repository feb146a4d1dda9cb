import pl from 'nodejs-polars';
import { ColumnTypeError } from './errors.js';
import type { DataParams, PrepareParams } from './params.js';
import { conditionExpr } from './target.js';

const NUMERIC = new Set(['Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64', 'Float32', 'Float64']);

export interface CleanResult {
  df: pl.DataFrame;
  /** Rows dropped by reason, in the order the rules run: null_target, unknown_class, invalid_<column>, null_features, duplicates. */
  dropped: Record<string, number>;
  /** Values clipped per column (rows are kept). */
  clipped: Record<string, number>;
}

export interface CleanOptions {
  data: DataParams;
  prepare: PrepareParams;
  /** Allowed values of a categorical target (rows outside are dropped as `unknown_class`); omit to keep all. */
  classes?: readonly string[];
  /** File name used in error messages. */
  file?: string;
}

function requireNumeric(df: pl.DataFrame, column: string, key: string, file: string): void {
  const variant = (df.schema as Record<string, pl.DataType>)[column]?.variant ?? 'missing';
  if (!NUMERIC.has(variant)) {
    throw new ColumnTypeError({ column, file, role: `${key} rule`, expected: 'a numeric type', actual: variant, key: `${key}.${column}` });
  }
}

/**
 * Cleans a table whose columns were selected by {@link selectColumns}. Each row is counted once, under the first
 * rule that drops it: null target → target value outside `classes` → impossible values (`data.valid`, nulls kept)
 * → nulls in features (when `prepare.drop_null_features`) → exact duplicates (when `prepare.drop_duplicates`).
 * Then numeric outliers are clipped to `data.clip` thresholds.
 */
export function cleanTable(input: pl.DataFrame, opts: CleanOptions): CleanResult {
  const { data, prepare } = opts;
  const file = opts.file ?? '<table>';
  const dropped: Record<string, number> = {};
  const clipped: Record<string, number> = {};
  let df = input;
  const drop = (reason: string, keep: pl.Expr): void => {
    const before = df.height;
    df = df.filter(keep);
    dropped[reason] = before - df.height;
  };
  const target = data.target.column;
  drop('null_target', pl.col(target).isNotNull());
  if (!data.target.positive_when && opts.classes) {
    drop('unknown_class', pl.col(target).cast(pl.String).isIn([...opts.classes]));
  }
  for (const [column, cond] of Object.entries(data.valid)) {
    requireNumeric(df, column, 'data.valid', file);
    drop(`invalid_${column}`, pl.col(column).isNull().or(conditionExpr(column, cond)));
  }
  const features = [...data.features.numeric, ...data.features.categorical, ...data.features.datetime];
  if (prepare.drop_null_features) {
    drop('null_features', features.map((c) => pl.col(c).isNotNull()).reduce((a, b) => a.and(b)));
  }
  if (prepare.drop_duplicates) {
    // Same rows as unique({ keep: 'first', maintainOrder: true }), about a quarter faster on 3M rows.
    drop('duplicates', pl.struct(df.columns.map((c) => pl.col(c))).isFirstDistinct());
  }
  const clipExprs: pl.Expr[] = [];
  for (const [column, bounds] of Object.entries(data.clip)) {
    requireNumeric(df, column, 'data.clip', file);
    const c = pl.col(column);
    let outside = pl.lit(false);
    if (bounds.min !== undefined) outside = outside.or(c.lt(pl.lit(bounds.min)));
    if (bounds.max !== undefined) outside = outside.or(c.gt(pl.lit(bounds.max)));
    clipped[column] = Number(df.select(outside.fillNull(false).cast(pl.UInt32).sum().alias('n')).getColumn('n').get(0));
    // Integer columns stay integers when the thresholds are whole numbers; otherwise they become Float64.
    const whole = [bounds.min, bounds.max].every((b) => b === undefined || Number.isInteger(b));
    const dtype = whole ? (df.schema as Record<string, pl.DataType>)[column]! : pl.Float64;
    let e: pl.Then | pl.ChainedThen | undefined;
    if (bounds.min !== undefined) e = pl.when(c.lt(pl.lit(bounds.min))).then(pl.lit(bounds.min));
    if (bounds.max !== undefined) {
      e = e ? e.when(c.gt(pl.lit(bounds.max))).then(pl.lit(bounds.max)) : pl.when(c.gt(pl.lit(bounds.max))).then(pl.lit(bounds.max));
    }
    clipExprs.push(e!.otherwise(c).cast(dtype).alias(column));
  }
  if (clipExprs.length > 0) df = df.withColumns(...clipExprs);
  return { df, dropped, clipped };
}
