/**
 * Pins the numbers of training: the same data, params and seed must give the results recorded in
 * fixtures/golden-training.json (written by the training loop before its speed-ups, wasm backend), in two ways:
 * - a short run (3 optimizer steps, the last one shorter) gives the recorded weights within 1e-5: a change of the
 *   math (loss, gradients, dropout masks, class weights, optimizer, batch order) moves them by far more, while one
 *   that only reorders floating-point sums (another matmul kernel) stays within it;
 * - the full run gives the recorded per-epoch metrics within a tolerance (loss ±0.01, accuracy ±0.03). Over tens
 *   of steps rounding differences grow (Adam divides by the gradient's own size, the clipped cross-entropy switches
 *   rows on and off), so the weights of a long run are not compared one by one.
 * Regenerate only for an intended change of results: UPDATE_GOLDEN=1 npx vitest run tests/golden.test.ts
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildModel, parseModelParams, parseTrainParams, selectBackend, train, type Dataset } from '../src/index.js';
import { blobs3, separableBinary } from './synthetic.js';

const fixture = join(import.meta.dirname, 'fixtures', 'golden-training.json');
const update = process.env['UPDATE_GOLDEN'] === '1';

interface Case {
  name: string;
  model: Record<string, unknown>;
  train: Record<string, unknown>;
  data: () => { train: Dataset; valid: Dataset; classes: string[] };
}
interface Golden {
  shortWeights: number[][];
  weights: number[][];
  loss: number[];
  accuracy: number[];
  valLoss: number[];
}

const cases: Case[] = [
  {
    // fused relu layers, dropout (per-batch seeded masks), L2, class weights, Adam, a last batch shorter than the rest
    name: 'binary mlp relu dropout l2 class-weights adam',
    model: { type: 'mlp', layers: [16, 8], activation: 'relu', dropout: 0.2, l2: 1e-3 },
    train: { epochs: 3, batchSize: 32, learningRate: 0.01, optimizer: 'adam', classWeight: 'balanced', classWeightMaxRatio: 10, earlyStopping: false, seed: 5 },
    data: () => ({ train: separableBinary(300, 6, 1), valid: separableBinary(80, 6, 2), classes: ['0', '1'] }),
  },
  {
    // softmax output, an activation the matmul kernel does not fuse, RMSprop
    name: 'multiclass mlp tanh rmsprop',
    model: { type: 'mlp', layers: [8], activation: 'tanh' },
    train: { epochs: 2, batchSize: 16, learningRate: 0.01, optimizer: 'rmsprop', earlyStopping: false, seed: 9 },
    data: () => ({ train: blobs3(150, 4, 3), valid: blobs3(60, 4, 4), classes: ['a', 'b', 'c'] }),
  },
  {
    name: 'logreg l2 sgd',
    model: { type: 'logreg', l2: 1e-4 },
    train: { epochs: 2, batchSize: 64, learningRate: 0.05, optimizer: 'sgd', earlyStopping: false, seed: 3 },
    data: () => ({ train: separableBinary(200, 5, 7), valid: separableBinary(50, 5, 8), classes: ['0', '1'] }),
  },
  {
    // selu/elu/gelu/swish go through the layer's own activation; elu is fused by the matmul kernel
    name: 'binary mlp elu+dropout adagrad',
    model: { type: 'mlp', layers: [6, 6], activation: 'elu', dropout: 0.3 },
    train: { epochs: 2, batchSize: 25, learningRate: 0.05, optimizer: 'adagrad', earlyStopping: false, seed: 11 },
    data: () => ({ train: separableBinary(120, 4, 5), valid: separableBinary(40, 4, 6), classes: ['0', '1'] }),
  },
];

async function fit(c: Case, trainSet: Dataset, valid: Dataset, classes: string[], overrides: Record<string, unknown>) {
  const params = parseTrainParams({ ...c.train, ...overrides });
  const model = buildModel(parseModelParams(c.model), { inputDim: trainSet.cols, classes, seed: params.seed });
  const result = await train({ model, train: trainSet, valid, params, log: () => {} });
  const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
  model.dispose();
  return { result, weights };
}

/** The first `rows` rows of a split. */
function head(data: Dataset, rows: number): Dataset {
  return { x: data.x.slice(0, rows * data.cols), y: data.y.slice(0, rows), rows, cols: data.cols };
}

async function runCase(c: Case): Promise<Golden> {
  const { train: trainSet, valid, classes } = c.data();
  const batchSize = c.train['batchSize'] as number;
  const short = await fit(c, head(trainSet, batchSize * 3 - 5), valid, classes, { epochs: 1 });
  const { result, weights } = await fit(c, trainSet, valid, classes, {});
  return {
    shortWeights: short.weights,
    weights,
    loss: result.history.map((h) => h.loss),
    accuracy: result.history.map((h) => h.accuracy),
    valLoss: result.history.map((h) => h.valLoss!),
  };
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('training results are pinned (same seed → the recorded weights)', () => {
  const results: Record<string, Golden> = {};
  afterAll(async () => {
    if (update) await writeFile(fixture, `${JSON.stringify(results, null, 1)}\n`);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const got = await runCase(c);
      results[c.name] = got;
      if (update) return;
      const golden = (JSON.parse(await readFile(fixture, 'utf8')) as Record<string, Golden>)[c.name];
      expect(golden, `no golden entry for "${c.name}" in ${fixture}`).toBeDefined();
      expect(got.shortWeights.map((w) => w.length)).toEqual(golden!.shortWeights.map((w) => w.length));
      let worst = 0;
      got.shortWeights.forEach((w, i) => w.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - golden!.shortWeights[i]![j]!)))));
      expect(worst, 'largest weight difference from the recorded 3-step run').toBeLessThan(1e-5);
      expect(got.loss).toHaveLength(golden!.loss.length);
      got.loss.forEach((v, i) => expect(Math.abs(v - golden!.loss[i]!), `loss of epoch ${i + 1}`).toBeLessThan(0.01));
      got.valLoss.forEach((v, i) => expect(Math.abs(v - golden!.valLoss[i]!), `valLoss of epoch ${i + 1}`).toBeLessThan(0.01));
      got.accuracy.forEach((v, i) => expect(Math.abs(v - golden!.accuracy[i]!), `accuracy of epoch ${i + 1}`).toBeLessThan(0.03));
    });
  }
});
