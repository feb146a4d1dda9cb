/** Base class of every error this library throws. */
export class ModelTrainError extends Error {
  override readonly name: string = 'ModelTrainError';
}

/** One problem in a params section, with the dotted key path it was found at (e.g. `models.mlp_small.dropout`). */
export interface ParamsProblem {
  path: string;
  message: string;
}

/** Model or training params failed validation. `problems` names each key path and what is wrong with it. */
export class ParamsError extends ModelTrainError {
  override readonly name = 'ParamsError';
  constructor(
    readonly section: string,
    readonly problems: ParamsProblem[],
  ) {
    super(`invalid ${section} params:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
  }
}

/** The backend asked for cannot be used here. `attempts` says what was tried and why each one failed. */
export class BackendUnavailableError extends ModelTrainError {
  override readonly name = 'BackendUnavailableError';
  constructor(
    readonly requested: string,
    readonly attempts: { backend: string; reason: string }[],
  ) {
    super(
      `TensorFlow.js backend '${requested}' is unavailable: ${attempts.map((a) => `${a.backend}: ${a.reason}`).join('; ')}`,
    );
  }
}

/** Arrays passed in do not match each other or the model (length, label range, feature count). */
export class DataShapeError extends ModelTrainError {
  override readonly name = 'DataShapeError';
  constructor(
    readonly split: string,
    readonly problem: string,
  ) {
    super(`${split} data: ${problem}`);
  }
}

/** Training diverged or could not proceed (e.g. a NaN loss). */
export class TrainingError extends ModelTrainError {
  override readonly name = 'TrainingError';
  constructor(
    message: string,
    readonly epoch: number,
  ) {
    super(message);
  }
}

/** A model folder could not be written or read. */
export class ModelFolderError extends ModelTrainError {
  override readonly name = 'ModelFolderError';
  constructor(
    readonly dir: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`model folder ${dir}: ${problem}`, options);
  }
}
