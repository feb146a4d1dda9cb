import pl from 'nodejs-polars';
import { ColumnTypeError, MissingColumnError } from './errors.js';
import type { DataParams } from './params.js';

const INTEGER = new Set(['Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64']);
const FLOAT = new Set(['Float32', 'Float64']);
const TEXT = new Set(['String', 'Utf8', 'Categorical']);

export type ColumnRole = 'target' | 'numeric' | 'categorical' | 'datetime';

/** Which dtypes a role accepts (String datetimes are parsed by {@link selectColumns}). */
export function acceptsType(role: ColumnRole, variant: string, binarizedTarget: boolean): boolean {
  switch (role) {
    case 'numeric':
      return INTEGER.has(variant) || FLOAT.has(variant);
    case 'categorical':
      return TEXT.has(variant) || INTEGER.has(variant) || variant === 'Bool';
    case 'datetime':
      return variant === 'Date' || variant === 'Datetime' || TEXT.has(variant);
    case 'target':
      return binarizedTarget
        ? INTEGER.has(variant) || FLOAT.has(variant)
        : TEXT.has(variant) || INTEGER.has(variant) || variant === 'Bool';
  }
}

const EXPECTED: Record<ColumnRole, string> = {
  numeric: 'a numeric type (integer or float)',
  categorical: 'a string, categorical, boolean or integer type',
  datetime: 'Date, Datetime or a parsable string (featurize.date_parts takes date parts from every data.features.datetime column)',
  target: '',
};

/** The columns params use, with their role, target first. */
export function usedColumns(data: DataParams): { column: string; role: ColumnRole }[] {
  return [
    { column: data.target.column, role: 'target' },
    ...data.features.numeric.map((column) => ({ column, role: 'numeric' as const })),
    ...data.features.categorical.map((column) => ({ column, role: 'categorical' as const })),
    ...data.features.datetime.map((column) => ({ column, role: 'datetime' as const })),
  ];
}

/** The params key that names a column of each role. */
export const ROLE_KEYS: Record<ColumnRole, string> = {
  target: 'data.target.column',
  numeric: 'data.features.numeric',
  categorical: 'data.features.categorical',
  datetime: 'data.features.datetime',
};

/**
 * Every problem of a table's schema against params, all at once: each used column that is missing
 * ({@link MissingColumnError}) or whose dtype does not fit its role ({@link ColumnTypeError}); each error names the
 * column, its role, the params key (`key`) and the file. `schema` maps column names to polars dtype names, as
 * {@link readTableSchema} returns them.
 */
export function checkTableSchema(schema: Readonly<Record<string, string>>, data: DataParams, file: string): (MissingColumnError | ColumnTypeError)[] {
  const available = Object.keys(schema);
  const binarized = data.target.positive_when !== undefined;
  const problems: (MissingColumnError | ColumnTypeError)[] = [];
  for (const { column, role } of usedColumns(data)) {
    const variant = Object.hasOwn(schema, column) ? schema[column] : undefined;
    const label = role === 'target' ? 'target' : `${role} feature`;
    const key = ROLE_KEYS[role];
    if (variant === undefined) {
      problems.push(new MissingColumnError({ column, file, role: label, available, key }));
    } else if (!acceptsType(role, variant, binarized)) {
      const expected =
        role === 'target'
          ? binarized
            ? 'a numeric type (target.positive_when compares numbers)'
            : 'a string, categorical, boolean or integer type (a class label)'
          : EXPECTED[role];
      problems.push(new ColumnTypeError({ column, file, role: label, expected, actual: variant, key }));
    }
  }
  return problems;
}

/** Column name → polars dtype name of a DataFrame (the shape {@link checkTableSchema} takes). */
export function frameSchema(df: pl.DataFrame): Record<string, string> {
  return Object.fromEntries(Object.entries(df.schema as Record<string, pl.DataType>).map(([k, v]) => [k, String(v.variant)]));
}

/**
 * Checks that every column params name exists with a type fitting its role; the first problem throws
 * {@link MissingColumnError} or {@link ColumnTypeError} naming the column ({@link checkTableSchema} lists them all).
 */
export function validateSchema(df: pl.DataFrame, data: DataParams, file: string): void {
  const [first] = checkTableSchema(frameSchema(df), data, file);
  if (first) throw first;
}

/**
 * Keeps only the used columns (target first, then numeric, categorical, datetime features), reads `naValues` as
 * null in string columns, casts Categorical to String and parses string datetimes. A string datetime column
 * with values that do not parse throws {@link ColumnTypeError}.
 */
export function selectColumns(df: pl.DataFrame, data: DataParams, file: string): pl.DataFrame {
  const schema = df.schema as Record<string, pl.DataType>;
  const exprs: pl.Expr[] = [];
  for (const { column, role } of usedColumns(data)) {
    const variant = schema[column]!.variant;
    let e = pl.col(column);
    if (TEXT.has(variant)) {
      e = e.cast(pl.String);
      if (data.na_values.length > 0) e = pl.when(e.isIn(data.na_values)).then(pl.lit(null)).otherwise(e);
      if (role === 'datetime') e = e.str.strptime(pl.Datetime('ms'));
    }
    exprs.push(e.alias(column));
  }
  const out = df.select(...exprs);
  // strptime is lenient (unparsable → null): a value that was present but did not parse is a type error.
  for (const column of data.features.datetime) {
    if (!TEXT.has(schema[column]!.variant)) continue;
    const bad = pl
      .DataFrame([df.getColumn(column).cast(pl.String).alias('raw'), out.getColumn(column).alias('parsed')])
      .filter(pl.col('raw').isNotNull().and(pl.col('parsed').isNull()));
    const naValues = new Set(data.na_values);
    const first = (bad.getColumn('raw').toArray() as string[]).find((v) => !naValues.has(v));
    if (first !== undefined) {
      throw new ColumnTypeError({ column, file, role: 'datetime feature', expected: EXPECTED.datetime, actual: `String with unparsable value "${first}"`, key: ROLE_KEYS.datetime });
    }
  }
  return out;
}
