import { ParamsError } from '../src/errors.js';
import { parseModelParams, parseModelsParams, parseTrainParams, resolveTrainParams } from '../src/params.js';

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
      batchSize: 'auto',
      epochs: 'auto',
      minSteps: 2000,
      maxEpochs: 200,
      learningRate: 0.001,
      optimizer: 'adam',
      earlyStopping: { patience: 5, minDelta: 0, restoreBestWeights: true },
      seed: 42,
      backend: 'auto',
      classWeight: 'none',
      classWeightMaxRatio: 3,
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

  it('takes "auto" or a number for batchSize and epochs, and says which when given neither', () => {
    expect(parseTrainParams({ batchSize: 'auto', epochs: 12 })).toMatchObject({ batchSize: 'auto', epochs: 12 });
    expect(problemsOf(() => parseTrainParams({ batchSize: 'big', epochs: 2.5, minSteps: 0, classWeight: 'inverse', classWeightMaxRatio: 0.5 }))).toEqual([
      'train.batchSize: must be "auto" or an integer from 1 to 1000000 (got "big")',
      'train.epochs: must be an integer (got 2.5)',
      'train.minSteps: must be >= 1 (got 0)',
      'train.classWeight: must be one of "none", "balanced", "sqrt" (got "inverse")',
      'train.classWeightMaxRatio: must be >= 1 (got 0.5)',
    ]);
    expect(problemsOf(() => parseTrainParams({ earlyStopping: true }))).toEqual([
      'train.earlyStopping: must be false or a mapping of patience, minDelta, restoreBestWeights (got true)',
    ]);
  });

  it('ParamsError names the params file when the caller gives it', () => {
    let error: ParamsError | undefined;
    try {
      parseTrainParams({ epochs: 0 }, 'train', { file: 'params.yaml' });
    } catch (e) {
      error = e as ParamsError;
    }
    expect(error).toBeInstanceOf(ParamsError);
    expect(error?.code).toBe('ERR_MODEL_TRAIN_PARAMS');
    expect(error?.file).toBe('params.yaml');
    expect(error?.message).toBe('invalid train params in params.yaml:\n  train.epochs: must be >= 1 (got 0)');
    expect(() => parseModelsParams({ m: { type: 'mlp' } }, 'models', { file: 'conf/params.yaml' })).toThrow(
      'invalid models params in conf/params.yaml:\n  models.m.layers: is required (a list)',
    );
    // without a file the message stays as it was
    expect(() => parseTrainParams({ epochs: 0 })).toThrow(/^invalid train params:\n/);
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

  it('resolves auto batch size and epochs for the training rows', () => {
    const base = parseTrainParams({});
    const logreg = parseModelParams({ type: 'logreg' });
    // penguins' ~240 train rows: small batches, enough epochs for minSteps (2000) steps
    expect(resolveTrainParams(base, logreg, { rows: 240 })).toMatchObject({ batchSize: 16, epochs: 134 });
    // the flights demo's 70,000 rows: batch 512, 137 steps per epoch
    expect(resolveTrainParams(base, logreg, { rows: 70_000 })).toMatchObject({ batchSize: 512, epochs: 15 });
    // a model's overrides still win, and explicit numbers are kept as they are
    const fixed = parseModelParams({ type: 'logreg', train: { batchSize: 64, epochs: 3 } });
    expect(resolveTrainParams(base, fixed, { rows: 240 })).toMatchObject({ batchSize: 64, epochs: 3 });
    // without rows nothing is resolved (the shape the train stage logs as configured)
    expect(resolveTrainParams(base, logreg)).toMatchObject({ batchSize: 'auto', epochs: 'auto' });
  });
});

describe('train() validates the params it is given', () => {
  it('fills keys a hand-built object lacks and rejects bad ones naming the key', async () => {
    const { buildModel, selectBackend, train } = await import('../src/index.js');
    const { separableBinary } = await import('./synthetic.js');
    await selectBackend('wasm');
    const model = buildModel(parseModelParams({ type: 'logreg' }), { inputDim: 3, classes: ['0', '1'], seed: 1 });
    // e.g. params saved by an older version: no minSteps, maxEpochs, classWeightMaxRatio
    const old = { batchSize: 16, epochs: 2, learningRate: 0.01, optimizer: 'adam', earlyStopping: false, seed: 1, backend: 'wasm', classWeight: 'balanced' };
    const result = await train({ model, params: old as never, train: separableBinary(64, 3, 1), log: () => {} });
    expect(result.epochsRun).toBe(2);
    expect(result.classWeights!.every((w) => Number.isFinite(w) && w > 0)).toBe(true);
    await expect(train({ model, params: { ...old, batchSize: 0 } as never, train: separableBinary(64, 3, 1), log: () => {} })).rejects.toThrow(
      'invalid train params:\n  train.batchSize: must be >= 1 (got 0)',
    );
    model.dispose();
  });
});
