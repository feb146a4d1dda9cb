/** Typed errors of the DVC adapter. Every message names the command, file or package it is about; no credentials. */

const INSTALL_HINT =
  'Install the project tools with `npm run setup` (creates .venv with the pinned dvc), ' +
  'or `pip install -r requirements.txt -c constraints.txt`, or pass the binary explicitly (createDvc({ dvcBin })).';

const brandOf = (name: string): symbol => Symbol.for(`@mlops-ts/dvc-adapter/${name}`);

/**
 * Base class of every error this library throws. Each class has a stable `code` (`ERR_DVC_*`) and a
 * `Symbol.for('@mlops-ts/dvc-adapter/<ClassName>')` brand on its instances (with its parents' brands), which
 * `instanceof` checks: it holds across two installed copies of this package, the way undici's errors do.
 */
export class DvcError extends Error {
  /** The brand `instanceof` looks for (each subclass has its own). */
  static readonly brand: symbol = brandOf('DvcError');
  readonly code: string = 'ERR_DVC';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    for (let c: unknown = new.target; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
      if (Object.hasOwn(c, 'brand')) Object.defineProperty(this, (c as typeof DvcError).brand, { value: true });
    }
  }
  static override [Symbol.hasInstance](x: unknown): boolean {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[this.brand] === true;
  }
}

/** The dvc executable could not be found (or could not be started). */
export class DvcNotFoundError extends DvcError {
  static override readonly brand: symbol = brandOf('DvcNotFoundError');
  override readonly code = 'ERR_DVC_NOT_FOUND';
  readonly searched: readonly string[];
  constructor(searched: readonly string[], options?: { cause?: unknown; detail?: string }) {
    const where = searched.length > 0 ? ` (looked for: ${searched.join(', ')})` : '';
    super(`dvc was not found${where}${options?.detail ? `: ${options.detail}` : ''}. ${INSTALL_HINT}`, options);
    this.searched = searched;
  }
}

/**
 * dvc ran and failed: a non-zero exit code, a signal, a timeout or a cancel (execa's fields: `exitCode`, `signal`,
 * `timedOut`, `isCanceled`). `args`, `stderr`, `stdout` and `dvcMessage` are redacted.
 */
export class DvcCommandError extends DvcError {
  static override readonly brand: symbol = brandOf('DvcCommandError');
  override readonly code = 'ERR_DVC_COMMAND';
  readonly args: readonly string[];
  /** The exit code; undefined when dvc did not exit by itself (killed by a signal, timed out, canceled). */
  readonly exitCode: number | undefined;
  /** The signal that ended dvc (e.g. `SIGTERM`), when one did. */
  readonly signal: string | undefined;
  /** dvc ran longer than `createDvc({ timeoutMs })` and was killed. */
  readonly timedOut: boolean;
  /** `createDvc({ cancelSignal })` was aborted while dvc ran. */
  readonly isCanceled: boolean;
  readonly stderr: string;
  readonly stdout: string;
  /** DVC's own message: the text after `ERROR:` on stderr (or its last line when there is none). */
  readonly dvcMessage: string;
  readonly cwd: string;
  constructor(fields: {
    args: readonly string[];
    exitCode: number | undefined;
    signal?: string | undefined;
    timedOut?: boolean;
    timeoutMs?: number | undefined;
    isCanceled?: boolean;
    stderr: string;
    stdout: string;
    dvcMessage: string;
    cwd: string;
  }) {
    const how = fields.timedOut
      ? `timed out after ${fields.timeoutMs ?? '?'} ms`
      : fields.isCanceled
        ? 'was canceled'
        : fields.exitCode === undefined && fields.signal
          ? `was killed by ${fields.signal}`
          : `failed with exit code ${fields.exitCode ?? '?'}`;
    super(`\`dvc ${fields.args.join(' ')}\` ${how} in ${fields.cwd}${fields.dvcMessage ? `: ${fields.dvcMessage}` : ''}`);
    this.args = fields.args;
    this.exitCode = fields.exitCode;
    this.signal = fields.signal;
    this.timedOut = fields.timedOut ?? false;
    this.isCanceled = fields.isCanceled ?? false;
    this.stderr = fields.stderr;
    this.stdout = fields.stdout;
    this.dvcMessage = fields.dvcMessage;
    this.cwd = fields.cwd;
  }
}

/** dvc succeeded but its output did not have the expected shape. */
export class DvcOutputParseError extends DvcError {
  static override readonly brand: symbol = brandOf('DvcOutputParseError');
  override readonly code = 'ERR_DVC_OUTPUT_PARSE';
  readonly args: readonly string[];
  /** The start of the offending output (at most 500 characters, redacted). */
  readonly output: string;
  readonly issues: string;
  constructor(fields: { args: readonly string[]; output: string; issues: string }) {
    super(`could not parse the output of \`dvc ${fields.args.join(' ')}\`: ${fields.issues}`);
    this.args = fields.args;
    this.output = fields.output;
    this.issues = fields.issues;
  }
}

/** A DVC file (.dvc pointer, dvc.yaml, dvc.lock) is missing, not YAML, or has the wrong shape. */
export class DvcFileError extends DvcError {
  static override readonly brand: symbol = brandOf('DvcFileError');
  override readonly code = 'ERR_DVC_FILE';
  readonly file: string;
  readonly problem: string;
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.file = file;
    this.problem = problem;
  }
}

/** A file's md5 differs from the md5 its .dvc pointer records. */
export class DataIntegrityError extends DvcError {
  static override readonly brand: symbol = brandOf('DataIntegrityError');
  override readonly code = 'ERR_DVC_DATA_INTEGRITY';
  readonly file: string;
  readonly expectedMd5: string;
  readonly actualMd5: string;
  readonly source: string | undefined;
  constructor(fields: { file: string; expectedMd5: string; actualMd5: string; source?: string; detail?: string }) {
    const from = fields.source ? ` (copied from ${fields.source})` : '';
    super(
      `md5 mismatch for ${fields.file}${from}: the pointer expects ${fields.expectedMd5}, the data has ${fields.actualMd5}` +
        (fields.detail ? `. ${fields.detail}` : ''),
    );
    this.file = fields.file;
    this.expectedMd5 = fields.expectedMd5;
    this.actualMd5 = fields.actualMd5;
    this.source = fields.source;
  }
}

/** Tracked data could not be restored (no usable remote copy and no usable source). */
export class DataRestoreError extends DvcError {
  static override readonly brand: symbol = brandOf('DataRestoreError');
  override readonly code = 'ERR_DVC_DATA_RESTORE';
  readonly file: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot restore ${file}: ${reason}`, options);
    this.file = file;
  }
}
