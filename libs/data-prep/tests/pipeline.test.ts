import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pl from 'nodejs-polars';
import {
  MissingColumnError,
  loadFeatureSplit,
  md5File,
  parseDataPrepParams,
  runFeaturize,
  runPrepare,
  type DataQuality,
} from '../src/index.js';

const root = resolve(import.meta.dirname, '../../..');
const FLIGHTS = join(root, 'data/raw/flights.parquet');
const PENGUINS = join(root, 'node_modules/vega-datasets/data/penguins.json');

const common = {
  prepare: { seed: 3 },
  featurize: { top_k: 5, date_parts: ['month', 'weekday', 'hour'] },
  split: { train: 0.7, valid: 0.15, test: 0.15, seed: 9 },
};
const flights = (rows: number) =>
  parseDataPrepParams({
    ...common,
    data: {
      path: FLIGHTS,
      rows,
      target: { column: 'delay', positive_when: { gt: 15 }, classes: ['on_time', 'delayed'] },
      task: 'binary',
      features: { numeric: ['distance'], categorical: ['origin', 'destination'], datetime: ['date'] },
      valid: { distance: { gt: 0 } },
      clip: { distance: { max: 3000 } },
    },
  });

describe('prepare + featurize on real tables', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'data-prep-pipeline-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function run(p: ReturnType<typeof parseDataPrepParams>, name: string) {
    const prepared = join(dir, name, 'prepared');
    const features = join(dir, name, 'features');
    const metrics = join(dir, name, 'dq.json');
    const { quality } = await runPrepare({ data: p.data, prepare: p.prepare, outDir: prepared, metricsPath: metrics });
    const meta = await runFeaturize({ data: p.data, featurize: p.featurize, split: p.split, inDir: prepared, outDir: features });
    return { prepared, features, metrics, quality, meta };
  }

  it('gives byte-identical outputs for the same params, and different ones for another seed', async () => {
    const a = await run(flights(3000), 'a');
    const b = await run(flights(3000), 'b');
    for (const f of ['train.parquet', 'valid.parquet', 'test.parquet', 'meta.json']) {
      expect((await readFile(join(a.features, f))).equals(await readFile(join(b.features, f))), f).toBe(true);
    }
    expect((await readFile(join(a.prepared, 'data.parquet'))).equals(await readFile(join(b.prepared, 'data.parquet')))).toBe(true);
    expect(await readFile(a.metrics, 'utf8')).toBe(await readFile(b.metrics, 'utf8'));

    const p = flights(3000);
    const c = await run({ ...p, split: { ...p.split, seed: 10 } }, 'c');
    expect((await readFile(join(a.features, 'train.parquet'))).equals(await readFile(join(c.features, 'train.parquet')))).toBe(false);
    expect(a.meta.dataMd5).toBe(await md5File(FLIGHTS));
    // No temporary directories left behind.
    expect((await readdir(join(dir, 'a'))).sort()).toEqual(['dq.json', 'features', 'prepared']);
  });

  it('writes consistent metrics and splits for flights', async () => {
    const r = await run(flights(3000), 'f');
    const q = JSON.parse(await readFile(r.metrics, 'utf8')) as DataQuality;
    expect(q.rows.source).toBe(3_000_000);
    expect(q.rows.in).toBe(3000);
    expect(q.rows.out + q.rows.dropped).toBe(3000);
    expect(Object.values(q.dropped).reduce((s, v) => s + v, 0)).toBe(q.rows.dropped);
    expect(q.class_counts['on_time']! + q.class_counts['delayed']!).toBe(q.rows.out);
    expect(q.class_balance['delayed']).toBeCloseTo(q.class_counts['delayed']! / q.rows.out, 5);
    expect(q.clipped['distance']).toBeGreaterThanOrEqual(0);
    const train = await loadFeatureSplit(r.features, 'train');
    const test = await loadFeatureSplit(r.features, 'test');
    expect(train.rows + test.rows + r.meta.rows.valid).toBe(q.rows.out);
    expect(train.cols).toBe(1 + 3 + 2 * 6);
    // Stratified: the positive rate is the same in train and test up to rounding.
    const rate = (y: Int32Array) => y.reduce((s, v) => s + v, 0) / y.length;
    expect(Math.abs(rate(train.y) - rate(test.y))).toBeLessThan(0.01);
    // The scaler was fitted on train: train distance is centred, its statistics are in the metadata.
    const col = (x: Float32Array, j: number, cols: number) => Array.from({ length: x.length / cols }, (_, i) => x[i * cols + j]!);
    const d = col(train.x, 0, train.cols);
    expect(Math.abs(d.reduce((s, v) => s + v, 0) / d.length)).toBeLessThan(1e-3);
    expect(r.meta.scalers['distance']!.center).toBeGreaterThan(100);
  });

  it('runs penguins (missing values, three classes) with only the data section changed', async () => {
    const p = parseDataPrepParams({
      ...common,
      data: {
        path: PENGUINS,
        rows: 0,
        target: { column: 'Species' },
        task: 'multiclass',
        features: { numeric: ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'], categorical: ['Island', 'Sex'] },
        na_values: ['.'],
      },
    });
    const r = await run(p, 'penguins');
    expect(r.quality.nulls_in['Sex']).toBe(11);
    expect(r.quality.nulls_in['Body Mass (g)']).toBe(2);
    // Only the columns that still hold nulls after cleaning (featurize imputes them); the rest are left out.
    expect(r.quality.nulls_out).toEqual({ 'Beak Length (mm)': 2, 'Beak Depth (mm)': 2, 'Flipper Length (mm)': 2, 'Body Mass (g)': 2, Sex: 11 });
    expect(r.meta.classes).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    const s = await loadFeatureSplit(r.features, 'valid');
    expect(new Set(s.y)).toEqual(new Set([0, 1, 2]));
    expect(s.x.every(Number.isFinite)).toBe(true);
  });

  it('reads CSV and JSON lines, and leaves earlier outputs alone when a column is missing', async () => {
    const df = pl.readJSON(PENGUINS, { format: 'json' });
    const csv = join(dir, 'penguins.csv');
    const ndjson = join(dir, 'penguins.ndjson');
    df.writeCSV(csv);
    await writeFile(ndjson, df.writeJSON({ format: 'lines' }));
    const data = {
      rows: 0,
      target: { column: 'Species' },
      task: 'multiclass',
      features: { numeric: ['Body Mass (g)'], categorical: ['Island'] },
    };
    const out = join(dir, 'formats');
    for (const path of [csv, ndjson]) {
      // Duplicates kept: with two features many penguins repeat, and every row should be read.
      const p = parseDataPrepParams({ ...common, prepare: { seed: 1, drop_duplicates: false }, data: { ...data, path } });
      const { quality } = await runPrepare({ data: p.data, prepare: p.prepare, outDir: out });
      expect(quality.class_counts).toEqual({ Adelie: 152, Chinstrap: 68, Gentoo: 124 });
    }
    const before = await readFile(join(out, 'data.parquet'));
    const bad = parseDataPrepParams({ ...common, data: { ...data, path: csv, features: { numeric: ['Wing Span'] } } });
    await expect(runPrepare({ data: bad.data, prepare: bad.prepare, outDir: out })).rejects.toThrow(MissingColumnError);
    await expect(runPrepare({ data: bad.data, prepare: bad.prepare, outDir: out })).rejects.toThrow(/column "Wing Span" \(numeric feature\) is missing/);
    expect((await readFile(join(out, 'data.parquet'))).equals(before)).toBe(true);
    expect(existsSync(join(out, 'manifest.json'))).toBe(true);
  });
});
