/**
 * Realistic report inputs for the tests.
 *
 * - `committedInput()`: the pipeline's committed DVC files (a snapshot in fixtures/committed: metrics/eval/*.json,
 *   plots/<model>/{roc,confusion}.json, metrics/data_quality.json, commit 92c97bd), as the report stage would read
 *   them when evaluate wrote no predictions: no intervals, no PR curves.
 * - `tinyModelsInput()`: three tiny real models (two logistic regressions on different features, a one-hidden-layer
 *   MLP) trained by full-batch gradient descent on a seeded synthetic flights-like table (20% delayed), with a
 *   per-epoch train/valid history, early stopping, test predictions, eval files computed the evaluate stage's way,
 *   and the committed data-quality file. Takes well under a second.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReportInput } from '../src/index.js';
import { computeMetrics, seededRandom } from '../src/index.js';

const here = import.meta.dirname;
export const committedDir = join(here, 'fixtures/committed');
const readJson = (file: string): unknown => JSON.parse(readFileSync(join(committedDir, file), 'utf8'));
export const MODELS = ['logreg', 'mlp_small', 'mlp_wide'] as const;
/** `data/raw/flights.parquet` in dvc.lock. */
export const DATA_MD5 = '901eadf99cebf2b2405b33077404882d';

export function committedInput(): ReportInput {
  return {
    title: 'Flights delay: model comparison (committed DVC files)',
    metric: 'roc_auc',
    classes: ['on_time', 'delayed'],
    dataset: { name: 'flights', path: 'data/raw/flights.parquet', md5: DATA_MD5, quality: readJson('metrics/data_quality.json') as never, sources: { md5: 'dvc.lock', quality: 'metrics/data_quality.json' } },
    models: MODELS.map((name) => ({
      name,
      eval: readJson(`metrics/eval/${name}.json`) as never,
      roc: readJson(`plots/${name}/roc.json`) as never,
      confusion: readJson(`plots/${name}/confusion.json`) as never,
      sources: { eval: `metrics/eval/${name}.json`, roc: `plots/${name}/roc.json`, confusion: `plots/${name}/confusion.json` },
    })),
  };
}

interface Table {
  x: Float64Array[];
  y: number[];
}

/** Synthetic flights: departure hour, distance, weekday; delays likelier in the evening, on Fridays, and a little on long flights. */
function flights(rows: number, rand: () => number): Table {
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const x: Float64Array[] = [];
  const y: number[] = [];
  for (let i = 0; i < rows; i++) {
    const hour = Math.floor(6 + rand() * 17);
    const distance = Math.max(50, 800 + 500 * gauss());
    const weekday = Math.floor(rand() * 7);
    const logit = -1.75 + 0.09 * (hour - 14) + 0.00025 * (distance - 800) + (weekday === 4 ? 0.5 : 0) + 0.9 * Math.sin(hour / 3) * 0.4 + 0.6 * gauss();
    y.push(rand() < 1 / (1 + Math.exp(-logit)) ? 1 : 0);
    // standardised features: hour, distance, is_friday, hour², sin(hour/3) …
    const h = (hour - 14) / 5;
    // … and 10 columns of pure noise (one-hot airports in the real table carry little signal): room to overfit.
    x.push(Float64Array.from([h, (distance - 800) / 500, weekday === 4 ? 1 : 0, h * h, Math.sin(hour / 3), ...Array.from({ length: 10 }, gauss)]));
  }
  return { x, y };
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

interface Model {
  forward(x: Float64Array): number;
  step(data: Table, lr: number, weight: (y: number) => number): void;
  params: number;
}

/** Logistic regression on a subset of the features. */
function logreg(features: number[], rand: () => number): Model {
  const w = features.map(() => (rand() - 0.5) * 0.01);
  let b = 0;
  const forward = (x: Float64Array) => sigmoid(b + features.reduce((s, f, j) => s + w[j]! * x[f]!, 0));
  return {
    forward,
    params: w.length + 1,
    step(data, lr, weight) {
      const g = w.map(() => 0);
      let gb = 0;
      let total = 0;
      data.x.forEach((x, i) => {
        const cw = weight(data.y[i]!);
        const e = (forward(x) - data.y[i]!) * cw;
        features.forEach((f, j) => (g[j]! += e * x[f]!));
        gb += e;
        total += cw;
      });
      features.forEach((_, j) => (w[j]! -= (lr * g[j]!) / total));
      b -= (lr * gb) / total;
    },
  };
}

/** One hidden tanh layer of `hidden` units on the first `d` features. */
function mlp(hidden: number, d: number, rand: () => number): Model {
  const W = Array.from({ length: hidden }, () => Float64Array.from({ length: d }, () => (rand() - 0.5) * 1.2));
  const c = new Float64Array(hidden);
  const v = Float64Array.from({ length: hidden }, () => (rand() - 0.5) * 1.2);
  let b = 0;
  const hiddenOf = (x: Float64Array) => W.map((row, k) => Math.tanh(c[k]! + row.reduce((s, wk, j) => s + wk * x[j]!, 0)));
  const forward = (x: Float64Array) => sigmoid(b + hiddenOf(x).reduce((s, h, k) => s + v[k]! * h, 0));
  return {
    forward,
    params: hidden * (d + 2) + 1,
    step(data, lr, weight) {
      const gW = W.map(() => new Float64Array(d));
      const gc = new Float64Array(hidden);
      const gv = new Float64Array(hidden);
      let gb = 0;
      let total = 0;
      data.x.forEach((x, i) => {
        const cw = weight(data.y[i]!);
        const h = hiddenOf(x);
        const p = sigmoid(b + h.reduce((s, hk, k) => s + v[k]! * hk, 0));
        const e = (p - data.y[i]!) * cw;
        gb += e;
        total += cw;
        h.forEach((hk, k) => {
          gv[k]! += e * hk;
          const dh = e * v[k]! * (1 - hk * hk);
          gc[k]! += dh;
          for (let j = 0; j < d; j++) gW[k]![j]! += dh * x[j]!;
        });
      });
      for (let k = 0; k < hidden; k++) {
        v[k]! -= (lr * gv[k]!) / total;
        c[k]! -= (lr * gc[k]!) / total;
        for (let j = 0; j < d; j++) W[k]![j]! -= (lr * gW[k]![j]!) / total;
      }
      b -= (lr * gb) / total;
    },
  };
}

function lossAndAccuracy(m: Model, t: Table): { loss: number; accuracy: number } {
  let loss = 0;
  let hits = 0;
  t.x.forEach((x, i) => {
    const p = Math.min(Math.max(m.forward(x), 1e-7), 1 - 1e-7);
    loss -= t.y[i] ? Math.log(p) : Math.log(1 - p);
    if ((p > 0.5 ? 1 : 0) === t.y[i]) hits++;
  });
  return { loss: loss / t.y.length, accuracy: hits / t.y.length };
}

export interface TinyModels {
  input: ReportInput;
  /** The test labels and each model's positive-class probabilities (for oracle checks). */
  test: { labels: number[]; scores: Record<string, number[]> };
  trainPrior: number[];
}

/** Trains the three tiny models and returns a full report input (every section has data). */
export function tinyModelsInput(options: { trainRows?: number; testRows?: number; epochs?: number } = {}): TinyModels {
  const rand = seededRandom(7);
  const train = flights(options.trainRows ?? 2500, rand);
  const valid = flights(1000, rand);
  const test = flights(options.testRows ?? 3000, rand);
  const pos = train.y.filter((y) => y === 1).length;
  const trainPrior = [1 - pos / train.y.length, pos / train.y.length];
  // Class weights as the pipeline's `classWeight: sqrt`: sqrt of scikit-learn's balanced weights.
  const weight = (y: number) => Math.sqrt(train.y.length / (2 * (y ? pos : train.y.length - pos)));
  const specs = [
    { name: 'logreg', make: () => logreg([0], rand), lr: 0.5, params: { model: { type: 'logreg', l2: 0 }, train: { learningRate: 0.5, features: 'hour' } } },
    { name: 'mlp_small', make: () => mlp(4, 5, rand), lr: 0.8, params: { model: { type: 'mlp', layers: [4], activation: 'tanh' }, train: { learningRate: 0.8, features: 'hour, distance, friday, hour², sin(hour/3)' } } },
    // Trained on 150 rows only, with a high learning rate: it overfits, and early stopping has to catch it.
    { name: 'mlp_wide', make: () => mlp(32, 15, rand), lr: 0.8, rows: 150, params: { model: { type: 'mlp', layers: [32], activation: 'tanh' }, train: { learningRate: 0.8, features: 'all + 10 noise', rows: 150 } } },
  ];
  const epochs = options.epochs ?? 60;
  const scores: Record<string, number[]> = {};
  const models = specs.map((s) => {
    const m = s.make();
    const history: { epoch: number; loss: number; accuracy: number; valLoss: number; valAccuracy: number; improved: boolean }[] = [];
    let best = Number.POSITIVE_INFINITY;
    let since = 0;
    const own = 'rows' in s && s.rows ? { x: train.x.slice(0, s.rows), y: train.y.slice(0, s.rows) } : train;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      m.step(own, s.lr, weight);
      const t = lossAndAccuracy(m, own);
      const v = lossAndAccuracy(m, valid);
      const improved = v.loss < best - 1e-4;
      if (improved) {
        best = v.loss;
        since = 0;
      } else since++;
      history.push({ epoch, loss: t.loss, accuracy: t.accuracy, valLoss: v.loss, valAccuracy: v.accuracy, improved });
      if (since >= 8) break;
    }
    const p1 = test.x.map((x) => m.forward(x));
    scores[s.name] = p1;
    const probabilities = p1.map((p) => [1 - p, p]);
    const proba = Float64Array.from(probabilities.flat());
    const mv = computeMetrics({ labels: test.y, proba, k: 2 });
    const baseProba = Float64Array.from(test.y.flatMap(() => trainPrior));
    const bv = computeMetrics({ labels: test.y, proba: baseProba, k: 2 });
    const evalFile = {
      model: s.name,
      task: 'binary' as const,
      average: 'binary',
      rows: test.y.length,
      ...mv,
      baseline: { name: 'majority_class', ...bv },
    };
    return {
      name: s.name,
      params: s.params,
      eval: evalFile,
      history,
      predictions: { format: 'mlops-ts.predictions/1' as const, model: s.name, classes: ['on_time', 'delayed'], labels: test.y, probabilities },
      cost: { trainSeconds: 0.8 + m.params * history.length * 0.002, rowsPerSecond: Math.round(4_000_000 / m.params), modelBytes: m.params * 4 + 1800, epochs: history.length },
      links: { mlflowRunUrl: `http://127.0.0.1:5000/#/experiments/1/runs/${s.name}0000`, clearmlOfflineSession: `.mlops/clearml-offline/${s.name}.zip` },
      sources: {
        eval: `metrics/eval/${s.name}.json`,
        history: `models/${s.name}/history.json`,
        predictions: `predictions/${s.name}.json`,
        params: `models/${s.name}/model-meta.json`,
        cost: `.mlops/runs/${s.name}.json + models/${s.name}/`,
      },
    };
  });
  const dq = JSON.parse(readFileSync(join(committedDir, 'metrics/data_quality.json'), 'utf8')) as Record<string, unknown>;
  const input: ReportInput = {
    title: 'Flights delay: model comparison',
    generatedAt: '2026-12-02T03:00:00Z',
    git: { commit: '92c97bda36197e63714d7f478e0ba8fb9b69ce02', branch: 'main' },
    metric: 'roc_auc',
    classes: ['on_time', 'delayed'],
    threshold: 0.5,
    bootstrap: { resamples: 300, seed: 42 },
    baseline: { name: 'majority_class', prior: trainPrior },
    dataset: {
      name: 'flights',
      path: 'data/raw/flights.parquet',
      md5: DATA_MD5,
      splits: { train: train.y.length, valid: valid.y.length, test: test.y.length },
      quality: dq as never,
      sources: { md5: 'dvc.lock', quality: 'metrics/data_quality.json', splits: 'data/features/meta.json' },
    },
    models,
    dvc: {
      metricsDiff: {
        against: 'HEAD~1',
        diff: {
          'metrics/eval/mlp_wide.json': { roc_auc: { old: 0.6412, new: models[2]!.eval.roc_auc, diff: models[2]!.eval.roc_auc - 0.6412 }, accuracy: { old: 0.78, new: models[2]!.eval.accuracy, diff: models[2]!.eval.accuracy - 0.78 } },
        },
      },
      expShow: {
        rows: [
          { kind: 'workspace', rev: 'workspace', name: null, state: 'success', params: { 'params.yaml': { 'models.mlp_small.dropout': 0 } }, metrics: { 'metrics/eval/mlp_small.json': { roc_auc: models[1]!.eval.roc_auc } } },
          { kind: 'baseline', rev: '92c97bda36197e63714d7f478e0ba8fb9b69ce02', name: 'main', state: 'success', params: { 'params.yaml': { 'models.mlp_small.dropout': 0 } }, metrics: { 'metrics/eval/mlp_small.json': { roc_auc: 0.6474 } } },
          { kind: 'experiment', rev: '5d1c0a9e0b7e2f6a8c3d4b1a0f9e8d7c6b5a4f3e', name: 'dropout-02', state: 'success', params: { 'params.yaml': { 'models.mlp_small.dropout': 0.2 } }, metrics: { 'metrics/eval/mlp_small.json': { roc_auc: 0.6491 } } },
        ],
      },
    },
    trackers: [
      { name: 'MLflow', status: 'online', url: 'http://127.0.0.1:5000/', detail: 'experiment flights-delay' },
      { name: 'ClearML', status: 'offline', detail: 'offline sessions in .mlops/clearml-offline' },
    ],
  };
  return { input, test: { labels: test.y, scores }, trainPrior };
}
