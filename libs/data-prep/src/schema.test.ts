import pl from 'nodejs-polars';
import { ColumnTypeError, MissingColumnError } from './errors.js';
import { selectColumns, validateSchema } from './schema.js';
import { dataParams } from './test-helpers.js';

const table = () =>
  pl.DataFrame({
    y: [1, -1, 3],
    x: [1.5, 2.5, null],
    c: ['a', 'b', '.'],
    when: ['2001-01-02 03:04:00', '2001-02-03 04:05:00', null],
  });

describe('validateSchema', () => {
  it('accepts a table that fits the params', () => {
    expect(() => validateSchema(table(), dataParams(), 't.parquet')).not.toThrow();
  });

  it('names a missing column, its role and the file', () => {
    const data = dataParams({ features: { numeric: ['x', 'distance'], categorical: [], datetime: [] } });
    let err: unknown;
    try {
      validateSchema(table(), data, 'flights.parquet');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MissingColumnError);
    expect((err as MissingColumnError).column).toBe('distance');
    expect((err as Error).message).toMatch(/flights\.parquet: column "distance" \(numeric feature\) is missing/);
  });

  it('names a mistyped column with the expected and actual type', () => {
    const data = dataParams({ features: { numeric: ['c'], categorical: [], datetime: [] } });
    expect(() => validateSchema(table(), data, 't')).toThrow(ColumnTypeError);
    expect(() => validateSchema(table(), data, 't')).toThrow(/column "c" \(numeric feature\) has type String, expected a numeric type/);
    const target = dataParams({ target: { column: 'c', positive_when: { gt: 0 } }, features: { numeric: ['x'], categorical: [], datetime: [] } });
    expect(() => validateSchema(table(), target, 't')).toThrow(/column "c" \(target\) has type String/);
  });
});

describe('selectColumns', () => {
  it('keeps the used columns, reads na_values as null and parses string datetimes', () => {
    const data = dataParams({ features: { numeric: ['x'], categorical: ['c'], datetime: ['when'] }, na_values: ['.'] });
    const out = selectColumns(table(), data, 't');
    expect(out.columns).toEqual(['y', 'x', 'c', 'when']);
    expect(out.getColumn('c').toArray()).toEqual(['a', 'b', null]);
    expect(out.getColumn('when').dtype.variant).toBe('Datetime');
    expect(out.select(pl.col('when').dt.hour().alias('h')).getColumn('h').toArray()).toEqual([3, 4, null]);
  });

  it('names a datetime column whose strings do not parse', () => {
    const df = table().withColumns(pl.Series('when', ['2001-01-02 03:04:00', 'soon', null]));
    const data = dataParams({ features: { numeric: [], categorical: [], datetime: ['when'] } });
    expect(() => selectColumns(df, data, 't.csv')).toThrow(/t\.csv: column "when" \(datetime feature\) has type String with unparsable value "soon"/);
  });
});
