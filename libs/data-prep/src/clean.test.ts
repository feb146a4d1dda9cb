import pl from 'nodejs-polars';
import { cleanTable } from './clean.js';
import { ColumnTypeError } from './errors.js';
import { dataParams, prepareParams } from './test-helpers.js';

const base = { features: { numeric: ['distance'], categorical: ['c'], datetime: [] } };

describe('cleanTable', () => {
  it('drops rows with a null target', () => {
    const df = pl.DataFrame({ y: [1, null, 3], distance: [1, 2, 3], c: ['a', 'b', 'c'] });
    const r = cleanTable(df, { data: dataParams(base), prepare: prepareParams() });
    expect(r.dropped['null_target']).toBe(1);
    expect(r.df.getColumn('distance').toArray()).toEqual([1, 3]);
  });

  it('drops impossible values (a negative distance) but keeps nulls for imputation', () => {
    const df = pl.DataFrame({ y: [1, 2, 3, 4], distance: [100, -5, null, 0], c: ['a', 'b', 'c', 'd'] });
    const r = cleanTable(df, { data: dataParams({ ...base, valid: { distance: { gte: 0 } } }), prepare: prepareParams() });
    expect(r.dropped['invalid_distance']).toBe(1);
    expect(r.df.getColumn('distance').toArray()).toEqual([100, null, 0]);
  });

  it('drops rows with null features only when asked', () => {
    const df = pl.DataFrame({ y: [1, 2, 3], distance: [1, null, 3], c: ['a', 'b', null] });
    const keep = cleanTable(df, { data: dataParams(base), prepare: prepareParams() });
    expect(keep.df.height).toBe(3);
    expect(keep.dropped['null_features']).toBeUndefined();
    const drop = cleanTable(df, { data: dataParams(base), prepare: prepareParams({ drop_null_features: true }) });
    expect(drop.dropped['null_features']).toBe(2);
    expect(drop.df.getColumn('y').toArray()).toEqual([1]);
  });

  it('drops exact duplicates keeping the first occurrence and the row order', () => {
    const df = pl.DataFrame({ y: [3, 1, 3, 2, 1], distance: [30, 10, 30, 20, 11], c: ['z', 'a', 'z', 'b', 'a'] });
    const r = cleanTable(df, { data: dataParams(base), prepare: prepareParams() });
    expect(r.dropped['duplicates']).toBe(1);
    expect(r.df.getColumn('distance').toArray()).toEqual([30, 10, 20, 11]);
    const off = cleanTable(df, { data: dataParams(base), prepare: prepareParams({ drop_duplicates: false }) });
    expect(off.df.height).toBe(5);
  });

  it('clips outliers to the thresholds, counting the values changed and keeping integer columns integer', () => {
    const df = pl.DataFrame({ y: [1, 2, 3, 4], distance: pl.Series('distance', [5, 5000, 50, -3], pl.Int64), c: ['a', 'b', 'c', 'd'] });
    const r = cleanTable(df, { data: dataParams({ ...base, clip: { distance: { min: 0, max: 3000 } } }), prepare: prepareParams() });
    expect(r.clipped['distance']).toBe(2);
    expect(r.df.getColumn('distance').dtype.variant).toBe('Int64');
    expect(r.df.getColumn('distance').toArray().map(Number)).toEqual([5, 3000, 50, 0]);
    const half = cleanTable(df, { data: dataParams({ ...base, clip: { distance: { max: 10.5 } } }), prepare: prepareParams() });
    expect(half.df.getColumn('distance').toArray()).toEqual([5, 10.5, 10.5, -3]);
  });

  it('drops values outside the declared classes of a categorical target', () => {
    const df = pl.DataFrame({ y: ['cat', 'dog', 'eel', 'cat'], distance: [1, 2, 3, 4], c: ['a', 'b', 'c', 'd'] });
    const data = dataParams({ ...base, target: { column: 'y', classes: ['cat', 'dog'] } });
    const r = cleanTable(df, { data, prepare: prepareParams(), classes: ['cat', 'dog'] });
    expect(r.dropped['unknown_class']).toBe(1);
    expect(r.df.getColumn('y').toArray()).toEqual(['cat', 'dog', 'cat']);
  });

  it('counts each row once, under the first rule that drops it', () => {
    // Row 2 has a null target and an impossible distance: counted as null_target only.
    const df = pl.DataFrame({ y: [1, null, 1], distance: [1, -1, 1], c: ['a', 'b', 'a'] });
    const r = cleanTable(df, { data: dataParams({ ...base, valid: { distance: { gt: 0 } } }), prepare: prepareParams() });
    expect(r.dropped).toEqual({ null_target: 1, invalid_distance: 0, duplicates: 1 });
    expect(r.df.height).toBe(1);
  });

  it('refuses range rules on non-numeric columns, naming the column', () => {
    const df = pl.DataFrame({ y: [1], distance: [1], c: ['a'] });
    const data = dataParams({ ...base, clip: { c: { max: 1 } } });
    expect(() => cleanTable(df, { data, prepare: prepareParams(), file: 'f.csv' })).toThrow(ColumnTypeError);
    expect(() => cleanTable(df, { data, prepare: prepareParams(), file: 'f.csv' })).toThrow(/column "c" \(data\.clip rule\)/);
  });
});
