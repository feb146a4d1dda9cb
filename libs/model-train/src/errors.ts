/**
 * Errors of this library. Each class has a stable `code` and an `instanceof` that also holds across two installed
 * copies of the package: every instance carries a `Symbol.for('@mlops-ts/model-train/<ClassName>')` brand for its
 * class and each parent class, and `static [Symbol.hasInstance]` checks the brand.
 */

const BRANDS = Symbol.for('@mlops-ts/model-train/brands');

function brandOf(className: string): symbol {
  return Symbol.for(`@mlops-ts/model-train/${className}`);
}

function hasBrand(value: unknown, brand: symbol): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  const brands = (value as { [BRANDS]?: unknown })[BRANDS];
  return Array.isArray(brands) && brands.includes(brand);
}

/** `instanceof` for a branded class; classes derived outside this file keep the ordinary prototype check. */
function isInstance(self: unknown, cls: unknown, value: unknown, brand: symbol): boolean {
  if (self === cls) return hasBrand(value, brand);
  return Function.prototype[Symbol.hasInstance].call(self, value);
}

function addBrand(target: object, brand: symbol): void {
  const holder = target as { [BRANDS]?: symbol[] };
  if (!Object.prototype.hasOwnProperty.call(holder, BRANDS)) {
    Object.defineProperty(holder, BRANDS, { value: [], enumerable: false });
  }
  holder[BRANDS]!.push(brand);
}

const MODEL_TRAIN_ERROR = brandOf('ModelTrainError');

/** Base class of every error this library throws. */
export class ModelTrainError extends Error {
  override readonly name: string = 'ModelTrainError';
  /** Stable machine-readable code (subclasses have their own). */
  readonly code: string = 'ERR_MODEL_TRAIN';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    addBrand(this, MODEL_TRAIN_ERROR);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, ModelTrainError, value, MODEL_TRAIN_ERROR);
  }
}

/** One problem in a params section, with the dotted key path it was found at (e.g. `models.mlp_small.dropout`). */
export interface ParamsProblem {
  path: string;
  message: string;
}

const PARAMS_ERROR = brandOf('ParamsError');

/**
 * Model or training params failed validation. `problems` names each key path and what is wrong with it; `file`
 * names the params file when the caller gave it (`parseTrainParams(value, 'train', { file: 'params.yaml' })`).
 */
export class ParamsError extends ModelTrainError {
  override readonly name = 'ParamsError';
  override readonly code = 'ERR_MODEL_TRAIN_PARAMS';
  readonly file: string | undefined;
  constructor(
    readonly section: string,
    readonly problems: ParamsProblem[],
    options: { file?: string } = {},
  ) {
    super(
      `invalid ${section} params${options.file ? ` in ${options.file}` : ''}:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`,
    );
    this.file = options.file;
    addBrand(this, PARAMS_ERROR);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, ParamsError, value, PARAMS_ERROR);
  }
}

const BACKEND_UNAVAILABLE = brandOf('BackendUnavailableError');

/** The backend asked for cannot be used here. `attempts` says what was tried and why each one failed. */
export class BackendUnavailableError extends ModelTrainError {
  override readonly name = 'BackendUnavailableError';
  override readonly code = 'ERR_MODEL_TRAIN_BACKEND_UNAVAILABLE';
  constructor(
    readonly requested: string,
    readonly attempts: { backend: string; reason: string }[],
  ) {
    super(
      `TensorFlow.js backend '${requested}' is unavailable: ${attempts.map((a) => `${a.backend}: ${a.reason}`).join('; ')}`,
    );
    addBrand(this, BACKEND_UNAVAILABLE);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, BackendUnavailableError, value, BACKEND_UNAVAILABLE);
  }
}

const DATA_SHAPE = brandOf('DataShapeError');

/** Arrays passed in do not match each other or the model (length, label range, feature count). */
export class DataShapeError extends ModelTrainError {
  override readonly name = 'DataShapeError';
  override readonly code = 'ERR_MODEL_TRAIN_DATA_SHAPE';
  constructor(
    readonly split: string,
    readonly problem: string,
  ) {
    super(`${split} data: ${problem}`);
    addBrand(this, DATA_SHAPE);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, DataShapeError, value, DATA_SHAPE);
  }
}

const TRAINING = brandOf('TrainingError');

/** Training diverged or could not proceed (e.g. a NaN loss). */
export class TrainingError extends ModelTrainError {
  override readonly name = 'TrainingError';
  override readonly code = 'ERR_MODEL_TRAIN_TRAINING';
  constructor(
    message: string,
    readonly epoch: number,
  ) {
    super(message);
    addBrand(this, TRAINING);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, TrainingError, value, TRAINING);
  }
}

const MODEL_FOLDER = brandOf('ModelFolderError');

/** A model folder could not be written or read. */
export class ModelFolderError extends ModelTrainError {
  override readonly name = 'ModelFolderError';
  override readonly code = 'ERR_MODEL_TRAIN_MODEL_FOLDER';
  constructor(
    readonly dir: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`model folder ${dir}: ${problem}`, options);
    addBrand(this, MODEL_FOLDER);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, ModelFolderError, value, MODEL_FOLDER);
  }
}
