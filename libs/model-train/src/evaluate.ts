import type * as tf from '@tensorflow/tfjs';
import { checkDataset, type Dataset } from './data.js';
import { DataShapeError } from './errors.js';
import {
  accuracy,
  argmaxRows,
  column,
  confusionMatrix,
  downsampleCurve,
  logLoss,
  perClassScores,
  precisionRecallF1,
  rocAuc,
  rocCurve,
  type ClassScores,
} from './metrics.js';
import { numClassesOf } from './model.js';
import { predictProba } from './predict.js';

export interface EvaluateOptions {
  /** Rows per prediction batch. */
  batchSize?: number;
  /** Points kept per ROC curve (evenly along the curve, ends kept). Default 201. */
  maxRocPoints?: number;
}

export interface RocCurvePoints {
  /** The class scored against the rest (binary: the positive class). */
  positiveClass: string;
  auc: number;
  fpr: number[];
  tpr: number[];
  /** Probability threshold of each point (`p >= threshold` predicts positiveClass); `null` = above every score. */
  thresholds: (number | null)[];
}

/**
 * Test-set quality of a classifier. Binary: precision/recall/F1 of the positive class (index 1) and ROC AUC of
 * its probability. Multiclass: macro averages and macro one-vs-rest ROC AUC. NaN (JSON: null) where a metric is
 * undefined, e.g. ROC AUC when the split holds one class only.
 */
export interface Evaluation {
  task: 'binary' | 'multiclass';
  classes: string[];
  rows: number;
  average: 'binary' | 'macro';
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number;
  logLoss: number;
  /** `matrix[t][p]`: rows of true class `labels[t]` predicted as `labels[p]`. */
  confusionMatrix: { labels: string[]; matrix: number[][] };
  perClass: Record<string, ClassScores>;
  /** Binary: one curve (positive class). Multiclass: one one-vs-rest curve per class. */
  roc: RocCurvePoints[];
}

/** Metrics from labels and a row-major `rows × K` probability matrix (no model needed). */
export function evaluatePredictions(
  yTrue: ArrayLike<number>,
  proba: ArrayLike<number>,
  classes: readonly string[],
  options: Pick<EvaluateOptions, 'maxRocPoints'> = {},
): Evaluation {
  const k = classes.length;
  if (k < 2) throw new DataShapeError('evaluate', `at least 2 classes are needed (got ${k})`);
  if (proba.length !== yTrue.length * k) {
    throw new DataShapeError('evaluate', `${proba.length} probabilities for ${yTrue.length} rows × ${k} classes`);
  }
  const maxPoints = options.maxRocPoints ?? 201;
  const binary = k === 2;
  const predicted = argmaxRows(proba, k);
  const cm = confusionMatrix(yTrue, predicted, k);
  const prf = precisionRecallF1(cm, binary ? 'binary' : 'macro', 1);
  const curveFor = (c: number): RocCurvePoints => {
    const isC = Array.from(yTrue, (t) => t === c);
    const scores = column(proba, k, c);
    const curve = downsampleCurve(rocCurve(isC, scores), maxPoints);
    return {
      positiveClass: classes[c]!,
      auc: rocAuc(isC, scores),
      fpr: curve.fpr,
      tpr: curve.tpr,
      thresholds: curve.thresholds.map((t) => (Number.isFinite(t) ? t : null)),
    };
  };
  const roc = binary ? [curveFor(1)] : classes.map((_, c) => curveFor(c));
  const scores = perClassScores(cm);
  return {
    task: binary ? 'binary' : 'multiclass',
    classes: [...classes],
    rows: yTrue.length,
    average: binary ? 'binary' : 'macro',
    accuracy: accuracy(yTrue, predicted),
    ...prf,
    rocAuc: roc.reduce((a, r) => a + r.auc, 0) / roc.length,
    logLoss: logLoss(yTrue, proba, k),
    confusionMatrix: { labels: [...classes], matrix: cm },
    perClass: Object.fromEntries(classes.map((name, c) => [name, scores[c]!])),
    roc,
  };
}

/** Predicts `split` with `model` and computes every metric (see `Evaluation`). */
export function evaluate(
  model: tf.LayersModel,
  split: Dataset,
  classes: readonly string[],
  options: EvaluateOptions = {},
): Evaluation {
  const k = numClassesOf(model);
  if (k !== classes.length) {
    throw new DataShapeError('evaluate', `model predicts ${k} classes but ${classes.length} class names were given`);
  }
  checkDataset('evaluate', split, { numClasses: k });
  const proba = predictProba(model, split.x, split.rows, options.batchSize);
  return evaluatePredictions(split.y, proba, classes, options);
}
