import * as tf from '@tensorflow/tfjs';
import { checkDataset } from './data.js';
import { inputDimOf, numClassesOf } from './model.js';

/**
 * Class probabilities for `rows` rows of `x` (row-major, `cols` wide): a `rows × K` row-major array, K ≥ 2
 * (a one-unit sigmoid model gives [1 - p, p]). Predicts in batches of `batchSize` rows.
 */
export function predictProba(model: tf.LayersModel, x: Float32Array, rows: number, batchSize = 8192): Float32Array {
  const cols = inputDimOf(model);
  const k = numClassesOf(model);
  checkDataset('predict', { x, y: new Int32Array(rows), rows, cols }, { cols, numClasses: k });
  const out = new Float32Array(rows * k);
  for (let start = 0; start < rows; start += batchSize) {
    const n = Math.min(batchSize, rows - start);
    const values = tf.tidy(() => {
      const input = tf.tensor2d(x.subarray(start * cols, (start + n) * cols), [n, cols]);
      return (model.predict(input) as tf.Tensor).dataSync();
    });
    if (k === 2 && values.length === n) {
      for (let i = 0; i < n; i++) {
        const p = values[i]!;
        out[(start + i) * 2] = 1 - p;
        out[(start + i) * 2 + 1] = p;
      }
    } else {
      out.set(values, start * k);
    }
  }
  return out;
}
