import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  averagePrecision,
  computeMetrics,
  pairedBootstrap,
  prCurve,
  predictionsRecord,
  quantile,
  ReportError,
  ReportStatsError,
  rocAuc,
  rocCurve,
  seededRandom,
  type PredictionSet,
} from '../src/index.js';
import { tinyModelsInput } from './fixture.js';

const binary = (labels: number[], scores: number[]): PredictionSet => ({ labels, proba: Float64Array.from(scores.flatMap((s) => [1 - s, s])), k: 2 });

describe('predictionsRecord (the file evaluate writes)', () => {
  it('rounds to 6 digits, validates, and moves the metrics by less than 1e-5', () => {
    const f = tinyModelsInput({ testRows: 1000, epochs: 10 });
    const m = f.input.models[1]!;
    const proba = Float32Array.from(m.predictions!.probabilities.flat());
    const rec = predictionsRecord({ model: m.name, classes: ['on_time', 'delayed'], labels: m.predictions!.labels, proba });
    expect(rec.format).toBe('mlops-ts.predictions/1');
    expect(rec.probabilities[0]!.every((p) => Math.round(p * 1e6) / 1e6 === p)).toBe(true);
    const full = computeMetrics({ labels: m.predictions!.labels, proba, k: 2 });
    const rounded = computeMetrics({ labels: rec.labels, proba: Float64Array.from(rec.probabilities.flat()), k: 2 });
    for (const k of ['roc_auc', 'accuracy', 'f1', 'log_loss'] as const) expect(Math.abs(full[k] - rounded[k]), k).toBeLessThan(1e-5);
    expect(JSON.stringify(rec).length / rec.labels.length).toBeLessThan(30);
    expect(() => predictionsRecord({ model: 'x', classes: ['a', 'b'], labels: [0, 1], proba: [0.5, 0.5] })).toThrow(/2 probabilities for 2 rows × 2 classes/);
  });
});

describe('seeded PRNG', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const a = seededRandom(1);
    const b = seededRandom(1);
    const c = seededRandom(2);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('ROC AUC, hand-computed', () => {
  it('4 rows, no ties: 3 of 4 positive-negative pairs ordered right = 0.75', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
    expect(computeMetrics(binary([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).roc_auc).toBeCloseTo(0.75, 12);
  });
  it('a tie counts one half: (0.5 + 1 + 1 + 1) / 4 = 0.875', () => {
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).toBeCloseTo(0.875, 12);
    expect(computeMetrics(binary([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).roc_auc).toBeCloseTo(0.875, 12);
  });
  it('the curve goes from (0,0) to (1,1), one point per distinct score', () => {
    const c = rocCurve([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]);
    expect(c.fpr).toEqual([0, 0, 0.5, 1]);
    expect(c.tpr).toEqual([0, 0.5, 1, 1]);
    expect(c.thresholds).toEqual([Number.POSITIVE_INFINITY, 0.9, 0.5, 0.2]);
  });
  it('is NaN with one class only', () => {
    expect(rocAuc([1, 1], [0.2, 0.3])).toBeNaN();
  });
});

describe('metrics at the threshold', () => {
  it('0.5 is the most probable class; another threshold moves precision and recall', () => {
    const p = binary([0, 0, 1, 1, 1], [0.2, 0.6, 0.4, 0.7, 0.9]);
    const at5 = computeMetrics(p);
    expect(at5.accuracy).toBeCloseTo(3 / 5);
    expect(at5.precision).toBeCloseTo(2 / 3);
    expect(at5.recall).toBeCloseTo(2 / 3);
    const at3 = computeMetrics(p, 0.3);
    expect(at3.recall).toBe(1);
    expect(at3.precision).toBeCloseTo(3 / 4);
  });
});

describe('paired bootstrap', () => {
  it('accuracy interval matches the analytic binomial standard error', () => {
    const n = 4000;
    const rand = seededRandom(3);
    const labels = Array.from({ length: n }, () => (rand() < 0.5 ? 1 : 0));
    // Right with probability 0.8 per row.
    const scores = labels.map((y) => (rand() < 0.8 ? (y ? 0.7 : 0.3) : y ? 0.3 : 0.7));
    const r = pairedBootstrap([{ name: 'm', predictions: binary(labels, scores) }], { resamples: 2000, seed: 1, metrics: ['accuracy'] });
    const acc = r.models['m']!.accuracy;
    const se = Math.sqrt((acc.estimate * (1 - acc.estimate)) / n);
    expect(acc.se / se).toBeGreaterThan(0.9);
    expect(acc.se / se).toBeLessThan(1.1);
    expect(acc.lo).toBeCloseTo(acc.estimate - 1.96 * se, 2);
    expect(acc.hi).toBeCloseTo(acc.estimate + 1.96 * se, 2);
  });

  it('is reproducible with a seed and pairs rows: a model against itself differs by exactly 0', () => {
    const f = tinyModelsInput({ testRows: 800, epochs: 10 });
    const m = f.input.models[0]!;
    const p = { labels: m.predictions!.labels, proba: Float64Array.from(m.predictions!.probabilities.flat()), k: 2 };
    const a = pairedBootstrap([{ name: 'a', predictions: p }, { name: 'b', predictions: p }], { resamples: 200, seed: 9 });
    const b = pairedBootstrap([{ name: 'a', predictions: p }, { name: 'b', predictions: p }], { resamples: 200, seed: 9 });
    expect(a).toEqual(b);
    const d = a.pairs.find((x) => x.metric === 'roc_auc')!;
    expect([d.estimate, d.lo, d.hi]).toEqual([0, 0, 0]);
    expect(d.significant).toBe(false);
  });

  it('finds a real difference significant and a tiny one not', () => {
    const n = 3000;
    const rand = seededRandom(5);
    const labels = Array.from({ length: n }, () => (rand() < 0.3 ? 1 : 0));
    const noisy = (strength: number) => labels.map((y) => 1 / (1 + Math.exp(-(strength * (y - 0.5) + (rand() - 0.5) * 4))));
    const good = noisy(3);
    const bad = noisy(0.5);
    const goodTwin = good.map((s) => Math.min(1, Math.max(0, s + (rand() - 0.5) * 1e-3)));
    const r = pairedBootstrap(
      [
        { name: 'good', predictions: binary(labels, good) },
        { name: 'bad', predictions: binary(labels, bad) },
        { name: 'twin', predictions: binary(labels, goodTwin) },
      ],
      { resamples: 300, metrics: ['roc_auc'] },
    );
    const pair = (a: string, b: string) => r.pairs.find((p) => p.a === a && p.b === b)!;
    expect(pair('good', 'bad').significant).toBe(true);
    expect(pair('good', 'bad').lo).toBeGreaterThan(0);
    expect(pair('good', 'twin').significant).toBe(false);
    expect(pair('good', 'twin').pValue).toBeGreaterThan(0.05);
  });

  it('refuses predictions of different test rows, with a typed error', () => {
    const a = binary([0, 1, 1], [0.1, 0.8, 0.6]);
    const b = binary([1, 1, 0], [0.1, 0.8, 0.6]);
    let caught: unknown;
    try {
      pairedBootstrap([{ name: 'a', predictions: a }, { name: 'b', predictions: b }]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ReportStatsError);
    expect(caught).toBeInstanceOf(ReportError);
    expect((caught as ReportStatsError).code).toBe('ERR_REPORT_STATS');
    expect((caught as Error).message).toMatch(/disagree on the label of row 0/);
  });

  it('quantile interpolates linearly like numpy', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.025)).toBeCloseTo(1.075);
  });
});

interface Oracle {
  [metric: string]: number | { [k: string]: number[] };
  roc: { fpr: number[]; tpr: number[] };
  pr: { precision: number[]; recall: number[] };
}

const python = join(import.meta.dirname, '../../../.venv/bin/python');

describe.runIf(existsSync(python))('against scikit-learn (the venv python as oracle)', () => {
  it('AUC, average precision, ROC and PR curves, accuracy, F1, log loss (binary and multiclass, with ties)', () => {
    const f = tinyModelsInput({ testRows: 1500, epochs: 15 });
    const cases = f.input.models.map((m) => ({ labels: m.predictions!.labels, proba: m.predictions!.probabilities }));
    // Rounded scores: many ties.
    cases.push({ labels: cases[0]!.labels, proba: cases[0]!.proba.map(([, p]) => [1 - Math.round(p! * 20) / 20, Math.round(p! * 20) / 20]) });
    // Three classes.
    const rand = seededRandom(11);
    const y3 = Array.from({ length: 600 }, () => Math.floor(rand() * 3));
    const p3 = y3.map((y) => {
      const raw = [0, 1, 2].map((c) => Math.exp((c === y ? 1.2 : 0) + rand() * 2));
      const s = raw.reduce((a, b) => a + b, 0);
      return raw.map((v) => v / s);
    });
    cases.push({ labels: y3, proba: p3 });
    const oracle = JSON.parse(execFileSync(python, [join(import.meta.dirname, 'sklearn_oracle.py')], { input: JSON.stringify({ cases }), encoding: 'utf8' })) as Oracle[];
    cases.forEach((c, i) => {
      const o = oracle[i]!;
      const k = c.proba[0]!.length;
      const mine = computeMetrics({ labels: c.labels, proba: Float64Array.from(c.proba.flat()), k });
      for (const key of ['roc_auc', 'accuracy', 'f1', 'precision', 'recall', 'log_loss'] as const) expect(mine[key], `${key} of case ${i}`).toBeCloseTo(o[key] as number, 10);
      if (k === 2) {
        const isPos = c.labels.map((y) => y === 1);
        const s = c.proba.map((r) => r[1]!);
        expect(averagePrecision(isPos, s)).toBeCloseTo(o['average_precision'] as number, 10);
        const roc = rocCurve(isPos, s);
        expect(roc.fpr.length).toBe(o.roc.fpr.length);
        roc.fpr.forEach((x, j) => expect(x).toBeCloseTo(o.roc.fpr[j]!, 12));
        roc.tpr.forEach((x, j) => expect(x).toBeCloseTo(o.roc.tpr[j]!, 12));
        // scikit-learn lists PR points by increasing threshold, ending at (recall 0, precision 1); ours run the other way.
        const pr = prCurve(isPos, s);
        expect([...pr.precision].reverse()).toHaveLength(o.pr.precision.length);
        [...pr.precision].reverse().forEach((x, j) => expect(x).toBeCloseTo(o.pr.precision[j]!, 12));
        [...pr.recall].reverse().forEach((x, j) => expect(x).toBeCloseTo(o.pr.recall[j]!, 12));
      }
    });
  });
});
