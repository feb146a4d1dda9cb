import pl from 'nodejs-polars';
import { DataContentError } from './errors.js';
import { MISSING_CATEGORY, OTHER_CATEGORY, applyFeaturizer, fitFeaturizer, fitScaler, topK } from './featurize.js';
import { dataParams, featurizeParams } from './test-helpers.js';

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const std = (a: number[]) => Math.sqrt(mean(a.map((v) => (v - mean(a)) ** 2)));

describe('topK', () => {
  it('keeps the most frequent values, ties broken by value', () => {
    expect(topK(new Map([['b', 5], ['a', 5], ['c', 9], ['d', 1]]), 3)).toEqual(['c', 'a', 'b']);
  });
});

describe('fitScaler', () => {
  it('imputes with the median and scales the imputed values', () => {
    const s = fitScaler(Float64Array.from([1, 2, 9]), 1, 'standard', 'median', 'x');
    expect(s.impute).toBe(2);
    expect(s.center).toBeCloseTo(mean([1, 2, 9, 2]));
    expect(s.scale).toBeCloseTo(std([1, 2, 9, 2]));
    const m = fitScaler(Float64Array.from([4, 6, 10]), 0, 'minmax', 'mean', 'x');
    expect(m).toMatchObject({ impute: 20 / 3, center: 4, scale: 6 });
    expect(fitScaler(Float64Array.from([3, 3]), 0, 'standard', 'median', 'x').scale).toBe(1);
  });

  it('names a feature with no train values', () => {
    expect(() => fitScaler(new Float64Array(0), 4, 'standard', 'median', 'Body Mass (g)')).toThrow(/feature "Body Mass \(g\)" has no non-null value/);
  });
});

describe('fitFeaturizer / applyFeaturizer', () => {
  const data = dataParams({ features: { numeric: ['x'], categorical: ['c'], datetime: ['t'] } });
  const opts = { data, featurize: featurizeParams({ top_k: 2, date_parts: ['month', 'hour'] }) };
  const train = pl.DataFrame({
    x: [1, 2, 3, 4, null],
    c: ['a', 'a', 'b', 'b', 'z'],
    t: [new Date(Date.UTC(2001, 0, 1, 5)), new Date(Date.UTC(2001, 1, 1, 6)), new Date(Date.UTC(2001, 2, 1, 7)), new Date(Date.UTC(2001, 3, 1, 8)), new Date(Date.UTC(2001, 4, 1, 9))],
  });
  const valid = pl.DataFrame({
    x: [10, 20, null],
    c: ['b', 'unseen', null],
    t: [new Date(Date.UTC(2001, 5, 1, 23)), new Date(Date.UTC(2001, 6, 1, 22)), new Date(Date.UTC(2001, 7, 1, 21))],
  });

  it('names features numeric, date parts, then one-hot top-K plus other', () => {
    const f = fitFeaturizer(train, opts);
    expect(f.featureNames).toEqual(['x', 't_month', 't_hour', 'c=a', 'c=b', `c=${OTHER_CATEGORY}`]);
    expect(f.encoders['c']).toMatchObject({ type: 'onehot_topk', categories: ['a', 'b'], missing: MISSING_CATEGORY });
    expect(f.encoders['t']).toMatchObject({ type: 'date_parts', parts: ['month', 'hour'] });
  });

  it('fits scalers on train only: train is standardized, valid keeps its own shift', () => {
    const f = fitFeaturizer(train, opts);
    expect(f.scalers['x']!.impute).toBe(2.5);
    const tr = applyFeaturizer(train, f, opts);
    const va = applyFeaturizer(valid, f, opts);
    const trX = tr.getColumn('x').toArray() as number[];
    const vaX = va.getColumn('x').toArray() as number[];
    expect(mean(trX)).toBeCloseTo(0, 5);
    expect(std(trX)).toBeCloseTo(1, 5);
    // Valid values far from train: scaled with train statistics they stay far (a refit would centre them).
    expect(mean(vaX)).toBeGreaterThan(3);
    expect(vaX[2]).toBeCloseTo((2.5 - f.scalers['x']!.center) / f.scalers['x']!.scale, 5);
    const hours = va.getColumn('t_hour').toArray() as number[];
    expect(Math.min(...hours)).toBeGreaterThan(1);
  });

  it('one-hot encodes with values outside the top-K, unseen values and nulls in "other"', () => {
    const f = fitFeaturizer(train, opts);
    const va = applyFeaturizer(valid, f, opts);
    expect(va.columns).toEqual(f.featureNames);
    expect(va.dtypes.every((t) => t.variant === 'Float32')).toBe(true);
    expect(va.getColumn('c=b').toArray()).toEqual([1, 0, 0]);
    expect(va.getColumn(`c=${OTHER_CATEGORY}`).toArray()).toEqual([0, 1, 1]);
    const tr = applyFeaturizer(train, f, opts);
    expect(tr.getColumn(`c=${OTHER_CATEGORY}`).toArray()).toEqual([0, 0, 0, 0, 1]);
  });

  it('gives nulls their own category when they are frequent enough', () => {
    const t = pl.DataFrame({ x: [1, 2, 3], c: [null, null, 'q'], t: [new Date(0), new Date(0), new Date(0)] });
    const f = fitFeaturizer(t, opts);
    expect(f.featureNames).toContain(`c=${MISSING_CATEGORY}`);
    expect(applyFeaturizer(t, f, opts).getColumn(`c=${MISSING_CATEGORY}`).toArray()).toEqual([1, 1, 0]);
  });

  it('refuses an empty train split', () => {
    expect(() => fitFeaturizer(train.head(0), opts)).toThrow(DataContentError);
  });
});
