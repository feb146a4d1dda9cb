import pl from 'nodejs-polars';
import { DataContentError } from './errors.js';
import type { Condition, DataParams } from './params.js';

/** A boolean expression that holds where `column` meets every bound of `cond` (null where the value is null). */
export function conditionExpr(column: string, cond: Condition): pl.Expr {
  const c = pl.col(column);
  const parts: pl.Expr[] = [];
  if (cond.gt !== undefined) parts.push(c.gt(pl.lit(cond.gt)));
  if (cond.gte !== undefined) parts.push(c.gtEq(pl.lit(cond.gte)));
  if (cond.lt !== undefined) parts.push(c.lt(pl.lit(cond.lt)));
  if (cond.lte !== undefined) parts.push(c.ltEq(pl.lit(cond.lte)));
  return parts.slice(1).reduce((acc, p) => acc.and(p), parts[0]!);
}

/** Human-readable form of a condition: `delay > 15`, `x >= 0 and x < 5`. */
export function describeCondition(column: string, cond: Condition): string {
  const ops: [keyof Condition, string][] = [['gt', '>'], ['gte', '>='], ['lt', '<'], ['lte', '<=']];
  return ops
    .filter(([k]) => cond[k] !== undefined)
    .map(([k, op]) => `${column} ${op} ${cond[k]}`)
    .join(' and ');
}

/**
 * Class names in label order. Binarized numeric target: `target.classes` or `["not (<condition>)", "<condition>"]`.
 * Categorical target: `target.classes` or the sorted distinct non-null values found in `df`.
 */
export function resolveClasses(df: pl.DataFrame, target: DataParams['target']): string[] {
  if (target.positive_when) {
    const desc = describeCondition(target.column, target.positive_when);
    return target.classes ?? [`not (${desc})`, desc];
  }
  if (target.classes) return [...target.classes];
  const values = df
    .select(pl.col(target.column).cast(pl.String))
    .getColumn(target.column)
    .dropNulls()
    .unique()
    .toArray() as string[];
  return values.sort(compareStrings);
}

/** Code-point order, independent of locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** An Int32 expression with the class index (0..K-1) of each row; -1 for a value outside `classes`, null for null. */
export function labelExpr(target: DataParams['target'], classes: readonly string[], alias = 'label'): pl.Expr {
  if (target.positive_when) return conditionExpr(target.column, target.positive_when).cast(pl.Int32).alias(alias);
  const codes = classes.map((_, i) => i);
  return pl
    .when(pl.col(target.column).isNull())
    .then(pl.lit(null))
    .otherwise(pl.col(target.column).cast(pl.String).replaceStrict([...classes], codes, -1, pl.Int32))
    .cast(pl.Int32)
    .alias(alias);
}

/** Rows per class (label order) of a frame whose target is clean (no nulls, no unknown values). */
export function classCounts(df: pl.DataFrame, target: DataParams['target'], classes: readonly string[]): number[] {
  const counts = new Array<number>(classes.length).fill(0);
  if (df.height === 0) return counts;
  const labels = df.select(labelExpr(target, classes)).getColumn('label').toTypedArray() as Int32Array;
  for (const l of labels) {
    if (l < 0 || l >= classes.length) throw new DataContentError(`target "${target.column}" has a value outside the classes ${classes.join(', ')}`);
    counts[l]!++;
  }
  return counts;
}

/** Checks the classes fit the task: binary = exactly 2, multiclass = at least 2; every class needs rows. */
export function checkClasses(task: DataParams['task'], target: string, classes: readonly string[], counts: readonly number[]): void {
  if (task === 'binary' && classes.length !== 2) {
    throw new DataContentError(`task "binary" needs 2 classes, target "${target}" has ${classes.length}: ${classes.join(', ')}`);
  }
  if (classes.length < 2) throw new DataContentError(`target "${target}" has fewer than 2 classes: ${classes.join(', ')}`);
  classes.forEach((c, i) => {
    if ((counts[i] ?? 0) === 0) throw new DataContentError(`class "${c}" of target "${target}" has no rows after cleaning`);
  });
}
