import { z } from 'zod';
import { ParamsError, type ParamsProblem } from './errors.js';

/** Hidden-layer activations offered (names shared by TF.js and Keras). */
export const ACTIVATIONS = ['relu', 'elu', 'selu', 'tanh', 'sigmoid', 'swish', 'gelu'] as const;
export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop', 'adagrad'] as const;
export const BACKENDS = ['auto', 'wasm', 'cpu', 'tensorflow'] as const;

export type Activation = (typeof ACTIVATIONS)[number];
export type OptimizerName = (typeof OPTIMIZERS)[number];
export type BackendPreference = (typeof BACKENDS)[number];

const EarlyStoppingSchema = z.strictObject({
  /** Epochs without an improvement of the monitored loss before training stops. */
  patience: z.int().min(1).max(1000).default(5),
  /** The smallest decrease of the monitored loss that counts as an improvement. */
  minDelta: z.number().min(0).default(0),
  /** Put back the weights of the best epoch when training ends. */
  restoreBestWeights: z.boolean().default(true),
});

/** Training fields with no defaults: the shape shared by `TrainParamsSchema` and per-model overrides. */
const trainFields = {
  batchSize: z.int().min(1).max(1_000_000),
  epochs: z.int().min(1).max(100_000),
  learningRate: z.number().gt(0).max(10),
  optimizer: z.enum(OPTIMIZERS),
  /** `false` disables early stopping. It monitors the validation loss (the training loss when no validation split is given). */
  earlyStopping: z.union([z.literal(false), EarlyStoppingSchema]),
  /** Seeds weight initialisation, per-epoch shuffling and dropout masks. */
  seed: z.int().min(0).max(2 ** 31 - 1),
  backend: z.enum(BACKENDS),
  /** `balanced` weights each row's loss by rows / (classes × rows of its class), as scikit-learn and Keras do. */
  classWeight: z.enum(['none', 'balanced']),
};

/** The `train` section: how a model is fitted. Every field has a default. */
export const TrainParamsSchema = z.strictObject({
  batchSize: trainFields.batchSize.default(256),
  epochs: trainFields.epochs.default(20),
  learningRate: trainFields.learningRate.default(0.001),
  optimizer: trainFields.optimizer.default('adam'),
  earlyStopping: trainFields.earlyStopping.prefault({}),
  seed: trainFields.seed.default(42),
  backend: trainFields.backend.default('auto'),
  classWeight: trainFields.classWeight.default('none'),
});
export type TrainParams = z.output<typeof TrainParamsSchema>;
export type TrainParamsInput = z.input<typeof TrainParamsSchema>;
export type EarlyStoppingParams = z.output<typeof EarlyStoppingSchema>;

/** Per-model overrides of the `train` section (any subset of its keys). */
export const TrainOverridesSchema = z.strictObject(trainFields).partial();
export type TrainOverrides = z.output<typeof TrainOverridesSchema>;

const l2 = z.number().min(0).max(10).default(0);

/** Logistic regression: one dense layer (sigmoid for binary, softmax for multiclass). */
export const LogregParamsSchema = z.strictObject({
  type: z.literal('logreg'),
  /** L2 penalty on the weights: `l2 * sum(w^2)` is added to the loss (as in Keras). */
  l2,
  train: TrainOverridesSchema.optional(),
});

/** Multi-layer perceptron: dense hidden layers (+ dropout after each when `dropout > 0`), then the output layer. */
export const MlpParamsSchema = z.strictObject({
  type: z.literal('mlp'),
  /** Units of each hidden layer, input side first. */
  layers: z.array(z.int().min(1).max(8192)).min(1).max(16),
  activation: z.enum(ACTIVATIONS).default('relu'),
  dropout: z.number().min(0).lt(1).default(0),
  l2,
  train: TrainOverridesSchema.optional(),
});

/** One entry of the `models` section. */
export const ModelParamsSchema = z.discriminatedUnion('type', [LogregParamsSchema, MlpParamsSchema]);
export type ModelParams = z.output<typeof ModelParamsSchema>;
export type ModelParamsInput = z.input<typeof ModelParamsSchema>;
export type LogregParams = z.output<typeof LogregParamsSchema>;
export type MlpParams = z.output<typeof MlpParamsSchema>;

/** The `models` section: model name → params. */
export const ModelsParamsSchema = z
  .record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'model names use letters, digits, _ . -'), ModelParamsSchema)
  .refine((m) => Object.keys(m).length > 0, 'at least one model is needed');

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `"${value}"`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'a mapping' : typeof value;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

function issueMessage(issue: z.core.$ZodIssue, input: unknown): string {
  const got = describe(valueAt(input, issue.path));
  switch (issue.code) {
    case 'too_big': {
      const max = String(issue.maximum);
      if (issue.origin === 'array') return `must have at most ${max} items`;
      return `must be ${issue.inclusive ? '<=' : '<'} ${max} (got ${got})`;
    }
    case 'too_small': {
      const min = String(issue.minimum);
      if (issue.origin === 'array') return `must have at least ${min} item${min === '1' ? '' : 's'}`;
      return `must be ${issue.inclusive ? '>=' : '>'} ${min} (got ${got})`;
    }
    case 'invalid_type': {
      const expected = issue.expected === 'int' ? 'an integer' : issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`;
      return got === 'nothing' ? `is required (${expected})` : `must be ${expected} (got ${got})`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')} (got ${got})`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (Array.isArray(options)) {
        return `must be one of ${options.map((v) => JSON.stringify(v)).join(', ')} (got ${got})`;
      }
      return `${issue.message} (got ${got})`;
    }
    default:
      return issue.message;
  }
}

/**
 * Turns zod issues into `key.path: what is wrong` problems. `prefix` is the key the validated value sits under
 * (e.g. `models`), `input` the value that was validated (to quote what was given).
 */
export function formatParamsIssues(error: z.ZodError, prefix = '', input?: unknown): ParamsProblem[] {
  return error.issues.map((issue) => ({
    path: joinPath(prefix, issue.path),
    message: issueMessage(issue, input),
  }));
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown, section: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ParamsError(section, formatParamsIssues(result.error, section, value));
  return result.data;
}

/** Validates a `models` section (name → params); throws `ParamsError` naming each bad key path. */
export function parseModelsParams(value: unknown, section = 'models'): Record<string, ModelParams> {
  return parseWith(ModelsParamsSchema, value, section);
}

/** Validates one model's params; `section` is its key path (e.g. `models.mlp_small`). */
export function parseModelParams(value: unknown, section = 'model'): ModelParams {
  return parseWith(ModelParamsSchema, value, section);
}

/** Validates a `train` section (missing keys take their defaults; `undefined` means all defaults). */
export function parseTrainParams(value: unknown, section = 'train'): TrainParams {
  return parseWith(TrainParamsSchema, value ?? {}, section);
}

/** The train params for one model: the `train` section with the model's own `train` overrides applied. */
export function resolveTrainParams(base: TrainParams, model: ModelParams): TrainParams {
  const overrides = model.train ?? {};
  const merged: TrainParams = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}
