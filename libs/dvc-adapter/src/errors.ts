/** Typed errors of the DVC adapter. Every message names the command, file or package it is about; no credentials. */

const INSTALL_HINT =
  'Install the project tools with `npm run setup` (creates .venv with the pinned dvc), ' +
  'or `pip install -r requirements.txt -c constraints.txt`, or pass the binary explicitly (createDvc({ dvcBin })).';

/** Base class of every error this library throws. */
export class DvcError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The dvc executable could not be found (or could not be started). */
export class DvcNotFoundError extends DvcError {
  readonly searched: readonly string[];
  constructor(searched: readonly string[], options?: { cause?: unknown; detail?: string }) {
    const where = searched.length > 0 ? ` (looked for: ${searched.join(', ')})` : '';
    super(`dvc was not found${where}${options?.detail ? `: ${options.detail}` : ''}. ${INSTALL_HINT}`, options);
    this.searched = searched;
  }
}

/** dvc ran and exited with a non-zero code. `args`, `stderr` and `dvcMessage` are redacted. */
export class DvcCommandError extends DvcError {
  readonly args: readonly string[];
  readonly exitCode: number;
  readonly stderr: string;
  readonly stdout: string;
  /** DVC's own message: the text after `ERROR:` on stderr (or its last line when there is none). */
  readonly dvcMessage: string;
  readonly cwd: string;
  constructor(fields: { args: readonly string[]; exitCode: number; stderr: string; stdout: string; dvcMessage: string; cwd: string }) {
    super(`\`dvc ${fields.args.join(' ')}\` failed with exit code ${fields.exitCode} in ${fields.cwd}: ${fields.dvcMessage}`);
    this.args = fields.args;
    this.exitCode = fields.exitCode;
    this.stderr = fields.stderr;
    this.stdout = fields.stdout;
    this.dvcMessage = fields.dvcMessage;
    this.cwd = fields.cwd;
  }
}

/** dvc succeeded but its output did not have the expected shape. */
export class DvcOutputParseError extends DvcError {
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
  readonly file: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot restore ${file}: ${reason}`, options);
    this.file = file;
  }
}
