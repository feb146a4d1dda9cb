import pl from 'nodejs-polars';
import { DataContentError } from './errors.js';
import type { SplitParams } from './params.js';
import { createRng, shuffleInPlace } from './random.js';

export const SPLITS = ['train', 'valid', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

/**
 * Assigns each row to a split (0 = train, 1 = valid, 2 = test). Stratified: within each class the rows are shuffled
 * with the seed and cut by the fractions, so every split keeps the class ratios; otherwise all rows form one group.
 * The result depends only on the labels, the fractions and the seed.
 */
export function assignSplits(labels: Int32Array, numClasses: number, params: SplitParams): Uint8Array {
  const groups = params.stratify ? numClasses : 1;
  // Counting sort of row indices by group, in row order: offsets[g]..offsets[g + 1] hold group g.
  const offsets = new Uint32Array(groups + 1);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l < 0 || l >= numClasses) throw new DataContentError(`row ${i} has label ${l}, outside 0..${numClasses - 1}`);
    offsets[(params.stratify ? l : 0) + 1]!++;
  }
  for (let g = 0; g < groups; g++) offsets[g + 1]! += offsets[g]!;
  const order = new Uint32Array(labels.length);
  const next = offsets.slice(0, groups);
  for (let i = 0; i < labels.length; i++) order[next[params.stratify ? labels[i]! : 0]!++] = i;
  const out = new Uint8Array(labels.length);
  const rng = createRng(params.seed);
  for (let g = 0; g < groups; g++) {
    const idx = shuffleInPlace(order.subarray(offsets[g]!, offsets[g + 1]!), rng);
    const n = idx.length;
    const nTrain = Math.round(n * params.train);
    const nValid = Math.min(n - nTrain, Math.round(n * params.valid));
    for (let k = 0; k < n; k++) out[idx[k]!] = k < nTrain ? 0 : k < nTrain + nValid ? 1 : 2;
  }
  return out;
}

/** Splits a frame by an assignment from {@link assignSplits}; rows keep their original order within a split. */
export function splitFrame(df: pl.DataFrame, assignment: Uint8Array): Record<SplitName, pl.DataFrame> {
  if (assignment.length !== df.height) throw new DataContentError(`split assignment has ${assignment.length} rows, the table ${df.height}`);
  const name = '__mlops_split';
  if (df.columns.includes(name)) throw new DataContentError(`the table already has a column named "${name}"`);
  const tagged = df.withColumns(pl.Series(name, assignment));
  const part = (k: number): pl.DataFrame => tagged.filter(pl.col(name).eq(pl.lit(k))).drop(name);
  return { train: part(0), valid: part(1), test: part(2) };
}
