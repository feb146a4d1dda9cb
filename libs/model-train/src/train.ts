import * as tf from '@tensorflow/tfjs';
import { FlatAdam } from './adam.js';
import { checkDataset, type Dataset } from './data.js';
import { TrainingError } from './errors.js';
import { trainingForward } from './forward.js';
import { logLoss } from './metrics.js';
import { inputDimOf, numClassesOf } from './model.js';
import { parseTrainParams, type EffectiveTrainParams, type OptimizerName, type TrainParams } from './params.js';
import { classWeights as computeClassWeights, planTraining, type TrainPlan } from './plan.js';
import { predictProba } from './predict.js';
import { deriveSeed, mulberry32, permutation } from './random.js';

/** What one epoch did; handed to `onEpochEnd` and kept in `TrainResult.history`. */
export interface EpochLog {
  /** 1-based. */
  epoch: number;
  epochs: number;
  /** Mean training objective over the epoch's batches (cross-entropy, class-weighted if asked, + L2 penalty, as Keras reports `loss`). */
  loss: number;
  /** Training accuracy over the epoch's batches (in training mode: dropout active). */
  accuracy: number;
  /** Validation objective (cross-entropy + L2 penalty, inference mode); absent without a validation split. */
  valLoss?: number;
  valAccuracy?: number;
  /** The monitored loss (valLoss, else loss) improved on the best so far by more than minDelta. */
  improved: boolean;
  seconds: number;
  rowsPerSecond: number;
}

export interface TrainOptions {
  /** A model from `buildModel` (or any one-input classifier with a sigmoid or softmax output). */
  model: tf.LayersModel;
  train: Dataset;
  valid?: Dataset;
  /**
   * Everything but `backend` is used here (select the backend before: `selectBackend`). `batchSize`/`epochs` may be
   * `auto`: they are resolved for the training rows (`planTraining`) and reported in `TrainResult.plan`.
   */
  params: TrainParams | EffectiveTrainParams;
  /**
   * Called after each epoch. It is not awaited (training goes on); a promise it returns is awaited before `train`
   * resolves, and a failure is reported in `TrainResult.callbackErrors`, never thrown.
   */
  onEpochEnd?: (log: EpochLog) => void | Promise<void>;
  /** Progress lines (one per epoch). Default: console.error. */
  log?: (line: string) => void;
}

export interface TrainResult {
  history: EpochLog[];
  epochsRun: number;
  stoppedEarly: boolean;
  /** The epoch with the lowest monitored loss (valLoss, else loss). */
  bestEpoch: number;
  monitor: 'valLoss' | 'loss';
  bestMonitored: number;
  /** The model holds the weights of `bestEpoch` (early stopping with restoreBestWeights). */
  restoredBestWeights: boolean;
  seconds: number;
  /** Training rows processed per second over all epochs (validation excluded). */
  rowsPerSecond: number;
  backend: string;
  callbackErrors: string[];
  /** The effective batch size and epochs (resolved from `auto`), steps per epoch and any notes on them. */
  plan: TrainPlan;
  /** The class weights of the training loss (index = class), or `null` for `classWeight: none`. */
  classWeights: number[] | null;
}

function makeOptimizer(name: OptimizerName, learningRate: number): tf.Optimizer {
  switch (name) {
    case 'adam':
      return tf.train.adam(learningRate);
    case 'sgd':
      return tf.train.sgd(learningRate);
    case 'rmsprop':
      return tf.train.rmsprop(learningRate);
    case 'adagrad':
      return tf.train.adagrad(learningRate);
  }
}

/** The configured-seed field of a Dropout layer (TF.js keeps it private; see `setDropoutSeed`). */
type SeededLayer = { seed?: number };

/**
 * TF.js' Dropout draws its mask from `seed` on every call, so a fixed seed gives every batch the same mask.
 * To get masks that differ per batch yet repeat run to run, the layer's seed is set before each batch (the layer
 * reads it at call time) and put back afterwards.
 */
function setDropoutSeed(layer: tf.layers.Layer, seed: number | undefined): void {
  (layer as unknown as SeededLayer).seed = seed;
}

function formatNumber(n: number): string {
  return Number.isFinite(n) ? n.toFixed(4) : String(n);
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Penalty terms (L2) of the model's regularisers, summed. */
function regularizationPenalty(model: tf.LayersModel): number {
  const losses = model.calculateLosses();
  if (losses.length === 0) return 0;
  const total = tf.tidy(() => tf.addN(losses).dataSync()[0]!);
  tf.dispose(losses);
  return total;
}

/** Validation objective and accuracy in inference mode. */
function validate(model: tf.LayersModel, valid: Dataset, k: number, penalty: number): { valLoss: number; valAccuracy: number } {
  const proba = predictProba(model, valid.x, valid.rows);
  let hits = 0;
  for (let i = 0; i < valid.rows; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (proba[i * k + c]! > proba[i * k + best]!) best = c;
    if (best === valid.y[i]) hits++;
  }
  return { valLoss: logLoss(valid.y, proba, k) + penalty, valAccuracy: hits / valid.rows };
}

/**
 * Fits `model` with mini-batch gradient descent: rows shuffled each epoch by a PRNG seeded from `params.seed`,
 * dropout masks seeded per batch, so the same data, params and backend give the same weights. Early stopping
 * watches the validation loss (the training loss without a validation split) and can restore the best weights.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { model, valid } = options;
  // validated here too: a hand-built params object (or one missing keys added since) gets the defaults or a ParamsError
  const params = parseTrainParams(options.params, 'train');
  const log = options.log ?? ((line: string) => console.error(line));
  const k = numClassesOf(model);
  const cols = inputDimOf(model);
  const binary = k === 2;
  checkDataset('train', options.train, { cols, numClasses: k });
  if (valid) checkDataset('valid', valid, { cols, numClasses: k });
  const { x, y, rows } = options.train;
  const plan = planTraining(params, rows);
  const { batchSize, epochs } = plan;
  const { seed } = params;
  const early = params.earlyStopping;
  const monitor: TrainResult['monitor'] = valid ? 'valLoss' : 'loss';

  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // Adam (the default) updates all variables in one go, with TF.js' own arithmetic (see FlatAdam)
  const optimizer: tf.Optimizer | FlatAdam =
    params.optimizer === 'adam' ? new FlatAdam(variables, params.learningRate) : makeOptimizer(params.optimizer, params.learningRate);
  const dropoutLayers = model.layers.filter((l) => l.getClassName() === 'Dropout');
  const configuredSeeds = dropoutLayers.map((l) => (l as unknown as SeededLayer).seed);
  const shuffleRandom = mulberry32(deriveSeed(seed, 0x5eed));
  const classWeights = computeClassWeights(y, k, params.classWeight, params.classWeightMaxRatio);
  // built once for the whole run (disposed in `finally`)
  const classWeightTensor = classWeights ? tf.keep(tf.tensor1d(classWeights)) : null;
  // the model's forward pass as ops on its variables (no Layers bookkeeping, faster matmul gradients); null → model.apply
  const forward = trainingForward(model);
  const dropoutSeeds = new Array<number>(dropoutLayers.length);
  log(
    `plan: batch ${batchSize}${plan.derived.batchSize ? ' (auto)' : ''}, ${plan.derived.epochs ? 'up to ' : ''}${epochs} epochs${plan.derived.epochs ? ' (auto)' : ''}` +
      ` × ${plan.stepsPerEpoch} steps on ${rows} rows` +
      (early === false ? ', no early stopping' : `, early stopping on ${monitor} (patience ${early.patience})`) +
      (classWeights ? `, class weights ${Array.from(classWeights, (w) => w.toFixed(2)).join('/')}` : ''),
  );
  for (const note of plan.notes) log(`note: ${note}`);

  const history: EpochLog[] = [];
  const pending: Promise<void>[] = [];
  const callbackErrors: string[] = [];
  let best = Number.POSITIVE_INFINITY;
  let bestEpoch = 0;
  let bestWeights: tf.Tensor[] | null = null;
  let sinceImprovement = 0;
  let stoppedEarly = false;
  let trainSeconds = 0;
  const started = performance.now();

  const recordCallbackError = (epoch: number, error: unknown) => {
    const message = `onEpochEnd(epoch ${epoch}) failed: ${error instanceof Error ? error.message : String(error)}`;
    callbackErrors.push(message);
    log(message);
  };

  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const epochStart = performance.now();
      const order = permutation(rows, shuffleRandom);
      let lossSum = 0;
      let hits = 0;
      let batch = 0;
      for (let start = 0; start < rows; start += batchSize, batch++) {
        const n = Math.min(batchSize, rows - start);
        const xb = new Float32Array(n * cols);
        const labels = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          const r = order[start + i]!;
          xb.set(x.subarray(r * cols, (r + 1) * cols), i * cols);
          labels[i] = y[r]!;
        }
        for (let li = 0; li < dropoutLayers.length; li++) dropoutSeeds[li] = deriveSeed(seed, epoch, batch, li);
        if (!forward) dropoutLayers.forEach((layer, li) => setDropoutSeed(layer, dropoutSeeds[li]));
        const kept: { output?: tf.Tensor } = {};
        const { loss: batchLoss, hits: batchHits } = tf.tidy(() => {
          const input = tf.tensor2d(xb, [n, cols]);
          const labelTensor = tf.tensor1d(labels, 'int32');
          const target = binary ? labelTensor.cast('float32').reshape([n, 1]) : tf.oneHot(labelTensor, k).cast('float32');
          const rowWeights = classWeightTensor ? tf.gather(classWeightTensor, labelTensor) : null;
          const objective = () => {
            const output = forward ? forward(input, dropoutSeeds) : (model.apply(input, { training: true }) as tf.Tensor);
            const perRow = binary
              ? tf.metrics.binaryCrossentropy(target, output)
              : tf.metrics.categoricalCrossentropy(target, output);
            const dataLoss = rowWeights ? perRow.reshape([n]).mul(rowWeights).mean() : perRow.mean();
            const penalties = model.calculateLosses();
            const total = penalties.length > 0 ? tf.addN([dataLoss, ...penalties]) : dataLoss;
            // kept past the gradient tape's scope (the hits are counted off the tape); disposed below
            kept.output = tf.keep(output);
            return total as tf.Scalar;
          };
          let cost: tf.Scalar;
          if (optimizer instanceof FlatAdam) {
            const { value, grads } = tf.variableGrads(objective, variables);
            optimizer.apply(variables.map((v) => grads[v.name]!));
            cost = value;
          } else {
            cost = optimizer.minimize(objective, true, variables)!;
          }
          const output = kept.output!;
          const predicted = binary ? output.reshape([n]).greater(0.5).cast('int32') : output.argMax(1);
          return { loss: cost.dataSync()[0]!, hits: predicted.equal(labelTensor).sum().dataSync()[0]! };
        });
        kept.output?.dispose();
        lossSum += batchLoss * n;
        hits += batchHits;
        if (batch % 32 === 31) await yieldToEventLoop();
      }
      const epochTrainSeconds = (performance.now() - epochStart) / 1000;
      trainSeconds += epochTrainSeconds;
      const loss = lossSum / rows;
      if (!Number.isFinite(loss)) {
        throw new TrainingError(`training loss became ${loss} at epoch ${epoch} (try a lower learning rate)`, epoch);
      }
      // The cross-entropy clips probabilities, which can hide NaN outputs: check the weights themselves.
      const bad = model.trainableWeights.find((w) => tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(w.read()))).dataSync()[0] === 1));
      if (bad) {
        throw new TrainingError(`weights of ${bad.originalName} became NaN or infinite at epoch ${epoch} (try a lower learning rate)`, epoch);
      }
      const entry: EpochLog = {
        epoch,
        epochs,
        loss,
        accuracy: hits / rows,
        improved: false,
        seconds: 0,
        rowsPerSecond: rows / epochTrainSeconds,
      };
      if (valid) Object.assign(entry, validate(model, valid, k, regularizationPenalty(model)));
      entry.seconds = (performance.now() - epochStart) / 1000;
      const monitored = monitor === 'valLoss' ? entry.valLoss! : entry.loss;
      const minDelta = early === false ? 0 : early.minDelta;
      if (monitored < best - minDelta || bestEpoch === 0) {
        entry.improved = true;
        best = monitored;
        bestEpoch = epoch;
        sinceImprovement = 0;
        if (early !== false && early.restoreBestWeights) {
          tf.dispose(bestWeights ?? []);
          bestWeights = model.getWeights().map((w) => w.clone());
        }
      } else {
        sinceImprovement++;
      }
      history.push(entry);
      log(
        `epoch ${epoch}/${epochs} loss=${formatNumber(entry.loss)} acc=${formatNumber(entry.accuracy)}` +
          (valid ? ` val_loss=${formatNumber(entry.valLoss!)} val_acc=${formatNumber(entry.valAccuracy!)}` : '') +
          ` ${entry.seconds.toFixed(1)}s ${Math.round(entry.rowsPerSecond)} rows/s${entry.improved ? ' *' : ''}`,
      );
      if (options.onEpochEnd) {
        try {
          const result = options.onEpochEnd({ ...entry });
          if (result && typeof (result as Promise<void>).then === 'function') {
            pending.push((result as Promise<void>).catch((error: unknown) => recordCallbackError(epoch, error)));
          }
        } catch (error) {
          recordCallbackError(epoch, error);
        }
      }
      await yieldToEventLoop();
      if (early !== false && sinceImprovement >= early.patience && epoch < epochs) {
        stoppedEarly = true;
        log(`early stopping at epoch ${epoch}: ${monitor} did not improve by more than ${early.minDelta} for ${early.patience} epochs`);
        break;
      }
    }
  } catch (error) {
    tf.dispose(bestWeights ?? []);
    await Promise.all(pending);
    throw error;
  } finally {
    dropoutLayers.forEach((layer, li) => setDropoutSeed(layer, configuredSeeds[li]));
    optimizer.dispose();
    classWeightTensor?.dispose();
  }

  let restoredBestWeights = false;
  const weights = bestWeights as tf.Tensor[] | null;
  if (weights) {
    if (bestEpoch !== history.length) {
      model.setWeights(weights);
      restoredBestWeights = true;
      log(`restored the weights of epoch ${bestEpoch} (${monitor}=${formatNumber(best)})`);
    }
    tf.dispose(weights);
  }
  await Promise.all(pending);
  const seconds = (performance.now() - started) / 1000;
  return {
    history,
    epochsRun: history.length,
    stoppedEarly,
    bestEpoch,
    monitor,
    bestMonitored: best,
    restoredBestWeights,
    seconds,
    rowsPerSecond: (rows * history.length) / trainSeconds,
    backend: tf.getBackend(),
    callbackErrors,
    plan,
    classWeights: classWeights ? Array.from(classWeights) : null,
  };
}
