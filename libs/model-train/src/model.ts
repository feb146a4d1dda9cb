import * as tf from '@tensorflow/tfjs';
import { ModelTrainError } from './errors.js';
import type { ModelParams } from './params.js';
import { deriveSeed } from './random.js';

export interface BuildModelOptions {
  /** Number of feature columns. */
  inputDim: number;
  /** Class names, index = label. Two classes give one sigmoid output; more give a softmax over all of them. */
  classes: readonly string[];
  /** Seeds the weight initialisers (and the dropout layers' configured seed). */
  seed: number;
  /** Model name stored in model.json. */
  name?: string;
}

/** Number of classes a model predicts: one sigmoid unit means two. */
export function numClassesOf(model: tf.LayersModel): number {
  const shape = model.outputs[0]?.shape;
  const units = shape?.[shape.length - 1];
  if (typeof units !== 'number' || model.outputs.length !== 1) {
    throw new ModelTrainError(`model must have one output of shape [batch, units] (got ${JSON.stringify(shape)})`);
  }
  return units === 1 ? 2 : units;
}

/** Number of input features a model takes. */
export function inputDimOf(model: tf.LayersModel): number {
  const shape = model.inputs[0]?.shape;
  const dim = shape?.[shape.length - 1];
  if (typeof dim !== 'number' || model.inputs.length !== 1 || shape?.length !== 2) {
    throw new ModelTrainError(`model must have one input of shape [batch, features] (got ${JSON.stringify(shape)})`);
  }
  return dim;
}

/**
 * Builds the (uncompiled) Keras-style model the params describe: logistic regression or an MLP, with
 * Glorot-uniform initialisers seeded from `seed` so the same params give the same initial weights.
 */
export function buildModel(params: ModelParams, options: BuildModelOptions): tf.Sequential {
  const { inputDim, classes, seed } = options;
  if (!Number.isInteger(inputDim) || inputDim < 1) throw new ModelTrainError(`inputDim must be a positive integer (got ${inputDim})`);
  if (classes.length < 2) throw new ModelTrainError(`a classifier needs at least 2 classes (got ${classes.length})`);
  const binary = classes.length === 2;
  const regularizer = () => (params.l2 > 0 ? tf.regularizers.l2({ l2: params.l2 }) : undefined);
  const layers: tf.layers.Layer[] = [];
  let index = 0;
  if (params.type === 'mlp') {
    params.layers.forEach((units, i) => {
      layers.push(
        tf.layers.dense({
          name: `hidden_${i + 1}`,
          units,
          activation: params.activation,
          kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, index++) }),
          biasInitializer: 'zeros',
          kernelRegularizer: regularizer(),
          ...(i === 0 ? { inputShape: [inputDim] } : {}),
        }),
      );
      if (params.dropout > 0) {
        layers.push(tf.layers.dropout({ name: `dropout_${i + 1}`, rate: params.dropout, seed: deriveSeed(seed, index++) }));
      }
    });
  }
  layers.push(
    tf.layers.dense({
      name: 'output',
      units: binary ? 1 : classes.length,
      activation: binary ? 'sigmoid' : 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, index++) }),
      biasInitializer: 'zeros',
      kernelRegularizer: regularizer(),
      ...(layers.length === 0 ? { inputShape: [inputDim] } : {}),
    }),
  );
  return tf.sequential({ name: options.name ?? params.type, layers });
}
