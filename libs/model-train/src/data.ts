import { DataShapeError } from './errors.js';

/** One split as plain arrays: features row-major (`rows × cols`), labels as class indices 0..K-1. */
export interface Dataset {
  x: Float32Array;
  y: Int32Array;
  rows: number;
  cols: number;
}

/**
 * Checks that a split is consistent and fits a model with `cols` inputs and `numClasses` classes; throws
 * `DataShapeError` naming the split and the first problem found.
 */
export function checkDataset(split: string, data: Dataset, expect: { cols?: number; numClasses: number }): void {
  const { x, y, rows, cols } = data;
  if (!Number.isInteger(rows) || rows < 1) throw new DataShapeError(split, `rows must be a positive integer (got ${rows})`);
  if (!Number.isInteger(cols) || cols < 1) throw new DataShapeError(split, `cols must be a positive integer (got ${cols})`);
  if (!(x instanceof Float32Array)) throw new DataShapeError(split, 'x must be a Float32Array');
  if (!(y instanceof Int32Array)) throw new DataShapeError(split, 'y must be an Int32Array');
  if (expect.cols !== undefined && cols !== expect.cols) {
    throw new DataShapeError(split, `has ${cols} feature columns, the model expects ${expect.cols}`);
  }
  if (x.length !== rows * cols) throw new DataShapeError(split, `x has ${x.length} values, expected rows × cols = ${rows * cols}`);
  if (y.length !== rows) throw new DataShapeError(split, `y has ${y.length} labels, expected ${rows}`);
  for (let i = 0; i < rows; i++) {
    const label = y[i]!;
    if (label < 0 || label >= expect.numClasses) {
      throw new DataShapeError(split, `label ${label} at row ${i} is outside 0..${expect.numClasses - 1}`);
    }
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) {
      throw new DataShapeError(split, `feature ${i % cols} at row ${Math.floor(i / cols)} is ${x[i]} (features must be finite)`);
    }
  }
}
