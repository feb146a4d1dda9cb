import type * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendSelection, type SelectBackendOptions } from './backend.js';
import type { Dataset } from './data.js';
import { buildModel } from './model.js';
import type { ModelParams, TrainParams } from './params.js';
import { train, type EpochLog, type TrainResult } from './train.js';

export interface TrainClassifierOptions {
  /** Model name (stored in model.json). */
  name?: string;
  model: ModelParams;
  /** Already merged with the model's overrides (`resolveTrainParams`). */
  params: TrainParams;
  train: Dataset;
  valid?: Dataset;
  /** Class names, index = label. */
  classes: readonly string[];
  onEpochEnd?: (log: EpochLog) => void | Promise<void>;
  log?: (line: string) => void;
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
  const backend = await selectBackend(options.params.backend, options.backendOptions);
  const skipped = backend.attempts.map((a) => `${a.backend} unavailable: ${a.reason}`).join('; ');
  log(`backend: ${backend.backend}${skipped ? ` (${skipped})` : ''}`);
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
