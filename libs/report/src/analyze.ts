/**
 * From report input to everything the renderers show: metrics per model (recomputed from predictions when there are
 * some, else read from the eval files), curves, the paired bootstrap, the ranking, the params table and the
 * conclusions. Each part records where its numbers come from, or why it is unavailable.
 */
import { buildConclusions, type Conclusion } from './conclusions.js';
import { ReportInputError } from './errors.js';
import { parseReportInput, type HistoryEpoch, type ParsedReportInput } from './schema.js';
import {
  averagePrecision,
  confusionMatrix,
  computeMetrics,
  downsample,
  HIGHER_IS_BETTER,
  METRIC_NAMES,
  pairedBootstrap,
  prCurve,
  rocCurve,
  trapezoid,
  type BootstrapResult,
  type Interval,
  type MetricName,
  type MetricValues,
  type PredictionSet,
} from './stats.js';

/** A part of the report: its data, or the reason it has none. */
export type Part<T> = { available: true; value: T; source: string } | { available: false; reason: string };

export interface CurvePoint {
  x: number;
  y: number;
  threshold: number | null;
}
export interface ModelCurves {
  /** Per scored class (binary: the positive class only). */
  curves: { cls: string; points: CurvePoint[]; area: number }[];
}

export interface ThresholdPoint {
  /** `chosen`: the input's threshold (see `predictedClasses`); `bestF1`: a score threshold, positive when score ≥ it. */
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
  /** Share of test rows predicted positive. */
  flagged: number;
}

export interface ModelAnalysis {
  name: string;
  /** Test metrics; `origin` says whether they were recomputed from the predictions or read from the eval file. */
  metrics: Part<Partial<MetricValues> & { origin: 'predictions' | 'eval' }>;
  /** Metric names where the eval file and the recomputation from predictions disagree (|Δ| > 1e-4). */
  mismatches: { metric: MetricName; eval: number; predictions: number }[];
  history: Part<HistoryEpoch[]>;
  roc: Part<ModelCurves>;
  /** x = recall, y = precision. */
  pr: Part<ModelCurves>;
  confusion: Part<{ labels: string[]; matrix: number[][] }>;
  /** Binary with predictions: the chosen threshold and the F1-best one (on the test set). */
  threshold: Part<{ chosen: ThresholdPoint; bestF1: ThresholdPoint }>;
  cost: Part<{ trainSeconds?: number; rowsPerSecond?: number; modelBytes?: number; epochs?: number }>;
  params: Record<string, string>;
  links: { mlflowRunUrl?: string; clearmlTaskUrl?: string; clearmlOfflineSession?: string };
  /** Number of test rows the metrics rest on. */
  rows?: number;
}

export interface RankingRow {
  rank: number;
  model: string;
  value: number;
  interval?: Interval;
  /** vs the baseline on the chosen metric: difference model − baseline with interval when bootstrapped. */
  vsBaseline?: { diff: number; lo?: number; hi?: number; beats: boolean; significant?: boolean };
}

export interface Analysis {
  input: ParsedReportInput;
  title: string;
  task: 'binary' | 'multiclass';
  classes: string[];
  positiveClass?: string;
  metric: MetricName;
  higherIsBetter: boolean;
  threshold: number;
  models: ModelAnalysis[];
  baseline: Part<{ name: string; metrics: Partial<MetricValues>; origin: 'predictions' | 'eval' }>;
  bootstrap: Part<BootstrapResult>;
  ranking: RankingRow[];
  /** Dotted param key → model → value; `differs` when the models do not all share one value. */
  params: { key: string; values: Record<string, string>; differs: boolean }[];
  conclusions: Conclusion[];
}

export interface AnalyzeOptions {
  /** Points kept per chart curve (areas come from the full curve). Default 200. */
  maxCurvePoints?: number;
}

const fmtParam = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** `{a: {b: 1}, c: [1, 2]}` → `{'a.b': '1', c: '[1,2]'}`. */
export function flattenParams(value: Record<string, unknown>, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flattenParams(v as Record<string, unknown>, key));
    else if (v !== undefined) out[key] = fmtParam(v);
  }
  return out;
}

function toPredictionSet(p: { labels: number[]; probabilities: number[][] }): PredictionSet {
  const k = p.probabilities[0]!.length;
  const proba = new Float64Array(p.labels.length * k);
  p.probabilities.forEach((row, i) => row.forEach((x, c) => (proba[i * k + c] = x)));
  return { labels: p.labels, proba, k };
}

function column(set: PredictionSet, c: number): Float64Array {
  const out = new Float64Array(set.labels.length);
  for (let i = 0; i < out.length; i++) out[i] = set.proba[i * set.k + c]!;
  return out;
}

function resolveClasses(input: ParsedReportInput): string[] {
  if (input.classes) return input.classes;
  for (const m of input.models) if (m.predictions?.classes) return m.predictions.classes;
  for (const m of input.models) if (m.eval?.per_class) return Object.keys(m.eval.per_class);
  const k = input.models.find((m) => m.predictions)?.predictions?.probabilities[0]?.length ?? 2;
  return Array.from({ length: k }, (_, i) => String(i));
}

function evalMetrics(e: Record<string, unknown> | undefined): Partial<MetricValues> {
  const out: Partial<MetricValues> = {};
  if (!e) return out;
  for (const m of METRIC_NAMES) {
    const v = e[m];
    if (typeof v === 'number') out[m] = v;
    else if (v === null) out[m] = Number.NaN;
  }
  return out;
}

/** Validates the input (see {@link ReportInputSchema}) and computes everything a report shows. */
export function analyzeReport(raw: unknown, options: AnalyzeOptions = {}): Analysis {
  const input = parseReportInput(raw);
  const maxPoints = options.maxCurvePoints ?? 200;
  const classes = resolveClasses(input);
  const k = classes.length;
  const task = input.task ?? (k === 2 ? 'binary' : 'multiclass');
  const positiveClass = task === 'binary' ? classes[1] : undefined;
  const metric = input.metric;
  const higherIsBetter = input.higherIsBetter ?? HIGHER_IS_BETTER[metric];
  const threshold = input.threshold;

  const issues: { path: string; message: string }[] = [];
  const sets = new Map<string, PredictionSet>();
  input.models.forEach((m, i) => {
    if (!m.predictions) return;
    const width = m.predictions.probabilities[0]!.length;
    if (width !== k) issues.push({ path: `models.${i}.predictions.probabilities`, message: `${width} probability columns, but there are ${k} classes (${classes.join(', ')})` });
    else sets.set(m.name, toPredictionSet(m.predictions));
  });
  if (issues.length) throw new ReportInputError(issues);

  const models: ModelAnalysis[] = input.models.map((m) => {
    const src = m.sources ?? {};
    const set = sets.get(m.name);
    const fromEval = evalMetrics(m.eval);
    const evalSource = src.eval ?? `metrics/eval/${m.name}.json`;
    const predSource = src.predictions ?? 'the test predictions';
    const analysis: ModelAnalysis = {
      name: m.name,
      metrics: { available: false, reason: `no eval metrics or test predictions for ${m.name}` },
      mismatches: [],
      history: m.history && m.history.length > 0 ? { available: true, value: m.history, source: src.history ?? `models/${m.name}/history.json` } : { available: false, reason: `no training history for ${m.name}` },
      roc: { available: false, reason: `no test predictions or ROC points for ${m.name}` },
      pr: { available: false, reason: `no test predictions or precision-recall points for ${m.name}` },
      confusion: { available: false, reason: `no test predictions or confusion matrix for ${m.name}` },
      threshold: { available: false, reason: task === 'binary' ? `no test predictions for ${m.name}` : 'multiclass: the threshold does not apply (most probable class)' },
      cost: m.cost && Object.keys(m.cost).length > 0 ? { available: true, value: m.cost, source: src.cost ?? `the run record of ${m.name}` } : { available: false, reason: `no cost figures for ${m.name}` },
      params: m.params ? flattenParams(m.params) : {},
      links: m.links ?? {},
      ...(m.eval?.rows !== undefined ? { rows: m.eval.rows } : {}),
    };
    if (set) {
      const values = computeMetrics(set, threshold);
      analysis.metrics = { available: true, value: { ...values, origin: 'predictions' }, source: `recomputed from ${predSource}` };
      analysis.rows = set.labels.length;
      for (const name of METRIC_NAMES) {
        const e = fromEval[name];
        if (e !== undefined && Number.isFinite(e) && Math.abs(e - values[name]) > 1e-4) analysis.mismatches.push({ metric: name, eval: e, predictions: values[name] });
      }
      const scored = task === 'binary' ? [1] : classes.map((_, c) => c);
      const roc = scored.map((c) => {
        const isC = Array.from(set.labels, (y) => y === c);
        const curve = rocCurve(isC, column(set, c));
        const pts = curve.fpr.map((x, j) => ({ x, y: curve.tpr[j]!, threshold: Number.isFinite(curve.thresholds[j]!) ? curve.thresholds[j]! : null }));
        return { cls: classes[c]!, points: downsample(pts, maxPoints), area: trapezoid(curve.fpr, curve.tpr) };
      });
      analysis.roc = { available: true, value: { curves: roc }, source: `computed from ${predSource}` };
      const pr = scored.map((c) => {
        const isC = Array.from(set.labels, (y) => y === c);
        const scores = column(set, c);
        const curve = prCurve(isC, scores);
        const pts = curve.recall.map((x, j) => ({ x, y: curve.precision[j]!, threshold: Number.isFinite(curve.thresholds[j]!) ? curve.thresholds[j]! : null }));
        return { cls: classes[c]!, points: downsample(pts, maxPoints), area: averagePrecision(isC, scores) };
      });
      analysis.pr = { available: true, value: { curves: pr }, source: `computed from ${predSource}` };
      analysis.confusion = { available: true, value: { labels: classes, matrix: confusionMatrix(set, threshold) }, source: `computed from ${predSource} at threshold ${threshold}` };
      if (task === 'binary') analysis.threshold = { available: true, value: thresholdFacts(set, threshold), source: `computed from ${predSource}` };
    } else if (Object.keys(fromEval).length > 0) {
      analysis.metrics = { available: true, value: { ...fromEval, origin: 'eval' }, source: evalSource };
    }
    if (!set && m.roc && m.roc.length > 0) {
      const byClass = groupBy(m.roc, (p) => p.class ?? positiveClass ?? classes[0]!);
      const curves = [...byClass].map(([cls, pts]) => {
        const sorted = [...pts].sort((a, b) => a.fpr - b.fpr || a.tpr - b.tpr);
        return { cls, points: downsample(sorted.map((p) => ({ x: p.fpr, y: p.tpr, threshold: p.threshold ?? null })), maxPoints), area: trapezoid(sorted.map((p) => p.fpr), sorted.map((p) => p.tpr)) };
      });
      analysis.roc = { available: true, value: { curves }, source: src.roc ?? `plots/${m.name}/roc.json` };
    }
    if (!set && m.pr && m.pr.length > 0) {
      const byClass = groupBy(m.pr, (p) => p.class ?? positiveClass ?? classes[0]!);
      const curves = [...byClass].map(([cls, pts]) => {
        const sorted = [...pts].sort((a, b) => a.recall - b.recall);
        let ap = 0;
        for (let j = 1; j < sorted.length; j++) ap += (sorted[j]!.recall - sorted[j - 1]!.recall) * sorted[j]!.precision;
        return { cls, points: downsample(sorted.map((p) => ({ x: p.recall, y: p.precision, threshold: p.threshold ?? null })), maxPoints), area: ap };
      });
      analysis.pr = { available: true, value: { curves }, source: 'the precision-recall points given' };
    }
    if (!set && m.confusion && m.confusion.length > 0) {
      const labels = classes.filter((c) => m.confusion!.some((x) => x.actual === c || x.predicted === c));
      const extra = [...new Set(m.confusion.flatMap((x) => [x.actual, x.predicted]))].filter((c) => !labels.includes(c));
      const all = [...labels, ...extra];
      const matrix = all.map(() => new Array<number>(all.length).fill(0));
      for (const cell of m.confusion) matrix[all.indexOf(cell.actual)]![all.indexOf(cell.predicted)]! += cell.count;
      analysis.confusion = { available: true, value: { labels: all, matrix }, source: src.confusion ?? `plots/${m.name}/confusion.json` };
    }
    return analysis;
  });

  // Baseline: the train prior as every row's probabilities, scored on the same test rows as the models.
  const firstSet = [...sets.values()][0];
  let baseline: Analysis['baseline'] = { available: false, reason: 'no baseline metrics in the eval files and no test predictions to score one on' };
  let baselineSet: PredictionSet | undefined;
  const baseName = input.models.find((m) => m.eval?.baseline)?.eval?.baseline?.name ?? input.baseline.name;
  if (input.models.some((m) => m.name === baseName)) throw new ReportInputError([{ path: 'models', message: `a model is named ${baseName}, the name of the baseline` }]);
  const givenPrior = input.baseline.prior ?? input.models.find((m) => m.eval?.baseline?.prior)?.eval?.baseline?.prior;
  if (firstSet) {
    const prior = givenPrior ?? classCounts(firstSet).map((c) => c / firstSet.labels.length);
    if (prior.length !== k) throw new ReportInputError([{ path: 'baseline.prior', message: `${prior.length} class frequencies for ${k} classes` }]);
    const proba = new Float64Array(firstSet.labels.length * k);
    for (let i = 0; i < firstSet.labels.length; i++) for (let c = 0; c < k; c++) proba[i * k + c] = prior[c]!;
    baselineSet = { labels: firstSet.labels, proba, k };
    baseline = {
      available: true,
      value: { name: baseName, metrics: computeMetrics(baselineSet, threshold), origin: 'predictions' },
      source: givenPrior ? 'the train class frequencies given, scored on the test labels' : 'the test labels\' class frequencies (no train prior given), scored on the test labels',
    };
  } else {
    const withBase = input.models.find((m) => m.eval?.baseline);
    if (withBase?.eval?.baseline) {
      baseline = { available: true, value: { name: baseName, metrics: evalMetrics(withBase.eval.baseline), origin: 'eval' }, source: withBase.sources?.eval ?? `metrics/eval/${withBase.name}.json (baseline)` };
    }
  }

  let bootstrap: Analysis['bootstrap'];
  const withPreds = input.models.filter((m) => sets.has(m.name));
  if (withPreds.length === 0) bootstrap = { available: false, reason: 'no test predictions: intervals and significance need the per-row predictions evaluate writes' };
  else {
    const entries = withPreds.map((m) => ({ name: m.name, predictions: sets.get(m.name)! }));
    if (baselineSet) entries.push({ name: baseName, predictions: baselineSet });
    const result = pairedBootstrap(entries, { ...input.bootstrap, threshold });
    const missing = input.models.filter((m) => !sets.has(m.name)).map((m) => m.name);
    bootstrap = {
      available: true,
      value: result,
      source: `paired bootstrap over the ${result.rows} test rows (${result.resamples} resamples, seed ${result.seed}, ${Math.round(result.confidence * 100)}% percentile intervals)${missing.length ? `; without ${missing.join(', ')} (no predictions)` : ''}`,
    };
  }

  const better = (a: number, b: number): number => (higherIsBetter ? b - a : a - b);
  const scored = models
    .map((m) => ({ m, v: m.metrics.available ? m.metrics.value[metric] : undefined }))
    .filter((x): x is { m: ModelAnalysis; v: number } => typeof x.v === 'number' && Number.isFinite(x.v))
    .sort((a, b) => better(a.v, b.v));
  const baseValue = baseline.available ? baseline.value.metrics[metric] : undefined;
  const ranking: RankingRow[] = scored.map(({ m, v }, i) => {
    const row: RankingRow = { rank: i + 1, model: m.name, value: v };
    if (bootstrap.available && bootstrap.value.models[m.name]) row.interval = bootstrap.value.models[m.name]![metric];
    if (baseValue !== undefined && Number.isFinite(baseValue)) {
      const pair = bootstrap.available ? bootstrap.value.pairs.find((p) => p.metric === metric && p.a === m.name && p.b === baseName) : undefined;
      const beats = higherIsBetter ? v > baseValue : v < baseValue;
      row.vsBaseline = pair
        ? { diff: pair.estimate, lo: pair.lo, hi: pair.hi, beats, significant: pair.significant }
        : { diff: v - baseValue, beats };
    }
    return row;
  });

  const keys = [...new Set(models.flatMap((m) => Object.keys(m.params)))].sort();
  const params = keys.map((key) => {
    const values = Object.fromEntries(models.map((m) => [m.name, m.params[key] ?? '—']));
    return { key, values, differs: new Set(Object.values(values)).size > 1 };
  });

  const analysis: Analysis = {
    input,
    title: input.title,
    task,
    classes,
    ...(positiveClass !== undefined ? { positiveClass } : {}),
    metric,
    higherIsBetter,
    threshold,
    models,
    baseline,
    bootstrap,
    ranking,
    params,
    conclusions: [],
  };
  analysis.conclusions = buildConclusions(analysis);
  return analysis;
}

function classCounts(set: PredictionSet): number[] {
  const counts = new Array<number>(set.k).fill(0);
  for (let i = 0; i < set.labels.length; i++) counts[set.labels[i]!]! += 1;
  return counts;
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    m.set(k, [...(m.get(k) ?? []), x]);
  }
  return m;
}

function thresholdFacts(set: PredictionSet, threshold: number): { chosen: ThresholdPoint; bestF1: ThresholdPoint } {
  const n = set.labels.length;
  const isPos = Array.from(set.labels, (y) => y === 1);
  const cm = confusionMatrix(set, threshold);
  const tp = cm[1]![1]!;
  const fp = cm[0]![1]!;
  const fn = cm[1]![0]!;
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const chosen = { threshold, precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall), flagged: (tp + fp) / n };
  const curve = prCurve(isPos, column(set, 1));
  const positives = isPos.filter(Boolean).length;
  let best: ThresholdPoint = { ...chosen };
  for (let j = 1; j < curve.recall.length; j++) {
    const p = curve.precision[j]!;
    const r = curve.recall[j]!;
    const f1 = p + r === 0 ? 0 : (2 * p * r) / (p + r);
    if (f1 > best.f1) best = { threshold: curve.thresholds[j]!, precision: p, recall: r, f1, flagged: (r * positives) / p / n };
  }
  return { chosen, bestF1: best };
}
