import * as tf from '@tensorflow/tfjs';
import {
  buildModel,
  DataShapeError,
  evaluate,
  TrainingError,
  parseModelParams,
  parseTrainParams,
  predictProba,
  selectBackend,
  train,
  trainClassifier,
  type EpochLog,
} from '../src/index.js';
import { blobs3, imbalanced, noise, separableBinary } from './synthetic.js';

const quiet = () => {};

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('training learns', () => {
  it('binary MLP on linearly separable data', async () => {
    const trainSet = separableBinary(1500, 8, 1);
    const valid = separableBinary(400, 8, 2);
    const lines: string[] = [];
    const { model, result } = await trainClassifier({
      model: parseModelParams({ type: 'mlp', layers: [16, 8], dropout: 0.1, l2: 1e-4 }),
      params: parseTrainParams({ epochs: 8, batchSize: 64, learningRate: 0.01, backend: 'wasm' }),
      train: trainSet,
      valid,
      classes: ['no', 'yes'],
      log: (line) => lines.push(line),
    });
    expect(lines[0]).toBe('backend: wasm');
    expect(lines[1]).toBe('plan: batch 64, 8 epochs × 24 steps on 1500 rows, early stopping on valLoss (patience 5)');
    expect(result.plan).toMatchObject({ batchSize: 64, epochs: 8, stepsPerEpoch: 24, derived: { batchSize: false, epochs: false } });
    expect(lines.filter((l) => l.startsWith('epoch '))).toHaveLength(result.epochsRun);
    expect(lines[2]).toBe('note: at most 192 optimizer steps (epochs 8 × 24 steps of 64 rows), fewer than minSteps 2000 (epochs: auto plans enough)');
    expect(lines[3]).toMatch(/^epoch 1\/8 loss=\d\.\d{4} acc=\d\.\d{4} val_loss=\d\.\d{4} val_acc=\d\.\d{4} /);
    expect(result.backend).toBe('wasm');
    expect(result.history.at(-1)!.loss).toBeLessThan(result.history[0]!.loss);
    const ev = evaluate(model, valid, ['no', 'yes']);
    expect(ev.accuracy).toBeGreaterThan(0.93);
    expect(ev.rocAuc).toBeGreaterThan(0.98);
    expect(ev.confusionMatrix.matrix.flat().reduce((a, b) => a + b, 0)).toBe(valid.rows);
    expect(ev.roc[0]!.fpr.length).toBeLessThanOrEqual(201);
    model.dispose();
  });

  it('3-class blobs with logistic regression and an MLP', async () => {
    const trainSet = blobs3(1200, 6, 3);
    const valid = blobs3(300, 6, 4);
    const params = parseTrainParams({ epochs: 8, batchSize: 64, learningRate: 0.02, backend: 'wasm' });
    for (const spec of [{ type: 'logreg' }, { type: 'mlp', layers: [12], activation: 'tanh' }]) {
      const { model } = await trainClassifier({ model: parseModelParams(spec), params, train: trainSet, valid, classes: ['a', 'b', 'c'], log: quiet });
      const ev = evaluate(model, valid, ['a', 'b', 'c']);
      expect(ev.task).toBe('multiclass');
      expect(ev.accuracy).toBeGreaterThan(0.85); // chance is 1/3
      expect(ev.rocAuc).toBeGreaterThan(0.95);
      expect(ev.roc).toHaveLength(3);
      model.dispose();
    }
  });
});

describe('class weights', () => {
  it('balanced weights raise the recall of a rare positive class', async () => {
    const trainSet = imbalanced(1500, 4, 21);
    const valid = imbalanced(600, 4, 22);
    const positives = Array.from(trainSet.y).filter((v) => v === 1).length / trainSet.rows;
    expect(positives).toBeGreaterThan(0.05);
    expect(positives).toBeLessThan(0.2);
    const recall = async (classWeight: 'none' | 'balanced', classWeightMaxRatio = 1e6) => {
      const { model } = await trainClassifier({
        model: parseModelParams({ type: 'logreg' }),
        params: parseTrainParams({ epochs: 6, batchSize: 32, learningRate: 0.02, classWeight, classWeightMaxRatio, backend: 'wasm' }),
        train: trainSet,
        valid,
        classes: ['0', '1'],
        log: quiet,
      });
      const ev = evaluate(model, valid, ['0', '1']);
      model.dispose();
      return ev.recall;
    };
    const plain = await recall('none');
    const balanced = await recall('balanced');
    expect(balanced).toBeGreaterThan(plain + 0.2);
    expect(balanced).toBeGreaterThan(0.6);
    // capped at 3× (the default ratio) the rare class still gains, by less
    const capped = await recall('balanced', 3);
    expect(capped).toBeGreaterThan(plain);
    expect(capped).toBeLessThanOrEqual(balanced);
  });
});

describe('reproducibility', () => {
  async function run(seed: number) {
    const trainSet = separableBinary(600, 6, 5);
    const valid = separableBinary(200, 6, 6);
    const { model, result } = await trainClassifier({
      model: parseModelParams({ type: 'mlp', layers: [8], dropout: 0.3 }),
      params: parseTrainParams({ epochs: 3, batchSize: 32, learningRate: 0.01, seed, backend: 'wasm' }),
      train: trainSet,
      valid,
      classes: ['0', '1'],
      log: quiet,
    });
    const proba = predictProba(model, valid.x, valid.rows);
    const ev = evaluate(model, valid, ['0', '1']);
    model.dispose();
    return { losses: result.history.map((h) => [h.loss, h.valLoss]), proba, ev };
  }

  it('same seed → identical training; another seed → different', async () => {
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(b.losses).toEqual(a.losses);
    expect(Array.from(b.proba)).toEqual(Array.from(a.proba));
    expect(b.ev.logLoss).toBe(a.ev.logLoss);
    expect(c.losses).not.toEqual(a.losses);
  });

  it('dropout is active in the training pass (training flag reaches the layers)', async () => {
    const model = buildModel(parseModelParams({ type: 'mlp', layers: [64], dropout: 0.5 }), { inputDim: 4, classes: ['0', '1'], seed: 3 });
    const x = tf.ones([1, 4]);
    const inference = (model.predict(x) as tf.Tensor).dataSync()[0];
    const training = (model.apply(x, { training: true }) as tf.Tensor).dataSync()[0];
    expect(training).not.toBe(inference);
    model.dispose();
    x.dispose();
  });

  it('a Dropout layer reads its seed at call time (what per-batch masks rely on)', () => {
    const model = buildModel(parseModelParams({ type: 'mlp', layers: [64], dropout: 0.5 }), { inputDim: 4, classes: ['0', '1'], seed: 3 });
    const dropout = model.layers.find((l) => l.getClassName() === 'Dropout') as unknown as { seed?: number };
    const x = tf.ones([1, 4]);
    const pass = (seed: number) => {
      dropout.seed = seed;
      return (model.apply(x, { training: true }) as tf.Tensor).dataSync()[0];
    };
    const a = pass(11);
    expect(pass(12)).not.toBe(a);
    expect(pass(11)).toBe(a);
    model.dispose();
    x.dispose();
  });
});

describe('early stopping', () => {
  it('stops on a plateau and restores the best weights', async () => {
    const trainSet = noise(600, 5, 9);
    const valid = noise(300, 5, 10);
    const model = buildModel(parseModelParams({ type: 'mlp', layers: [32] }), { inputDim: 5, classes: ['0', '1'], seed: 1 });
    const lines: string[] = [];
    const result = await train({
      model,
      train: trainSet,
      valid,
      params: parseTrainParams({ epochs: 60, batchSize: 32, learningRate: 0.01, earlyStopping: { patience: 3 } }),
      log: (l) => lines.push(l),
    });
    expect(result.stoppedEarly).toBe(true);
    expect(result.epochsRun).toBeLessThan(60);
    expect(result.epochsRun).toBe(result.bestEpoch + 3);
    expect(lines.some((l) => l.startsWith(`early stopping at epoch ${result.epochsRun}`))).toBe(true);
    // the model now holds the best epoch's weights: its validation loss is the best one recorded
    const best = result.history[result.bestEpoch - 1]!;
    expect(result.restoredBestWeights).toBe(true);
    expect(evaluate(model, valid, ['0', '1']).logLoss).toBeCloseTo(best.valLoss!, 5);
    expect(Math.min(...result.history.map((h) => h.valLoss!))).toBe(best.valLoss);
    model.dispose();
  });

  it('runs every epoch when disabled', async () => {
    const model = buildModel(parseModelParams({ type: 'logreg' }), { inputDim: 5, classes: ['0', '1'], seed: 1 });
    const result = await train({
      model,
      train: noise(200, 5, 1),
      valid: noise(100, 5, 2),
      params: parseTrainParams({ epochs: 6, batchSize: 50, learningRate: 0.05, earlyStopping: false }),
      log: quiet,
    });
    expect(result.epochsRun).toBe(6);
    expect(result.stoppedEarly).toBe(false);
    model.dispose();
  });
});

describe('epoch callback', () => {
  it('is not awaited during training, its failures are reported', async () => {
    const model = buildModel(parseModelParams({ type: 'logreg' }), { inputDim: 6, classes: ['0', '1'], seed: 2 });
    const epochs = 4;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: EpochLog[] = [];
    const finished: number[] = [];
    const result = await train({
      model,
      train: separableBinary(300, 6, 3),
      valid: separableBinary(100, 6, 4),
      params: parseTrainParams({ epochs, batchSize: 50, earlyStopping: false }),
      log: quiet,
      onEpochEnd: async (log) => {
        seen.push(log);
        // each callback waits until the last epoch has been reached: training that awaited them would hang here
        if (log.epoch === epochs) release();
        await gate;
        finished.push(log.epoch);
        if (log.epoch === 2) throw new Error('tracker down');
      },
    });
    expect(seen.map((s) => s.epoch)).toEqual([1, 2, 3, 4]);
    expect(finished.sort()).toEqual([1, 2, 3, 4]); // all awaited before train resolved
    expect(result.callbackErrors).toEqual(['onEpochEnd(epoch 2) failed: tracker down']);
    expect(seen[0]).toMatchObject({ epoch: 1, epochs: 4 });
    expect(seen[0]!.valAccuracy).toBeGreaterThan(0);
    model.dispose();
  }, 60_000);
});

describe('bad data', () => {
  it('names the split and the problem', async () => {
    const model = buildModel(parseModelParams({ type: 'logreg' }), { inputDim: 3, classes: ['0', '1'], seed: 1 });
    const params = parseTrainParams({ epochs: 1 });
    const good = separableBinary(10, 3, 1);
    await expect(train({ model, params, train: { ...good, y: good.y.map((v, i) => (i === 4 ? 2 : v)) }, log: quiet })).rejects.toThrow(
      new DataShapeError('train', 'label 2 at row 4 is outside 0..1'),
    );
    await expect(train({ model, params, train: good, valid: separableBinary(5, 4, 2), log: quiet })).rejects.toThrow(/valid data: has 4 feature columns, the model expects 3/);
    const nan = separableBinary(10, 3, 1);
    nan.x[7] = Number.NaN;
    await expect(train({ model, params, train: nan, log: quiet })).rejects.toThrow(/train data: feature 1 at row 2 is NaN/);
    await expect(train({ model, params, train: { ...good, rows: 11 }, log: quiet })).rejects.toThrow(/x has 30 values, expected rows × cols = 33/);
    model.dispose();
  });
});

describe('resources and divergence', () => {
  it('leaves no tensors behind (with dropout, L2, early stopping and validation)', async () => {
    const model = buildModel(parseModelParams({ type: 'mlp', layers: [8, 4], dropout: 0.2, l2: 1e-3 }), { inputDim: 4, classes: ['a', 'b', 'c'], seed: 1 });
    const before = tf.memory().numTensors;
    await train({
      model,
      train: blobs3(150, 4, 1),
      valid: blobs3(60, 4, 2),
      params: parseTrainParams({ epochs: 3, batchSize: 16, earlyStopping: { patience: 1 } }),
      log: quiet,
    });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('a run whose loss is not finite stops with a TrainingError naming the epoch', async () => {
    const model = buildModel(parseModelParams({ type: 'logreg' }), { inputDim: 3, classes: ['0', '1'], seed: 1 });
    // weights that have blown up (as after a divergence) make every loss NaN
    const broken = [tf.fill([3, 1], Number.NaN), tf.zeros([1])];
    model.setWeights(broken);
    tf.dispose(broken);
    const before = tf.memory().numTensors;
    const params = parseTrainParams({ epochs: 5, batchSize: 8 });
    const error = await train({ model, train: separableBinary(64, 3, 1), params, log: quiet }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingError);
    expect((error as TrainingError).message).toBe('weights of output/kernel became NaN or infinite at epoch 1 (try a lower learning rate)');
    expect((error as TrainingError).epoch).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

