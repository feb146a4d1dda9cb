import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { FeatureFileError } from './errors.js';
import { type FeatureMeta, FeatureMetaSchema } from './meta.js';
import type { SplitName } from './split.js';

export interface FeatureSplit {
  /** Features, row-major: value of feature `j` in row `i` is `x[i * cols + j]`. */
  x: Float32Array;
  /** Class index (0..K-1) per row. */
  y: Int32Array;
  rows: number;
  cols: number;
  meta: FeatureMeta;
}

/** Reads and validates `<dir>/meta.json`. */
export async function loadFeatureMeta(dir: string): Promise<FeatureMeta> {
  const file = join(dir, 'meta.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new FeatureFileError(file, `cannot read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const parsed = FeatureMetaSchema.safeParse(raw);
  if (!parsed.success) {
    throw new FeatureFileError(file, `invalid feature metadata: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/**
 * Loads one split written by featurize (`<dir>/<split>.parquet` + `<dir>/meta.json`) as typed arrays, checking
 * that its columns are exactly the metadata's feature names plus the label column, with no nulls.
 */
export async function loadFeatureSplit(dir: string, split: SplitName): Promise<FeatureSplit> {
  const meta = await loadFeatureMeta(dir);
  const file = join(dir, `${split}.parquet`);
  if (!existsSync(file)) throw new FeatureFileError(file, 'file not found');
  let df: pl.DataFrame;
  try {
    df = pl.readParquet(file);
  } catch (error) {
    throw new FeatureFileError(file, `cannot read parquet: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, { cause: error });
  }
  const expected = [...meta.featureNames, meta.labelColumn];
  const missing = expected.filter((c) => !df.columns.includes(c));
  if (missing.length > 0) throw new FeatureFileError(file, `columns missing (listed in meta.json): ${missing.join(', ')}`);
  const extra = df.columns.filter((c) => !expected.includes(c));
  if (extra.length > 0) throw new FeatureFileError(file, `columns not listed in meta.json: ${extra.join(', ')}`);
  const rows = df.height;
  if (rows !== meta.rows[split]) throw new FeatureFileError(file, `has ${rows} rows, meta.json says ${meta.rows[split]}`);
  const cols = meta.featureNames.length;
  const x = new Float32Array(rows * cols);
  meta.featureNames.forEach((name, j) => {
    const s = df.getColumn(name);
    if (s.nullCount() > 0) throw new FeatureFileError(file, `feature "${name}" has ${s.nullCount()} nulls`);
    const values = s.cast(pl.Float32).toTypedArray() as Float32Array;
    for (let i = 0; i < rows; i++) x[i * cols + j] = values[i]!;
  });
  const labels = df.getColumn(meta.labelColumn);
  if (labels.nullCount() > 0) throw new FeatureFileError(file, `label column "${meta.labelColumn}" has nulls`);
  const y = Int32Array.from(labels.cast(pl.Int32).toTypedArray() as Int32Array);
  const k = meta.classes.length;
  for (let i = 0; i < rows; i++) {
    if (y[i]! < 0 || y[i]! >= k) throw new FeatureFileError(file, `row ${i}: label ${y[i]} outside 0..${k - 1}`);
  }
  return { x, y, rows, cols, meta };
}
