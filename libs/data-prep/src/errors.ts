/**
 * Every error class has a stable string `code` and a `Symbol.for('@mlops-ts/data-prep/<ClassName>')` brand set on
 * its instances (with the brands of its parent classes), and `instanceof` checks the brand: it holds across two
 * installed copies of this package (the undici way).
 */
const brandOf = (name: string): symbol => Symbol.for(`@mlops-ts/data-prep/${name}`);

/** Base class of every error thrown by @mlops-ts/data-prep. */
export class DataPrepError extends Error {
  static readonly code: string = 'ERR_DATA_PREP';
  static readonly brand: symbol = brandOf('DataPrepError');
  /** Stable identifier of the error class (e.g. `ERR_DATA_PREP_PARAMS`), for programs that branch on it. */
  readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = (new.target as typeof DataPrepError).code;
    for (let c: unknown = new.target; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
      if (Object.hasOwn(c, 'brand')) Object.defineProperty(this, (c as typeof DataPrepError).brand, { value: true });
    }
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[this.brand] === true;
  }
}

/** A params section failed validation; `issues` name each offending key (e.g. `data.target.column`). */
export class ParamsError extends DataPrepError {
  static override readonly code: string = 'ERR_DATA_PREP_PARAMS';
  static override readonly brand: symbol = brandOf('ParamsError');
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
  static override readonly code: string = 'ERR_DATA_PREP_FILE';
  static override readonly brand: symbol = brandOf('DataFileError');
  readonly file: string;
  constructor(file: string, message: string, options?: ErrorOptions) {
    super(`${file}: ${message}`, options);
    this.file = file;
  }
}

/** The table was read but holds no rows (a CSV with only a header, an empty JSON array, a parquet file of 0 rows). */
export class EmptyTableError extends DataFileError {
  static override readonly code: string = 'ERR_DATA_PREP_EMPTY_TABLE';
  static override readonly brand: symbol = brandOf('EmptyTableError');
  /** Columns the file declares (a CSV header, a parquet schema); empty when it declares none. */
  readonly columns: readonly string[];
  constructor(file: string, columns: readonly string[]) {
    super(file, `the table has no rows${columns.length > 0 ? ` (only the columns: ${columns.join(', ')})` : ''}`);
    this.columns = columns;
  }
}

/** A column named in params does not exist in the table. */
export class MissingColumnError extends DataPrepError {
  static override readonly code: string = 'ERR_DATA_PREP_MISSING_COLUMN';
  static override readonly brand: symbol = brandOf('MissingColumnError');
  readonly column: string;
  readonly file: string;
  readonly available: readonly string[];
  /** The params key naming the column (e.g. `data.features.numeric`), when known. */
  readonly key: string | undefined;
  constructor(opts: { column: string; file: string; role: string; available: readonly string[]; key?: string }) {
    super(`${opts.file}: column "${opts.column}" (${opts.role}) is missing; columns are: ${opts.available.join(', ')}`);
    this.key = opts.key;
    this.column = opts.column;
    this.file = opts.file;
    this.available = opts.available;
  }
}

/** A column exists but its type does not fit the role params give it. */
export class ColumnTypeError extends DataPrepError {
  static override readonly code: string = 'ERR_DATA_PREP_COLUMN_TYPE';
  static override readonly brand: symbol = brandOf('ColumnTypeError');
  readonly column: string;
  readonly file: string;
  readonly expected: string;
  readonly actual: string;
  /** The params key naming the column (e.g. `data.features.datetime`), when known. */
  readonly key: string | undefined;
  constructor(opts: { column: string; file: string; role: string; expected: string; actual: string; key?: string }) {
    super(`${opts.file}: column "${opts.column}" (${opts.role}) has type ${opts.actual}, expected ${opts.expected}`);
    this.key = opts.key;
    this.column = opts.column;
    this.file = opts.file;
    this.expected = opts.expected;
    this.actual = opts.actual;
  }
}

/**
 * `featurize.date_parts` asks for something a datetime column cannot give: only time parts (hour, minute) of a column
 * holding dates without a time of day. Names the column, the params key and the parts the column does have.
 */
export class DatePartsError extends DataPrepError {
  static override readonly code: string = 'ERR_DATA_PREP_DATE_PARTS';
  static override readonly brand: symbol = brandOf('DatePartsError');
  readonly column: string;
  readonly file: string;
  /** The params key: `featurize.date_parts`. */
  readonly key: string;
  readonly requested: readonly string[];
  readonly available: readonly string[];
  constructor(opts: { column: string; file: string; key: string; requested: readonly string[]; available: readonly string[]; reason: string }) {
    super(
      `${opts.file}: column "${opts.column}" ${opts.reason}, so ${opts.key} [${opts.requested.join(', ')}] gives it no feature; ` +
        `add one of ${opts.available.join(', ')} to ${opts.key}, or drop "${opts.column}" from data.features.datetime`,
    );
    this.column = opts.column;
    this.file = opts.file;
    this.key = opts.key;
    this.requested = opts.requested;
    this.available = opts.available;
  }
}

/** The data do not allow the requested operation (e.g. no rows left, a class missing from a split). */
export class DataContentError extends DataPrepError {
  static override readonly code: string = 'ERR_DATA_PREP_CONTENT';
  static override readonly brand: symbol = brandOf('DataContentError');
}

/** A feature directory or file (meta.json, a split parquet) is missing or does not match its metadata. */
export class FeatureFileError extends DataPrepError {
  static override readonly code: string = 'ERR_DATA_PREP_FEATURE_FILE';
  static override readonly brand: symbol = brandOf('FeatureFileError');
  readonly file: string;
  constructor(file: string, message: string, options?: ErrorOptions) {
    super(`${file}: ${message}`, options);
    this.file = file;
  }
}
