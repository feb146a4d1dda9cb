import { ParamsError } from './errors.js';
import { parseModelParams, parseModelsParams, parseTrainParams, resolveTrainParams } from './params.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ParamsError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  throw new Error('expected a ParamsError');
}

describe('model params', () => {
  it('fills defaults for logreg and mlp', () => {
    const models = parseModelsParams({
      logreg: { type: 'logreg' },
      mlp_small: { type: 'mlp', layers: [32, 16], dropout: 0.1, l2: 1e-4 },
    });
    expect(models['logreg']).toEqual({ type: 'logreg', l2: 0 });
    expect(models['mlp_small']).toEqual({ type: 'mlp', layers: [32, 16], activation: 'relu', dropout: 0.1, l2: 1e-4 });
  });

  it('names the key path of each bad value', () => {
    const problems = problemsOf(() =>
      parseModelsParams({
        mlp_small: { type: 'mlp', layers: [32, 0, 2.5], dropout: 1, activation: 'softmax', dropuot: 0.2 },
        svm: { type: 'svm' },
        logreg: { type: 'logreg', l2: -1 },
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'models.mlp_small.dropout: must be < 1 (got 1)',
        'models.mlp_small.layers[1]: must be >= 1 (got 0)',
        'models.mlp_small.layers[2]: must be an integer (got 2.5)',
        expect.stringMatching(/^models\.mlp_small\.activation: must be one of "relu", .* \(got "softmax"\)$/),
        'models.mlp_small: unknown key "dropuot"',
        'models.svm.type: must be one of "logreg", "mlp" (got "svm")',
        'models.logreg.l2: must be >= 0 (got -1)',
      ]),
    );
    expect(problems).toHaveLength(7);
  });

  it('reports a missing type and a missing layers list', () => {
    expect(problemsOf(() => parseModelParams({ layers: [4] }, 'models.m'))).toEqual(['models.m.type: must be one of "logreg", "mlp" (got nothing)']);
    expect(problemsOf(() => parseModelParams({ type: 'mlp' }, 'models.m'))).toEqual(['models.m.layers: is required (a list)']);
    expect(problemsOf(() => parseModelParams({ type: 'mlp', layers: [] }, 'models.m'))).toEqual(['models.m.layers: must have at least 1 item']);
  });

  it('the error message lists every problem', () => {
    expect(() => parseModelsParams({ a: { type: 'mlp', layers: 'wide' } })).toThrow(/invalid models params:\n {2}models\.a\.layers: must be a list \(got "wide"\)/);
    expect(() => parseModelsParams({})).toThrow(/at least one model/);
  });
});

describe('train params', () => {
  it('has defaults for every key', () => {
    expect(parseTrainParams(undefined)).toEqual({
      batchSize: 256,
      epochs: 20,
      learningRate: 0.001,
      optimizer: 'adam',
      earlyStopping: { patience: 5, minDelta: 0, restoreBestWeights: true },
      seed: 42,
      backend: 'auto',
      classWeight: 'none',
    });
    expect(parseTrainParams({ earlyStopping: false }).earlyStopping).toBe(false);
  });

  it('rejects bad values with their key path', () => {
    expect(problemsOf(() => parseTrainParams({ batchSize: 0, optimizer: 'lbfgs', backend: 'gpu', earlyStopping: { patience: 0 } }))).toEqual(
      expect.arrayContaining([
        'train.batchSize: must be >= 1 (got 0)',
        'train.optimizer: must be one of "adam", "sgd", "rmsprop", "adagrad" (got "lbfgs")',
        'train.backend: must be one of "auto", "wasm", "cpu", "tensorflow" (got "gpu")',
      ]),
    );
    expect(problemsOf(() => parseTrainParams({ learningRate: 0 }))).toEqual(['train.learningRate: must be > 0 (got 0)']);
  });

  it('applies per-model overrides', () => {
    const base = parseTrainParams({ epochs: 10 });
    const model = parseModelParams({ type: 'logreg', train: { learningRate: 0.05, epochs: 3 } });
    const merged = resolveTrainParams(base, model);
    expect(merged.learningRate).toBe(0.05);
    expect(merged.epochs).toBe(3);
    expect(merged.batchSize).toBe(base.batchSize);
    expect(problemsOf(() => parseModelParams({ type: 'logreg', train: { epochs: -1 } }, 'models.lr'))).toEqual(['models.lr.train.epochs: must be >= 1 (got -1)']);
  });
});
