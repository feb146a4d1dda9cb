import * as tf from '@tensorflow/tfjs';
import * as errors from '../src/errors.js';
import { buildModel, DataShapeError, ModelTrainError, parseModelParams, parseTrainParams, ParamsError, selectBackend, train } from '../src/index.js';
import { separableBinary } from './synthetic.js';

type ErrorModule = typeof errors;
type ClassName = 'ModelTrainError' | 'ParamsError' | 'BackendUnavailableError' | 'DataShapeError' | 'TrainingError' | 'ModelFolderError';

const cases = (m: ErrorModule): { error: errors.ModelTrainError; name: ClassName; code: string }[] => [
  { error: new m.ModelTrainError('x'), name: 'ModelTrainError', code: 'ERR_MODEL_TRAIN' },
  { error: new m.ParamsError('train', [{ path: 'train.epochs', message: 'bad' }], { file: 'params.yaml' }), name: 'ParamsError', code: 'ERR_MODEL_TRAIN_PARAMS' },
  { error: new m.BackendUnavailableError('wasm', [{ backend: 'wasm', reason: 'gone' }]), name: 'BackendUnavailableError', code: 'ERR_MODEL_TRAIN_BACKEND_UNAVAILABLE' },
  { error: new m.DataShapeError('train', 'bad'), name: 'DataShapeError', code: 'ERR_MODEL_TRAIN_DATA_SHAPE' },
  { error: new m.TrainingError('nan', 3), name: 'TrainingError', code: 'ERR_MODEL_TRAIN_TRAINING' },
  { error: new m.ModelFolderError('/m', 'bad'), name: 'ModelFolderError', code: 'ERR_MODEL_TRAIN_MODEL_FOLDER' },
];

describe('typed errors', () => {
  it('each class has a stable code and name', () => {
    for (const { error, name, code } of cases(errors)) {
      expect(error.name).toBe(name);
      expect(error.code).toBe(code);
      expect(error).toBeInstanceOf(Error);
      expect(error).toBeInstanceOf(errors.ModelTrainError);
    }
  });

  it('instanceof holds across a second copy of the module, class by class', async () => {
    // the same file under another URL: a second, separate module instance (as two installed copies would be)
    const specifier = '../src/errors.ts?copy';
    const copy = (await import(/* @vite-ignore */ specifier)) as ErrorModule;
    expect(copy.ParamsError).not.toBe(errors.ParamsError);
    const names: ClassName[] = ['ModelTrainError', 'ParamsError', 'BackendUnavailableError', 'DataShapeError', 'TrainingError', 'ModelFolderError'];
    for (const [i, { error, name }] of cases(copy).entries()) {
      expect(Object.getPrototypeOf(error)).not.toBe(errors[name].prototype); // really the other copy's class
      expect(error).toBeInstanceOf(errors[name]);
      expect(error).toBeInstanceOf(errors.ModelTrainError);
      // and not an instance of the other classes
      for (const other of names) if (other !== name && other !== 'ModelTrainError') expect(error instanceof errors[other]).toBe(false);
      expect(cases(errors)[i]!.error).toBeInstanceOf(copy[name]);
    }
    expect(new copy.ParamsError('models', []).file).toBeUndefined();
  });

  it('a class derived outside the library keeps the ordinary instanceof', () => {
    class Mine extends ModelTrainError {}
    expect(new Mine('x')).toBeInstanceOf(Mine);
    expect(new Mine('x')).toBeInstanceOf(ModelTrainError);
    expect(new ModelTrainError('x') instanceof Mine).toBe(false);
    expect({ name: 'ParamsError', code: 'ERR_MODEL_TRAIN_PARAMS' } instanceof ParamsError).toBe(false);
    expect((null as unknown) instanceof ModelTrainError).toBe(false);
  });

  it('errors thrown by the library carry their codes', async () => {
    await selectBackend('wasm');
    const model = buildModel(parseModelParams({ type: 'logreg' }), { inputDim: 3, classes: ['0', '1'], seed: 1 });
    const error = await train({ model, params: parseTrainParams({ epochs: 1 }), train: separableBinary(8, 4, 1), log: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataShapeError);
    expect((error as DataShapeError).code).toBe('ERR_MODEL_TRAIN_DATA_SHAPE');
    expect(() => parseTrainParams({ seed: -1 })).toThrow(ParamsError);
    model.dispose();
    expect(tf.getBackend()).toBe('wasm');
  });
});
