import type * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendSelection, type SelectBackendOptions } from './backend.js';
import type { Dataset } from './data.js';
import { buildModel } from './model.js';
import { planTraining } from './plan.js';
import type { EffectiveTrainParams, ModelParams, TrainParams } from './params.js';
import { train, type EpochLog, type TrainResult } from './train.js';

export interface TrainClassifierOptions {
  /** Model name (stored in model.json). */
  name?: string;
  model: ModelParams;
  /** Already merged with the model's overrides (`resolveTrainParams`); `auto` batch size/epochs are resolved in `train`. */
  params: TrainParams | EffectiveTrainParams;
  train: Dataset;
  valid?: Dataset;
  /** Class names, index = label. */
  classes: readonly string[];
  onEpochEnd?: (log: EpochLog) => void | Promise<void>;
  /** Progress lines (the backend used, the training plan, one line per epoch). Default: console.error. */
  log?: (line: string) => void;
  /** Skipped-backend notices (see `SelectBackendOptions.onBackendNotice`); none without it. */
  onBackendNotice?: (line: string) => void;
  /** e.g. `{ nativeTfDir }` (where setup built tfjs-node); `batchSize` defaults to the training plan's. */
  backendOptions?: SelectBackendOptions;
}

export interface TrainedClassifier {
  model: tf.LayersModel;
  backend: BackendSelection;
  result: TrainResult;
}

/** Selects the backend `params.backend` asks for, builds the model from params (seeded) and trains it. */
export async function trainClassifier(options: TrainClassifierOptions): Promise<TrainedClassifier> {
  const log = options.log ?? ((line: string) => console.error(line));
  const onBackendNotice = options.onBackendNotice ?? options.backendOptions?.onBackendNotice;
  // The training batch goes to `auto`'s rule (wasm below NATIVE_MIN_BATCH_SIZE); backendOptions may override it.
  const batchSize = Math.min(planTraining(options.params, options.train.rows).batchSize, options.train.rows);
  const backend = await selectBackend(options.params.backend, { batchSize, ...options.backendOptions, ...(onBackendNotice ? { onBackendNotice } : {}) });
  log(`backend: ${backend.backend}`);
  const model = buildModel(options.model, {
    inputDim: options.train.cols,
    classes: options.classes,
    seed: options.params.seed,
    name: options.name,
  });
  try {
    const result = await train({ model, train: options.train, valid: options.valid, params: options.params, onEpochEnd: options.onEpochEnd, log });
    return { model, backend, result };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
