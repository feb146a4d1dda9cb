import { ParamsError } from './errors.js';
import { DataParamsSchema, FeaturizeParamsSchema, SplitParamsSchema, parseDataPrepParams, parseParamsSection } from './params.js';

const base = {
  data: {
    path: 'x.parquet',
    rows: 10,
    target: { column: 'y', positive_when: { gt: 1 } },
    task: 'binary',
    features: { numeric: ['a'], categorical: ['b'] },
  },
  prepare: { seed: 1 },
  featurize: { top_k: 3 },
  split: { train: 0.8, valid: 0.1, test: 0.1, seed: 3 },
};

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ParamsError);
    return (error as ParamsError).issues.map((i) => i.key);
  }
  throw new Error('expected a ParamsError');
}

describe('params schemas', () => {
  it('fills defaults and keeps the given values', () => {
    const p = parseDataPrepParams(base);
    expect(p.data.format).toBe('auto');
    expect(p.data.features.datetime).toEqual([]);
    expect(p.prepare.drop_duplicates).toBe(true);
    expect(p.featurize.date_parts).toEqual(['month', 'weekday', 'hour']);
    expect(p.split.stratify).toBe(true);
    expect(p.data.target.positive_when).toEqual({ gt: 1 });
  });

  it('names the missing key with its section', () => {
    const bad = { ...base, data: { ...base.data, target: { positive_when: { gt: 1 } } } };
    expect(issuesOf(() => parseDataPrepParams(bad, 'p.yaml'))).toEqual(['data.target.column']);
    expect(() => parseDataPrepParams(bad, 'p.yaml')).toThrow(/^p\.yaml: invalid params: data\.target\.column/);
  });

  it('rejects unknown keys, a target among the features, and rules on unused columns', () => {
    expect(issuesOf(() => parseParamsSection(DataParamsSchema, 'data', { ...base.data, colour: 1 }))).toEqual(['data']);
    const leak = { ...base.data, features: { numeric: ['a', 'y'] } };
    expect(issuesOf(() => parseParamsSection(DataParamsSchema, 'data', leak))).toEqual(['data.features']);
    const rule = { ...base.data, valid: { nope: { gt: 0 } } };
    expect(issuesOf(() => parseParamsSection(DataParamsSchema, 'data', rule))).toEqual(['data.valid.nope']);
  });

  it('lists every problem of a section at once: cross-field rules run even when another key is broken', () => {
    const bad = { ...base.data, rows: -1, target: { column: 'a' }, features: { numeric: ['a', 'b', 'b'] }, clip: { zz: { max: 1 } } };
    expect(issuesOf(() => parseParamsSection(DataParamsSchema, 'data', bad))).toEqual(['data.rows', 'data.features', 'data.features', 'data.clip.zz']);
    const noTarget = { ...base.data, target: {}, features: { numeric: ['a', 'a'] } };
    expect(() => parseParamsSection(DataParamsSchema, 'data', noTarget)).toThrow(/data\.target\.column: .*; data\.features: column "a" is listed twice/);
  });

  it('ties positive_when to a binary task', () => {
    const multi = { ...base.data, task: 'multiclass' };
    expect(issuesOf(() => parseParamsSection(DataParamsSchema, 'data', multi))).toEqual(['data.task']);
  });

  it('requires split fractions that add up to 1', () => {
    expect(issuesOf(() => parseParamsSection(SplitParamsSchema, 'split', { train: 0.8, valid: 0.3, test: 0.1, seed: 1 }))).toEqual(['split']);
    // The rule lives in the schema itself, so any caller of safeParse (stage-kit, npm run check) gets the sum.
    const r = SplitParamsSchema.safeParse({ train: 0.7, valid: 0.15, test: 0.1, seed: 1 });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message)).toEqual(['train + valid + test = 0.95, must be 1']);
    expect(() => parseParamsSection(SplitParamsSchema, 'split', { train: 0.5, valid: 0.1, test: 0.1, seed: 1 }, 'params.yaml')).toThrow(
      'params.yaml: invalid params: split: train + valid + test = 0.7, must be 1',
    );
    expect(SplitParamsSchema.safeParse({ train: 0.7, valid: 0.2, test: 0.1, seed: 1 }).success).toBe(true);
  });

  it('rejects a date part listed twice, naming its position', () => {
    expect(issuesOf(() => parseParamsSection(FeaturizeParamsSchema, 'featurize', { top_k: 1, date_parts: ['month', 'hour', 'month'] }))).toEqual([
      'featurize.date_parts.2',
    ]);
  });
});
