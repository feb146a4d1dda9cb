// The training loop's fast path against what it replaces: FlatAdam against tf.train.adam (bit for bit), the ops
// forward against model.apply (same values, same gradients up to the order of float sums, same dropout masks).
import * as tf from '@tensorflow/tfjs';
import { FlatAdam } from '../src/adam.js';
import { trainingForward } from '../src/forward.js';
import { buildModel, parseModelParams, selectBackend } from '../src/index.js';
import { separableBinary } from './synthetic.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('FlatAdam', () => {
  it('gives exactly the weights of tf.train.adam over several steps', () => {
    const shapes = [[5, 3], [3], [3, 1], [1]];
    const init = shapes.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', i + 1));
    const a = init.map((t) => tf.variable(t.clone()));
    const b = init.map((t) => tf.variable(t.clone()));
    const reference = tf.train.adam(0.01);
    const flat = new FlatAdam(b, 0.01);
    for (let step = 0; step < 6; step++) {
      const grads = shapes.map((s, i) => tf.randomNormal(s, 0, step + 1, 'float32', 100 * step + i));
      reference.applyGradients(a.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
      flat.apply(grads);
      tf.dispose(grads);
    }
    a.forEach((v, i) => expect(Array.from(b[i]!.dataSync())).toEqual(Array.from(v.dataSync())));
    reference.dispose();
    flat.dispose();
    tf.dispose([...a, ...b, ...init]);
  });

  it('leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    const v = [tf.tidy(() => tf.variable(tf.zeros([4, 2])))];
    const flat = new FlatAdam(v, 0.1);
    tf.tidy(() => flat.apply([tf.ones([4, 2])]));
    flat.dispose();
    tf.dispose(v);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('trainingForward', () => {
  it('matches model.apply in training mode: values, gradients, dropout masks, and the L2 penalty is there', () => {
    for (const spec of [
      { type: 'logreg', l2: 1e-3 },
      { type: 'mlp', layers: [16, 8], activation: 'relu', dropout: 0.3, l2: 1e-3 },
      { type: 'mlp', layers: [6], activation: 'tanh' },
    ]) {
      const model = buildModel(parseModelParams(spec), { inputDim: 6, classes: ['0', '1'], seed: 5 });
      const forward = trainingForward(model);
      expect(forward, spec.type).not.toBeNull();
      const dropouts = model.layers.filter((l) => l.getClassName() === 'Dropout') as unknown as { seed?: number }[];
      const seeds = dropouts.map((_, i) => 1000 + i);
      const d = separableBinary(64, 6, 1);
      const x = tf.tensor2d(d.x, [64, 6]);
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      // the fast path first: it must find the regularisers itself, before any model.apply built the model's graph
      const penalty = () => model.calculateLosses();
      const fast = tf.variableGrads(() => tf.addN([forward!(x, seeds).square().sum(), ...penalty()]) as tf.Scalar, vars);
      dropouts.forEach((l, i) => (l.seed = seeds[i]));
      const slow = tf.variableGrads(() => tf.addN([(model.apply(x, { training: true }) as tf.Tensor).square().sum(), ...penalty()]) as tf.Scalar, vars);
      expect(fast.value.dataSync()[0]).toBeCloseTo(slow.value.dataSync()[0]!, 4);
      for (const v of vars) {
        const f = fast.grads[v.name]!.dataSync();
        const s = slow.grads[v.name]!.dataSync();
        s.forEach((g, i) => expect(Math.abs(f[i]! - g), `${spec.type} ${v.name}[${i}]`).toBeLessThan(1e-5 * Math.max(1, Math.abs(g))));
      }
      tf.dispose([x, fast.value, slow.value, ...Object.values(fast.grads), ...Object.values(slow.grads)]);
      model.dispose();
    }
  });

  it('is null for a model it does not know (training falls back to model.apply)', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] }), tf.layers.batchNormalization(), tf.layers.dense({ units: 1, activation: 'sigmoid' })] });
    expect(trainingForward(model)).toBeNull();
    model.dispose();
  });
});
