/**
 * Statistics of the report: metrics from predictions, ROC and precision-recall curves, and the paired bootstrap over
 * test rows. Pure functions, no global state; the only randomness is the seeded PRNG passed in or made from a seed.
 *
 * Conventions follow scikit-learn and the project's evaluate stage (libs/model-train metrics): labels are class
 * indices 0..K-1, probabilities a row-major `rows × K` array; binary precision/recall/F1 are those of class 1; a
 * multiclass F1 is the unweighted (macro) mean and a multiclass ROC AUC the macro one-vs-rest mean; precision or
 * recall with nothing to divide by count as 0; log loss clips to [1e-7, 1 - 1e-7] and renormalises each row.
 */
import { ReportStatsError } from './errors.js';

export const METRIC_NAMES = ['roc_auc', 'accuracy', 'f1', 'log_loss', 'precision', 'recall'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
/** Whether a larger value of the metric is better. */
export const HIGHER_IS_BETTER: Readonly<Record<MetricName, boolean>> = {
  roc_auc: true,
  accuracy: true,
  f1: true,
  log_loss: false,
  precision: true,
  recall: true,
};
/** Names for people. */
export const METRIC_LABELS: Readonly<Record<MetricName, string>> = {
  roc_auc: 'ROC AUC',
  accuracy: 'accuracy',
  f1: 'F1',
  log_loss: 'log loss',
  precision: 'precision',
  recall: 'recall',
};

/** Test-set predictions of one model: a label per row and a row-major `rows × k` probability matrix. */
export interface PredictionSet {
  labels: ArrayLike<number>;
  proba: ArrayLike<number>;
  k: number;
}

/** A seeded PRNG (mulberry32): uniform in [0, 1), the same sequence for the same seed on every platform. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EPS = 1e-7;

function checkPredictions(p: PredictionSet, what = 'predictions'): number {
  const n = p.labels.length;
  if (p.k < 2) throw new ReportStatsError(`${what}: at least 2 classes are needed (got ${p.k})`);
  if (n === 0) throw new ReportStatsError(`${what}: no rows`);
  if (p.proba.length !== n * p.k) throw new ReportStatsError(`${what}: ${p.proba.length} probabilities for ${n} rows × ${p.k} classes`);
  for (let i = 0; i < n; i++) {
    const y = p.labels[i]!;
    if (!(Number.isInteger(y) && y >= 0 && y < p.k)) throw new ReportStatsError(`${what}: label ${y} at row ${i} is not a class index 0..${p.k - 1}`);
  }
  return n;
}

/**
 * Predicted class of each row. Binary with `threshold` 0.5 (the default): the most probable class, exactly as the
 * evaluate stage predicts; another threshold: class 1 when its probability is above the threshold. Multiclass: the
 * most probable class (the threshold does not apply).
 */
export function predictedClasses(p: PredictionSet, threshold = 0.5): Int32Array {
  const n = p.labels.length;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (p.k === 2 && threshold !== 0.5) {
      out[i] = p.proba[i * 2 + 1]! > threshold ? 1 : 0;
      continue;
    }
    let best = 0;
    for (let c = 1; c < p.k; c++) if (p.proba[i * p.k + c]! > p.proba[i * p.k + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/** `matrix[t][p]` = rows of true class t predicted as p. */
export function confusionMatrix(p: PredictionSet, threshold = 0.5): number[][] {
  checkPredictions(p);
  const pred = predictedClasses(p, threshold);
  const m = Array.from({ length: p.k }, () => new Array<number>(p.k).fill(0));
  for (let i = 0; i < pred.length; i++) m[p.labels[i]!]![pred[i]!]! += 1;
  return m;
}

/** Everything the weighted metrics need, computed once per model (sort orders, per-row losses and hits). */
interface Prepared {
  n: number;
  k: number;
  labels: Int32Array;
  pred: Int32Array;
  rowLoss: Float64Array;
  /** Per scored class (binary: class 1 only): row order by descending score and where each run of tied scores ends. */
  orders: { cls: number; order: Int32Array; groupEnd: Uint8Array }[];
}

function prepare(p: PredictionSet, threshold: number, what?: string): Prepared {
  const n = checkPredictions(p, what);
  const k = p.k;
  const labels = Int32Array.from(p.labels);
  const pred = predictedClasses(p, threshold);
  const rowLoss = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += clip(p.proba[i * k + c]!);
    rowLoss[i] = -Math.log(clip(p.proba[i * k + labels[i]!]!) / sum);
  }
  const classes = k === 2 ? [1] : Array.from({ length: k }, (_, c) => c);
  const orders = classes.map((cls) => {
    const score = new Float64Array(n);
    for (let i = 0; i < n; i++) score[i] = p.proba[i * k + cls]!;
    const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b]! - score[a]!);
    const groupEnd = new Uint8Array(n);
    for (let j = 0; j < n; j++) groupEnd[j] = j === n - 1 || score[order[j + 1]!] !== score[order[j]!] ? 1 : 0;
    return { cls, order, groupEnd };
  });
  return { n, k, labels, pred, rowLoss, orders };
}

const clip = (x: number): number => Math.min(Math.max(x, EPS), 1 - EPS);

export type MetricValues = Record<MetricName, number>;

/** All metrics of a prepared model with row weights `w` (bootstrap counts; `undefined` = every row once). */
function weightedMetrics(m: Prepared, w: ArrayLike<number> | undefined): MetricValues {
  const { n, k, labels, pred, rowLoss } = m;
  const cm = new Float64Array(k * k);
  let total = 0;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i]! : 1;
    if (wi === 0) continue;
    total += wi;
    loss += wi * rowLoss[i]!;
    cm[labels[i]! * k + pred[i]!]! += wi;
  }
  let hits = 0;
  for (let c = 0; c < k; c++) hits += cm[c * k + c]!;
  const scores = Array.from({ length: k }, (_, c) => {
    let support = 0;
    let predicted = 0;
    for (let j = 0; j < k; j++) {
      support += cm[c * k + j]!;
      predicted += cm[j * k + c]!;
    }
    const tp = cm[c * k + c]!;
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    return { precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) };
  });
  const avg = (f: (s: (typeof scores)[number]) => number): number => (k === 2 ? f(scores[1]!) : scores.reduce((a, s) => a + f(s), 0) / k);
  let aucSum = 0;
  for (const o of m.orders) aucSum += weightedAuc(o, labels, w);
  return {
    roc_auc: aucSum / m.orders.length,
    accuracy: hits / total,
    f1: avg((s) => s.f1),
    log_loss: loss / total,
    precision: avg((s) => s.precision),
    recall: avg((s) => s.recall),
  };
}

/** ROC AUC with row weights: the probability that a positive outranks a negative, ties counting one half (= the trapezoidal area). */
function weightedAuc(o: Prepared['orders'][number], labels: Int32Array, w: ArrayLike<number> | undefined): number {
  let above = 0;
  let negatives = 0;
  let area = 0;
  let gp = 0;
  let gn = 0;
  for (let j = 0; j < o.order.length; j++) {
    const i = o.order[j]!;
    const wi = w ? w[i]! : 1;
    if (labels[i] === o.cls) gp += wi;
    else gn += wi;
    if (o.groupEnd[j]) {
      area += gn * (above + gp / 2);
      above += gp;
      negatives += gn;
      gp = 0;
      gn = 0;
    }
  }
  return above === 0 || negatives === 0 ? Number.NaN : area / (above * negatives);
}

/** Every metric of one model's predictions (`threshold`: see {@link predictedClasses}). NaN where a metric is undefined. */
export function computeMetrics(p: PredictionSet, threshold = 0.5): MetricValues {
  return weightedMetrics(prepare(p, threshold), undefined);
}

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** Score threshold of each point (score ≥ threshold counts as positive); the first is +Infinity. */
  thresholds: number[];
}

/**
 * Rows sorted by score, highest first, walked once: the true and false positives counted at each distinct score
 * (the threshold), as the ROC and the precision-recall curves both need them.
 */
function thresholdCounts(isPositive: ArrayLike<boolean | number>, scores: ArrayLike<number>): { tp: number[]; fp: number[]; thresholds: number[]; positives: number; negatives: number } {
  if (isPositive.length !== scores.length) throw new ReportStatsError(`${isPositive.length} labels for ${scores.length} scores`);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const out = { tp: [] as number[], fp: [] as number[], thresholds: [] as number[] };
  let tp = 0;
  let fp = 0;
  for (let j = 0; j < order.length; j++) {
    const i = order[j]!;
    if (isPositive[i]) tp++;
    else fp++;
    const next = order[j + 1];
    if (next === undefined || scores[next] !== scores[i]) {
      out.tp.push(tp);
      out.fp.push(fp);
      out.thresholds.push(scores[i]!);
    }
  }
  return { ...out, positives: tp, negatives: fp };
}

/** The full ROC curve, one point per distinct score from (0, 0) to (1, 1): scikit-learn's `roc_curve(drop_intermediate=False)`. */
export function rocCurve(isPositive: ArrayLike<boolean | number>, scores: ArrayLike<number>): RocCurve {
  const c = thresholdCounts(isPositive, scores);
  return {
    fpr: [0, ...c.fp.map((fp) => (c.negatives === 0 ? Number.NaN : fp / c.negatives))],
    tpr: [0, ...c.tp.map((tp) => (c.positives === 0 ? Number.NaN : tp / c.positives))],
    thresholds: [Number.POSITIVE_INFINITY, ...c.thresholds],
  };
}

/** Trapezoidal area under a curve given as x/y arrays with x non-decreasing. */
export function trapezoid(x: readonly number[], y: readonly number[]): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i]! - x[i - 1]!) * (y[i]! + y[i - 1]!)) / 2;
  return area;
}

/** ROC AUC of binary labels against scores (NaN when one class is missing). */
export function rocAuc(isPositive: ArrayLike<boolean | number>, scores: ArrayLike<number>): number {
  const c = rocCurve(isPositive, scores);
  return trapezoid(c.fpr, c.tpr);
}

export interface PrCurve {
  /** From the highest threshold down; the first point is (recall 0, precision 1), as scikit-learn's last. */
  precision: number[];
  recall: number[];
  /** Score threshold of each point; the first is +Infinity. */
  thresholds: number[];
}

/**
 * The precision-recall curve, one point per distinct score: scikit-learn's `precision_recall_curve` in reverse order
 * (highest threshold first, after the (recall 0, precision 1) start point).
 */
export function prCurve(isPositive: ArrayLike<boolean | number>, scores: ArrayLike<number>): PrCurve {
  const c = thresholdCounts(isPositive, scores);
  return {
    precision: [1, ...c.tp.map((tp, k) => tp / (tp + c.fp[k]!))],
    recall: [0, ...c.tp.map((tp) => (c.positives === 0 ? Number.NaN : tp / c.positives))],
    thresholds: [Number.POSITIVE_INFINITY, ...c.thresholds],
  };
}

/** Average precision: Σ (Rₙ − Rₙ₋₁) Pₙ over the PR curve (scikit-learn's `average_precision_score`, no interpolation). */
export function averagePrecision(isPositive: ArrayLike<boolean | number>, scores: ArrayLike<number>): number {
  const c = prCurve(isPositive, scores);
  let ap = 0;
  for (let i = 1; i < c.recall.length; i++) ap += (c.recall[i]! - c.recall[i - 1]!) * c.precision[i]!;
  return ap;
}

/** At most `max` points of a curve, evenly spaced along it, both ends kept (for charts; areas come from the full curve). */
export function downsample<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max || max < 2) return [...points];
  const out: T[] = [];
  for (let j = 0; j < max; j++) out.push(points[Math.round((j * (points.length - 1)) / (max - 1))]!);
  return out;
}

/** A percentile interval of a bootstrap distribution. */
export interface Interval {
  /** The value on the full test set. */
  estimate: number;
  lo: number;
  hi: number;
  /** Standard deviation of the bootstrap replicates. */
  se: number;
}

export interface PairDifference extends Interval {
  a: string;
  b: string;
  metric: MetricName;
  /** The interval of `a − b` excludes 0. */
  significant: boolean;
  /** Two-sided bootstrap p-value: 2 × the smaller share of replicates on either side of 0 (capped at 1). */
  pValue: number;
}

export interface BootstrapOptions {
  /** Resamples of the test rows (default 1000). */
  resamples?: number;
  /** PRNG seed (default 42). */
  seed?: number;
  /** Confidence of the percentile intervals (default 0.95). */
  confidence?: number;
  /** Metrics to resample (default: all of {@link METRIC_NAMES}). */
  metrics?: readonly MetricName[];
  /** Decision threshold of binary models (see {@link predictedClasses}; default 0.5). */
  threshold?: number;
}

export interface BootstrapResult {
  resamples: number;
  seed: number;
  confidence: number;
  rows: number;
  metrics: MetricName[];
  /** model → metric → interval. */
  models: Record<string, Record<MetricName, Interval>>;
  /** Every ordered pair once (models in the order given: a before b), per metric. */
  pairs: PairDifference[];
}

/** Linear-interpolation quantile (numpy's default) of sorted finite values. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function intervalOf(estimate: number, reps: Float64Array, confidence: number): Interval {
  const finite = Float64Array.from(reps.filter((x) => Number.isFinite(x))).sort();
  const alpha = (1 - confidence) / 2;
  let mean = 0;
  for (const x of finite) mean += x;
  mean /= finite.length;
  let ss = 0;
  for (const x of finite) ss += (x - mean) ** 2;
  return { estimate, lo: quantile(finite, alpha), hi: quantile(finite, 1 - alpha), se: finite.length > 1 ? Math.sqrt(ss / (finite.length - 1)) : Number.NaN };
}

/**
 * Paired bootstrap over test rows: each resample draws the row indices once (with replacement, seeded) and scores
 * every model on those same rows, so differences between models are judged on identical data. Gives a percentile
 * interval per model and metric, and one for the difference of every pair; a difference is significant when its
 * interval excludes 0. All models must have scored the same rows with the same labels.
 */
export function pairedBootstrap(models: readonly { name: string; predictions: PredictionSet }[], options: BootstrapOptions = {}): BootstrapResult {
  const resamples = options.resamples ?? 1000;
  const seed = options.seed ?? 42;
  const confidence = options.confidence ?? 0.95;
  const metrics = [...(options.metrics ?? METRIC_NAMES)];
  if (!(Number.isInteger(resamples) && resamples >= 2)) throw new ReportStatsError(`resamples must be an integer ≥ 2 (got ${resamples})`);
  if (!(confidence > 0 && confidence < 1)) throw new ReportStatsError(`confidence must be in (0, 1) (got ${confidence})`);
  if (models.length === 0) throw new ReportStatsError('no models to bootstrap');
  const prepared = models.map((m) => prepare(m.predictions, options.threshold ?? 0.5, `predictions of ${m.name}`));
  const n = prepared[0]!.n;
  for (const [j, p] of prepared.entries()) {
    if (p.n !== n) throw new ReportStatsError(`predictions of ${models[j]!.name} have ${p.n} rows, those of ${models[0]!.name} ${n}: a paired bootstrap needs the same test rows`);
    for (let i = 0; i < n; i++) {
      if (p.labels[i] !== prepared[0]!.labels[i]) throw new ReportStatsError(`predictions of ${models[j]!.name} and ${models[0]!.name} disagree on the label of row ${i}: not the same test rows (or not in the same order)`);
    }
  }
  const reps = prepared.map(() => Object.fromEntries(metrics.map((m) => [m, new Float64Array(resamples)])) as Record<MetricName, Float64Array>);
  const rand = seededRandom(seed);
  const counts = new Uint32Array(n);
  for (let b = 0; b < resamples; b++) {
    counts.fill(0);
    for (let j = 0; j < n; j++) counts[Math.floor(rand() * n)]! += 1;
    for (const [j, p] of prepared.entries()) {
      const v = weightedMetrics(p, counts);
      for (const m of metrics) reps[j]![m][b] = v[m];
    }
  }
  const full = prepared.map((p) => weightedMetrics(p, undefined));
  const out: BootstrapResult = { resamples, seed, confidence, rows: n, metrics, models: {}, pairs: [] };
  for (const [j, m] of models.entries()) {
    out.models[m.name] = Object.fromEntries(metrics.map((k) => [k, intervalOf(full[j]![k], reps[j]![k], confidence)])) as Record<MetricName, Interval>;
  }
  for (let a = 0; a < models.length; a++) {
    for (let b = a + 1; b < models.length; b++) {
      for (const metric of metrics) {
        const ra = reps[a]![metric];
        const rb = reps[b]![metric];
        const d = new Float64Array(resamples);
        let below = 0;
        let above = 0;
        for (let r = 0; r < resamples; r++) {
          d[r] = ra[r]! - rb[r]!;
          if (d[r]! <= 0) below++;
          if (d[r]! >= 0) above++;
        }
        const iv = intervalOf(full[a]![metric] - full[b]![metric], d, confidence);
        out.pairs.push({
          a: models[a]!.name,
          b: models[b]!.name,
          metric,
          ...iv,
          significant: iv.lo > 0 || iv.hi < 0,
          pValue: Math.min(1, (2 * Math.min(below, above)) / resamples),
        });
      }
    }
  }
  return out;
}
