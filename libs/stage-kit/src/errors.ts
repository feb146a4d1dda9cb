/**
 * Errors of @mlops-ts/stage-kit. Each class has a stable `code` and an `instanceof` that works across two installed
 * copies of this package: a `Symbol.for('@mlops-ts/stage-kit/<Class>')` brand on the instance (subclass instances
 * carry their parents' brands too), checked by `static [Symbol.hasInstance]`.
 */
const brandOf = (name: string): symbol => Symbol.for(`@mlops-ts/stage-kit/${name}`);

/** Base class of the errors a stage raises on purpose. */
export class StageError extends Error {
  static readonly brand: symbol = brandOf('StageError');
  readonly code: string = 'ERR_STAGE';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    // Brand the instance with every class of its chain, so `x instanceof Parent` holds for a child too.
    for (let c: unknown = new.target; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
      if (Object.hasOwn(c, 'brand')) (this as unknown as Record<symbol, boolean>)[(c as unknown as { brand: symbol }).brand] = true;
    }
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[(this as unknown as { brand: symbol }).brand] === true;
  }
}

/** One problem of a params file: the dotted key (`split`, `models.m.dropout`) and what is wrong. */
export interface ParamsProblem {
  key: string;
  message: string;
}

/** A params file or section is missing, unreadable or invalid. `problems` name every key at once. Exit code 2. */
export class StageParamsError extends StageError {
  static override readonly brand: symbol = brandOf('StageParamsError');
  override readonly code: string = 'ERR_STAGE_PARAMS';
  constructor(
    readonly file: string,
    readonly problems: ParamsProblem[],
  ) {
    super(problems.map((p) => (p.key ? `${file}: ${p.key}: ${p.message}` : `${file}: ${p.message}`)).join('\n'));
  }
}

/** The command line is wrong (unknown option, missing argument). Exit code 2. */
export class StageUsageError extends StageError {
  static override readonly brand: symbol = brandOf('StageUsageError');
  override readonly code: string = 'ERR_STAGE_USAGE';
}

/** An input the stage needs is missing or does not fit (e.g. "models/x not trained: run train@x first"). Exit code 1. */
export class StageInputError extends StageError {
  static override readonly brand: symbol = brandOf('StageInputError');
  override readonly code: string = 'ERR_STAGE_INPUT';
}

/** The stage was stopped by SIGINT or SIGTERM. Exit code 130 / 143. */
export class StageInterruptedError extends StageError {
  static override readonly brand: symbol = brandOf('StageInterruptedError');
  override readonly code: string = 'ERR_STAGE_INTERRUPTED';
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`stopped by ${signal}`);
  }
}
