/**
 * Classification metrics as pure functions over plain arrays. Labels are class indices 0..K-1; probabilities are
 * row-major `rows × K` arrays. Conventions follow scikit-learn (checked against it in the tests): precision/recall
 * with no predicted/true positives count as 0, ROC AUC is the trapezoidal area under the ROC curve (ties handled),
 * log loss clips probabilities to [eps, 1 - eps] and renormalises each row.
 */

/** `matrix[t][p]` = rows whose true class is t and predicted class is p. */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, k: number): number[][] {
  checkSameLength(yTrue, yPred);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]!;
    const p = yPred[i]!;
    if (!(t >= 0 && t < k && p >= 0 && p < k)) throw new RangeError(`label out of range 0..${k - 1} at row ${i}: true ${t}, predicted ${p}`);
    m[t]![p]! += 1;
  }
  return m;
}

export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkSameLength(yTrue, yPred);
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hits++;
  return yTrue.length === 0 ? Number.NaN : hits / yTrue.length;
}

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Precision, recall, F1 and support of each class, from a confusion matrix. */
export function perClassScores(cm: number[][]): ClassScores[] {
  const k = cm.length;
  return cm.map((row, c) => {
    const tp = row[c]!;
    const support = row.reduce((a, b) => a + b, 0);
    let predicted = 0;
    for (let t = 0; t < k; t++) predicted += cm[t]![c]!;
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { precision, recall, f1, support };
  });
}

/**
 * Precision, recall and F1: of the positive class when `average` is `binary` (class `positive`, default 1), or the
 * unweighted mean over classes when `macro`.
 */
export function precisionRecallF1(
  cm: number[][],
  average: 'binary' | 'macro',
  positive = 1,
): { precision: number; recall: number; f1: number } {
  const scores = perClassScores(cm);
  if (average === 'binary') {
    const s = scores[positive];
    if (!s) throw new RangeError(`positive class ${positive} is not among ${scores.length} classes`);
    return { precision: s.precision, recall: s.recall, f1: s.f1 };
  }
  const mean = (f: (s: ClassScores) => number) => scores.reduce((a, s) => a + f(s), 0) / scores.length;
  return { precision: mean((s) => s.precision), recall: mean((s) => s.recall), f1: mean((s) => s.f1) };
}

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** Score threshold of each point (`score >= threshold` is positive); the first is +Infinity. */
  thresholds: number[];
}

/**
 * The full ROC curve of binary labels (1 = positive) against scores: one point per distinct score, from (0, 0)
 * at threshold +Infinity to (1, 1). Like scikit-learn's `roc_curve(drop_intermediate=False)`.
 */
export function rocCurve(isPositive: ArrayLike<number | boolean>, scores: ArrayLike<number>): RocCurve {
  checkSameLength(isPositive, scores);
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let positives = 0;
  for (let i = 0; i < n; i++) if (isPositive[i]) positives++;
  const negatives = n - positives;
  const fpr = [0];
  const tpr = [0];
  const thresholds = [Number.POSITIVE_INFINITY];
  let tp = 0;
  let fp = 0;
  for (let j = 0; j < n; j++) {
    const i = order[j]!;
    if (isPositive[i]) tp++;
    else fp++;
    const next = order[j + 1];
    if (next === undefined || scores[next] !== scores[i]) {
      fpr.push(negatives === 0 ? Number.NaN : fp / negatives);
      tpr.push(positives === 0 ? Number.NaN : tp / positives);
      thresholds.push(scores[i]!);
    }
  }
  return { fpr, tpr, thresholds };
}

/** Area under the ROC curve (trapezoids). NaN when only one class is present. */
export function rocAuc(isPositive: ArrayLike<number | boolean>, scores: ArrayLike<number>): number {
  const { fpr, tpr } = rocCurve(isPositive, scores);
  let area = 0;
  for (let i = 1; i < fpr.length; i++) area += ((fpr[i]! - fpr[i - 1]!) * (tpr[i]! + tpr[i - 1]!)) / 2;
  return area;
}

/** Column `c` of a row-major `rows × k` matrix. */
export function column(proba: ArrayLike<number>, k: number, c: number): Float64Array {
  const rows = proba.length / k;
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) out[i] = proba[i * k + c]!;
  return out;
}

/** Macro one-vs-rest ROC AUC over `k` classes: the mean of each class's AUC against the rest. */
export function rocAucOvr(yTrue: ArrayLike<number>, proba: ArrayLike<number>, k: number): number {
  checkProba(yTrue, proba, k);
  let sum = 0;
  for (let c = 0; c < k; c++) {
    const isC = Array.from(yTrue, (t) => t === c);
    sum += rocAuc(isC, column(proba, k, c));
  }
  return sum / k;
}

/** Mean negative log-likelihood of the true class; probabilities clipped to [eps, 1 - eps], rows renormalised. */
export function logLoss(yTrue: ArrayLike<number>, proba: ArrayLike<number>, k: number, eps = 1e-7): number {
  checkProba(yTrue, proba, k);
  const rows = yTrue.length;
  let total = 0;
  for (let i = 0; i < rows; i++) {
    let rowSum = 0;
    for (let c = 0; c < k; c++) rowSum += clip(proba[i * k + c]!, eps);
    total -= Math.log(clip(proba[i * k + yTrue[i]!]!, eps) / rowSum);
  }
  return rows === 0 ? Number.NaN : total / rows;
}

/** Index of the largest probability in each row (first on ties). */
export function argmaxRows(proba: ArrayLike<number>, k: number): Int32Array {
  const rows = proba.length / k;
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (proba[i * k + c]! > proba[i * k + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/**
 * At most `maxPoints` points of a curve, spread evenly along its length; the first and last points are kept.
 * A curve already short enough comes back unchanged.
 */
export function downsampleCurve(curve: RocCurve, maxPoints: number): RocCurve {
  const n = curve.fpr.length;
  if (maxPoints < 2) throw new RangeError(`maxPoints must be >= 2 (got ${maxPoints})`);
  if (n <= maxPoints) return curve;
  const cumulative = new Float64Array(n);
  for (let i = 1; i < n; i++) {
    cumulative[i] = cumulative[i - 1]! + Math.hypot(curve.fpr[i]! - curve.fpr[i - 1]!, curve.tpr[i]! - curve.tpr[i - 1]!);
  }
  const total = cumulative[n - 1]!;
  const keep: number[] = [0];
  let j = 1;
  for (let s = 1; s < maxPoints - 1; s++) {
    const target = (total * s) / (maxPoints - 1);
    while (j < n - 1 && cumulative[j]! < target) j++;
    if (j < n - 1 && j !== keep[keep.length - 1]) keep.push(j);
  }
  keep.push(n - 1);
  return {
    fpr: keep.map((i) => curve.fpr[i]!),
    tpr: keep.map((i) => curve.tpr[i]!),
    thresholds: keep.map((i) => curve.thresholds[i]!),
  };
}

function clip(p: number, eps: number): number {
  return Math.min(Math.max(p, eps), 1 - eps);
}

function checkSameLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>): void {
  if (a.length !== b.length) throw new RangeError(`length mismatch: ${a.length} labels vs ${b.length} predictions`);
}

function checkProba(yTrue: ArrayLike<number>, proba: ArrayLike<number>, k: number): void {
  if (proba.length !== yTrue.length * k) {
    throw new RangeError(`probabilities have ${proba.length} values, expected ${yTrue.length} rows × ${k} classes`);
  }
}
