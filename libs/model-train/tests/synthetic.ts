import type { Dataset } from '../src/data.js';
import { mulberry32 } from '../src/random.js';

function gaussian(random: () => number): () => number {
  return () => {
    const u = Math.max(random(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
}

/** Binary data separable by a hyperplane (labels from the sign of x·w), seeded. */
export function separableBinary(rows: number, cols: number, seed: number): Dataset {
  const random = mulberry32(seed);
  const normal = gaussian(random);
  const w = Array.from({ length: cols }, (_, j) => (j % 2 === 0 ? 1 : -0.5));
  const x = new Float32Array(rows * cols);
  const y = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let dot = 0;
    for (let j = 0; j < cols; j++) {
      const v = normal();
      x[i * cols + j] = v;
      dot += v * w[j]!;
    }
    y[i] = dot > 0 ? 1 : 0;
  }
  return { x, y, rows, cols };
}

/** Three Gaussian blobs (one per class) around well-separated centres, seeded. */
export function blobs3(rows: number, cols: number, seed: number, spread = 0.6): Dataset {
  const random = mulberry32(seed);
  const normal = gaussian(random);
  const centres = [0, 1, 2].map((c) => Array.from({ length: cols }, (_, j) => (j % 3 === c ? 2 : 0)));
  const x = new Float32Array(rows * cols);
  const y = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = i % 3;
    y[i] = c;
    for (let j = 0; j < cols; j++) x[i * cols + j] = centres[c]![j]! + spread * normal();
  }
  return { x, y, rows, cols };
}

/** Labels independent of the features: nothing to learn, so validation loss plateaus at once. */
export function noise(rows: number, cols: number, seed: number): Dataset {
  const random = mulberry32(seed);
  const normal = gaussian(random);
  const x = new Float32Array(rows * cols).map(() => normal());
  const y = new Int32Array(rows).map(() => (random() < 0.5 ? 0 : 1));
  return { x, y, rows, cols };
}

/** Binary data with about `positiveRate` positives whose classes overlap (label noise), seeded. */
export function imbalanced(rows: number, cols: number, seed: number): Dataset {
  const random = mulberry32(seed);
  const normal = gaussian(random);
  const x = new Float32Array(rows * cols);
  const y = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) x[i * cols + j] = normal();
    y[i] = x[i * cols]! + 0.8 * normal() > 1.6 ? 1 : 0;
  }
  return { x, y, rows, cols };
}
