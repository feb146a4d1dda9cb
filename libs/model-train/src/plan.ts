import { AUTO_BATCH, AUTO_MIN_EPOCHS, type ClassWeightMode, type TrainParams } from './params.js';

/** What training will do on a given number of rows: the effective batch size and epochs, and how they were found. */
export interface TrainPlan {
  /** Training rows the plan is for. */
  rows: number;
  batchSize: number;
  /** Most epochs run (early stopping may end sooner). */
  epochs: number;
  /** Optimizer steps per epoch: ceil(rows / batchSize). */
  stepsPerEpoch: number;
  /** epochs × stepsPerEpoch. */
  maxSteps: number;
  /** Which values were derived from `auto` (the others were set in params). */
  derived: { batchSize: boolean; epochs: boolean };
  /** One line each about values that fit the data badly (e.g. a handful of optimizer steps in all). */
  notes: string[];
}

/**
 * `batchSize: auto`: rows / 128 rounded to the nearest power of two, kept in [16, 512] — e.g. 240 rows → 16,
 * 1,000 → 16, 10,000 → 64, 70,000 → 512.
 */
export function autoBatchSize(rows: number): number {
  const raw = 2 ** Math.round(Math.log2(Math.max(rows, 1) / AUTO_BATCH.rowsPerBatch));
  return Math.min(AUTO_BATCH.max, Math.max(AUTO_BATCH.min, raw));
}

/**
 * Resolves `batchSize` and `epochs` for `rows` training rows. `epochs: auto` =
 * min(maxEpochs, max(AUTO_MIN_EPOCHS, ceil(minSteps / stepsPerEpoch))): enough passes for `minSteps` optimizer steps,
 * early stopping (on the validation loss) doing the stopping. Explicit numbers are kept; when they give fewer than
 * `minSteps` steps a note says so.
 */
export function planTraining(params: Pick<TrainParams, 'batchSize' | 'epochs' | 'minSteps' | 'maxEpochs'>, rows: number): TrainPlan {
  const notes: string[] = [];
  const batchSize = params.batchSize === 'auto' ? autoBatchSize(rows) : params.batchSize;
  const stepsPerEpoch = Math.max(1, Math.ceil(rows / batchSize));
  const epochs =
    params.epochs === 'auto'
      ? Math.min(params.maxEpochs, Math.max(AUTO_MIN_EPOCHS, Math.ceil(params.minSteps / stepsPerEpoch)))
      : params.epochs;
  const maxSteps = epochs * stepsPerEpoch;
  if (params.batchSize !== 'auto' && batchSize >= rows && rows > 0) {
    notes.push(`batchSize ${batchSize} is not below the ${rows} training rows: one optimizer step per epoch (batchSize: auto would use ${autoBatchSize(rows)})`);
  }
  if (maxSteps < params.minSteps) {
    const why = params.epochs === 'auto' ? `maxEpochs ${params.maxEpochs}` : `epochs ${epochs}`;
    notes.push(`at most ${maxSteps} optimizer steps (${why} × ${stepsPerEpoch} steps of ${batchSize} rows), fewer than minSteps ${params.minSteps}${params.epochs === 'auto' ? '' : ' (epochs: auto plans enough)'}`);
  }
  return { rows, batchSize, epochs, stepsPerEpoch, maxSteps, derived: { batchSize: params.batchSize === 'auto', epochs: params.epochs === 'auto' }, notes };
}

/**
 * Per-class weights of the training loss, or `null` for `none`. With n rows, K classes and n_c rows of class c:
 *   raw_c = n / (K · n_c)            (`balanced`, as scikit-learn)      or   sqrt(n / (K · n_c))   (`sqrt`)
 *   capped_c = min(raw_c, maxRatio · min_c raw_c)                      (a row of a rare class weighs at most
 *                                                                       maxRatio times one of the most frequent)
 *   w_c = capped_c · n / Σ_c n_c · capped_c                            (mean row weight 1: the loss keeps its scale)
 * A class absent from `y` gets weight 0.
 */
export function classWeights(y: Int32Array, k: number, mode: ClassWeightMode, maxRatio: number): Float32Array | null {
  if (mode === 'none') return null;
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < y.length; i++) counts[y[i]!]! += 1;
  const n = y.length;
  const raw = counts.map((c) => (c === 0 ? 0 : mode === 'balanced' ? n / (k * c) : Math.sqrt(n / (k * c))));
  const present = raw.filter((w) => w > 0);
  const floor = Math.min(...present);
  const capped = raw.map((w) => Math.min(w, maxRatio * floor));
  const total = capped.reduce((sum, w, c) => sum + w * counts[c]!, 0);
  return Float32Array.from(capped, (w) => (w * n) / total);
}
