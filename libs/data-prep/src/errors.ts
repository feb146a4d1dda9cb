/** Base class of every error thrown by @mlops-ts/data-prep. */
export class DataPrepError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A params section failed validation; `issues` name each offending key (e.g. `data.target.column`). */
export class ParamsError extends DataPrepError {
  readonly source: string;
  readonly issues: readonly { key: string; message: string }[];
  constructor(source: string, issues: readonly { key: string; message: string }[]) {
    super(`${source}: invalid params: ${issues.map((i) => `${i.key}: ${i.message}`).join('; ')}`);
    this.source = source;
    this.issues = issues;
  }
}

/** The data file could not be read (missing, unknown format, unparsable). */
export class DataFileError extends DataPrepError {
  readonly file: string;
  constructor(file: string, message: string, options?: ErrorOptions) {
    super(`${file}: ${message}`, options);
    this.file = file;
  }
}

/** A column named in params does not exist in the table. */
export class MissingColumnError extends DataPrepError {
  readonly column: string;
  readonly file: string;
  readonly available: readonly string[];
  constructor(opts: { column: string; file: string; role: string; available: readonly string[] }) {
    super(`${opts.file}: column "${opts.column}" (${opts.role}) is missing; columns are: ${opts.available.join(', ')}`);
    this.column = opts.column;
    this.file = opts.file;
    this.available = opts.available;
  }
}

/** A column exists but its type does not fit the role params give it. */
export class ColumnTypeError extends DataPrepError {
  readonly column: string;
  readonly file: string;
  readonly expected: string;
  readonly actual: string;
  constructor(opts: { column: string; file: string; role: string; expected: string; actual: string }) {
    super(`${opts.file}: column "${opts.column}" (${opts.role}) has type ${opts.actual}, expected ${opts.expected}`);
    this.column = opts.column;
    this.file = opts.file;
    this.expected = opts.expected;
    this.actual = opts.actual;
  }
}

/** The data do not allow the requested operation (e.g. no rows left, a class missing from a split). */
export class DataContentError extends DataPrepError {}

/** A feature directory or file (meta.json, a split parquet) is missing or does not match its metadata. */
export class FeatureFileError extends DataPrepError {
  readonly file: string;
  constructor(file: string, message: string, options?: ErrorOptions) {
    super(`${file}: ${message}`, options);
    this.file = file;
  }
}
