import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { FeatureFileError } from './errors.js';
import { loadFeatureSplit } from './feature-split.js';
import type { FeatureMeta } from './meta.js';

describe('loadFeatureSplit', () => {
  let dir: string;
  const meta: FeatureMeta = {
    task: 'multiclass',
    target: 'kind',
    labelColumn: 'label',
    classes: ['a', 'b', 'c'],
    featureNames: ['f1', 'f2'],
    rows: { train: 3, valid: 0, test: 0 },
    classCounts: { train: [1, 1, 1], valid: [0, 0, 0], test: [0, 0, 0] },
    encoders: {},
    scalers: { f1: { method: 'none', impute: 0, center: 0, scale: 1 } },
    dataMd5: '0123456789abcdef0123456789abcdef',
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'data-prep-split-'));
    await writeFile(join(dir, 'meta.json'), JSON.stringify(meta));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('returns row-major features and labels', async () => {
    pl.DataFrame({
      f1: pl.Series('f1', [1, 2, 3], pl.Float32),
      f2: pl.Series('f2', [10, 20, 30], pl.Float64),
      label: pl.Series('label', [2, 0, 1], pl.Int32),
    }).writeParquet(join(dir, 'train.parquet'));
    const s = await loadFeatureSplit(dir, 'train');
    expect([s.rows, s.cols]).toEqual([3, 2]);
    expect(Array.from(s.x)).toEqual([1, 10, 2, 20, 3, 30]);
    expect(Array.from(s.y)).toEqual([2, 0, 1]);
    expect(s.meta.classes).toEqual(['a', 'b', 'c']);
  });

  it('names a feature missing from the file and a label out of range', async () => {
    pl.DataFrame({ f1: [1, 2, 3], label: pl.Series('label', [0, 1, 2], pl.Int32) }).writeParquet(join(dir, 'train.parquet'));
    await expect(loadFeatureSplit(dir, 'train')).rejects.toThrow(/train\.parquet: columns missing \(listed in meta\.json\): f2/);
    pl.DataFrame({ f1: [1, 2, 3], f2: [1, 2, 3], label: pl.Series('label', [0, 1, 3], pl.Int32) }).writeParquet(join(dir, 'train.parquet'));
    await expect(loadFeatureSplit(dir, 'train')).rejects.toThrow(/row 2: label 3 outside 0\.\.2/);
  });

  it('rejects invalid metadata with the offending key', async () => {
    await writeFile(join(dir, 'meta.json'), JSON.stringify({ ...meta, dataMd5: 'nope' }));
    await expect(loadFeatureSplit(dir, 'valid')).rejects.toThrow(FeatureFileError);
    await expect(loadFeatureSplit(dir, 'valid')).rejects.toThrow(/meta\.json: invalid feature metadata: dataMd5/);
  });
});
