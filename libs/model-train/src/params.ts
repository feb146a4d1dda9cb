import { z } from 'zod';
import { ParamsError, type ParamsProblem } from './errors.js';
import { planTraining } from './plan.js';

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

/** `batchSize: auto`: ≈ rows / AUTO_BATCH.rowsPerBatch, rounded to a power of two and kept in [min, max]. */
export const AUTO_BATCH = { rowsPerBatch: 128, min: 16, max: 512 } as const;
/** `epochs: auto` never plans fewer passes than this (early stopping needs a curve to watch). */
export const AUTO_MIN_EPOCHS = 5;
export const CLASS_WEIGHTS = ['none', 'balanced', 'sqrt'] as const;
export type ClassWeightMode = (typeof CLASS_WEIGHTS)[number];

const MAX_BATCH = 1_000_000;
const MAX_EPOCHS = 100_000;

/** Training fields with no defaults: the shape shared by `TrainParamsSchema` and per-model overrides. */
const trainFields = {
  /** Rows per optimizer step; `auto` derives it from the training rows (see `autoBatchSize`). */
  batchSize: z.union([z.literal('auto'), z.int().min(1).max(MAX_BATCH)], {
    error: `must be "auto" or an integer from 1 to ${MAX_BATCH}`,
  }),
  /**
   * Passes over the training rows; `auto` plans enough for `minSteps` optimizer steps (at least AUTO_MIN_EPOCHS, at
   * most `maxEpochs`) and leaves the stopping to early stopping.
   */
  epochs: z.union([z.literal('auto'), z.int().min(1).max(MAX_EPOCHS)], {
    error: `must be "auto" or an integer from 1 to ${MAX_EPOCHS}`,
  }),
  /** With `epochs: auto`: the optimizer steps the planned epochs give at least (unless `maxEpochs` comes first). */
  minSteps: z.int().min(1).max(100_000_000),
  /** With `epochs: auto`: the most epochs planned. */
  maxEpochs: z.int().min(1).max(MAX_EPOCHS),
  learningRate: z.number().gt(0).max(10),
  optimizer: z.enum(OPTIMIZERS),
  /** `false` disables early stopping. It monitors the validation loss (the training loss when no validation split is given). */
  earlyStopping: z.union([z.literal(false), EarlyStoppingSchema], {
    error: 'must be false or a mapping of patience, minDelta, restoreBestWeights',
  }),
  /** Seeds weight initialisation, per-epoch shuffling and dropout masks. */
  seed: z.int().min(0).max(2 ** 31 - 1),
  backend: z.enum(BACKENDS),
  /**
   * Weights of each class's rows in the training loss (see `classWeights`): `none`; `balanced` = rows / (classes ×
   * rows of the class), as scikit-learn; `sqrt` = the square root of that. Both capped by `classWeightMaxRatio`.
   */
  classWeight: z.enum(CLASS_WEIGHTS),
  /** No class's row weighs more than this many times a row of the most frequent class. */
  classWeightMaxRatio: z.number().min(1).max(1_000_000),
};

/** The `train` section: how a model is fitted. Every field has a default. */
export const TrainParamsSchema = z.strictObject({
  batchSize: trainFields.batchSize.default('auto'),
  epochs: trainFields.epochs.default('auto'),
  minSteps: trainFields.minSteps.default(2000),
  maxEpochs: trainFields.maxEpochs.default(200),
  learningRate: trainFields.learningRate.default(0.001),
  optimizer: trainFields.optimizer.default('adam'),
  earlyStopping: trainFields.earlyStopping.prefault({}),
  seed: trainFields.seed.default(42),
  backend: trainFields.backend.default('auto'),
  classWeight: trainFields.classWeight.default('none'),
  classWeightMaxRatio: trainFields.classWeightMaxRatio.default(3),
});
export type TrainParams = z.output<typeof TrainParamsSchema>;
export type TrainParamsInput = z.input<typeof TrainParamsSchema>;
export type EarlyStoppingParams = z.output<typeof EarlyStoppingSchema>;

/** Train params with `batchSize` and `epochs` resolved to numbers for a given number of training rows. */
export type EffectiveTrainParams = Omit<TrainParams, 'batchSize' | 'epochs'> & { batchSize: number; epochs: number };

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
  return error.issues.flatMap(unwrapUnion).map((issue) => ({
    path: joinPath(prefix, issue.path),
    message: issueMessage(issue, input),
  }));
}

/**
 * A union whose value had the right type for exactly one option (e.g. `0` for `"auto" | integer >= 1`) reports that
 * option's problems (`must be >= 1 (got 0)`); otherwise the union's own message stands.
 */
function unwrapUnion(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union' || !Array.isArray(issue.errors) || issue.errors.length === 0) return [issue];
  // `expected: int` on a number (2.5) is the right type with a bad value, not a mismatch
  const typeMismatch = (i: z.core.$ZodIssue) =>
    i.path.length === 0 && ((i.code === 'invalid_type' && i.expected !== 'int') || i.code === 'invalid_value');
  const matching = issue.errors.filter((branch) => branch.length > 0 && !branch.every(typeMismatch));
  if (matching.length !== 1) return [issue];
  return matching[0]!.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }) as z.core.$ZodIssue).flatMap(unwrapUnion);
}

/** Where validated params came from, for error messages. */
export interface ParamsSource {
  /** The params file (e.g. `params.yaml`): `ParamsError` names it. */
  file?: string;
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown, section: string, source: ParamsSource): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ParamsError(section, formatParamsIssues(result.error, section, value), source);
  return result.data;
}

/** Validates a `models` section (name → params); throws `ParamsError` naming each bad key path (and the file, if given). */
export function parseModelsParams(value: unknown, section = 'models', source: ParamsSource = {}): Record<string, ModelParams> {
  return parseWith(ModelsParamsSchema, value, section, source);
}

/** Validates one model's params; `section` is its key path (e.g. `models.mlp_small`). */
export function parseModelParams(value: unknown, section = 'model', source: ParamsSource = {}): ModelParams {
  return parseWith(ModelParamsSchema, value, section, source);
}

/** Validates a `train` section (missing keys take their defaults; `undefined` means all defaults). */
export function parseTrainParams(value: unknown, section = 'train', source: ParamsSource = {}): TrainParams {
  return parseWith(TrainParamsSchema, value ?? {}, section, source);
}

/**
 * The train params for one model: the `train` section with the model's own `train` overrides applied. Given the
 * number of training rows, `batchSize` and `epochs` come back resolved (`auto` → the numbers `planTraining` derives),
 * i.e. the effective values to log.
 */
export function resolveTrainParams(base: TrainParams, model: ModelParams): TrainParams;
export function resolveTrainParams(base: TrainParams, model: ModelParams, data: { rows: number }): EffectiveTrainParams;
export function resolveTrainParams(base: TrainParams, model: ModelParams, data?: { rows: number }): TrainParams | EffectiveTrainParams {
  const overrides = model.train ?? {};
  const merged: TrainParams = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  if (!data) return merged;
  const plan = planTraining(merged, data.rows);
  return { ...merged, batchSize: plan.batchSize, epochs: plan.epochs };
}
