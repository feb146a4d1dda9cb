// Date parts decided per column, tables without rows, and the lazy schema read — on small CSV, JSON and parquet
// files written by the tests.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import {
  ColumnTypeError,
  DatePartsError,
  EmptyTableError,
  FeatureMetaSchema,
  checkDateParts,
  checkTableSchema,
  frameSchema,
  loadTable,
  parseDataPrepParams,
  readTableSchema,
  runFeaturize,
  runPrepare,
} from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'data-prep-tables-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const N = 60;
const day = (i: number) => `2001-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`;

/** A CSV with a date-only column (`day`), a datetime column with times (`at`) and one at midnight (`midnight`). */
async function datesCsv(name: string): Promise<string> {
  const lines = ['y,x,day,at,midnight'];
  for (let i = 0; i < N; i++) lines.push(`${i % 3},${i * 1.5},${day(i)},${day(i)} ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00,${day(i)} 00:00:00`);
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

const params = (path: string, datetime: string[], date_parts: string[], numeric = ['x']) =>
  parseDataPrepParams({
    data: { path, rows: 0, target: { column: 'y', positive_when: { gt: 0 } }, task: 'binary', features: { numeric, categorical: [], datetime } },
    prepare: { seed: 1, drop_duplicates: false },
    featurize: { top_k: 2, date_parts },
    split: { train: 0.6, valid: 0.2, test: 0.2, seed: 1 },
  });

async function prepareAndFeaturize(p: ReturnType<typeof params>, name: string) {
  const prepared = join(dir, name, 'prepared');
  const features = join(dir, name, 'features');
  const lines: string[] = [];
  await runPrepare({ data: p.data, prepare: p.prepare, outDir: prepared });
  const run = runFeaturize({ data: p.data, featurize: p.featurize, split: p.split, inDir: prepared, outDir: features, onProgress: (l) => lines.push(l) });
  return { run, features, lines };
}

describe('featurize.date_parts per column', () => {
  it('gives a date-only column only the date parts, a column with times every part, and records both in meta.json', async () => {
    const p = params(await datesCsv('dates.csv'), ['day', 'at', 'midnight'], ['month', 'weekday', 'hour']);
    const { run, features, lines } = await prepareAndFeaturize(p, 'mixed');
    const meta = await run;
    expect(meta.featureNames).toEqual(['x', 'day_month', 'day_weekday', 'at_month', 'at_weekday', 'at_hour', 'midnight_month', 'midnight_weekday']);
    expect(meta.encoders['day']).toEqual({
      type: 'date_parts',
      parts: ['month', 'weekday'],
      features: ['day_month', 'day_weekday'],
      skipped: ['hour'],
      skippedBecause: 'no time of day',
    });
    expect(meta.encoders['at']).toEqual({ type: 'date_parts', parts: ['month', 'weekday', 'hour'], features: ['at_month', 'at_weekday', 'at_hour'] });
    expect(meta.encoders['midnight']).toMatchObject({ parts: ['month', 'weekday'], skipped: ['hour'] });
    expect(FeatureMetaSchema.parse(JSON.parse(await readFile(join(features, 'meta.json'), 'utf8')))).toEqual(meta);
    expect(lines).toContain('day: no time of day: featurize.date_parts hour skipped for it (it gets month, weekday)');
    // The hours of the column with times are real features (not constant).
    const train = pl.readParquet(join(features, 'train.parquet'));
    expect(train.getColumn('at_hour').nUnique()).toBeGreaterThan(5);
  });

  it('treats strings without a time (a JSON table) and a parquet Date column as date-only too', async () => {
    const json = join(dir, 'dates.json');
    await writeFile(json, JSON.stringify(Array.from({ length: N }, (_, i) => ({ y: i % 3, x: i, when: day(i) }))));
    const a = await (await prepareAndFeaturize(params(json, ['when'], ['year', 'hour', 'minute']), 'json')).run;
    expect(a.encoders['when']).toMatchObject({ parts: ['year'], skipped: ['hour', 'minute'] });

    const parquet = join(dir, 'dates.parquet');
    pl.DataFrame({ y: Array.from({ length: N }, (_, i) => i % 3), x: Array.from({ length: N }, (_, i) => i) })
      .withColumns(pl.Series('when', Array.from({ length: N }, (_, i) => day(i))).str.strptime(pl.Date, '%Y-%m-%d'))
      .writeParquet(parquet);
    expect(frameSchema(pl.readParquet(parquet))['when']).toBe('Date');
    const b = await (await prepareAndFeaturize(params(parquet, ['when'], ['day', 'hour']), 'parquet')).run;
    expect(b.encoders['when']).toMatchObject({ parts: ['day'], skipped: ['hour'] });
    expect(b.featureNames).toEqual(['x', 'when_day']);
  });

  it('stops, naming the column and featurize.date_parts, when a date-only column would get no part; nothing is written', async () => {
    const p = params(await datesCsv('only-hour.csv'), ['at', 'day'], ['hour']);
    const { run, features } = await prepareAndFeaturize(p, 'only-hour');
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DatePartsError);
    const e = err as DatePartsError;
    expect(e.column).toBe('day');
    expect(e.key).toBe('featurize.date_parts');
    expect(e.code).toBe('ERR_DATA_PREP_DATE_PARTS');
    expect(e.message).toMatch(/column "day" holds dates without a time of day \(no hour, no minute\), so featurize\.date_parts \[hour\] gives it no feature/);
    expect(e.message).toContain('add one of year, month, day, weekday, ordinal_day, week to featurize.date_parts');
    expect(existsSync(features)).toBe(false);
  });

  it('names data.features.datetime and featurize.date_parts for a non-date column listed as datetime', async () => {
    const p = params(await datesCsv('numeric-as-date.csv'), ['x'], ['month'], []);
    const err = await runPrepare({ data: p.data, prepare: p.prepare, outDir: join(dir, 'numeric-as-date') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ColumnTypeError);
    expect((err as ColumnTypeError).key).toBe('data.features.datetime');
    expect((err as Error).message).toMatch(/column "x" \(datetime feature\) has type Float64, expected Date, Datetime or a parsable string \(featurize\.date_parts/);
  });
});

describe('tables without rows', () => {
  const cases: [string, string | (() => void), string][] = [
    ['header-only.csv', 'y,x,c\n', ' (only the columns: y, x, c)'],
    ['zero-bytes.csv', '', ''],
    ['empty.json', '[]', ''],
    ['empty.ndjson', '', ''],
    ['empty.parquet', '', ' (only the columns: y, x, c)'],
  ];
  beforeAll(async () => {
    for (const [name, content] of cases) {
      const path = join(dir, name);
      if (name.endsWith('.parquet')) pl.DataFrame({ y: [1], x: [2.5], c: ['a'] }).filter(pl.col('y').gt(5)).writeParquet(path);
      else await writeFile(path, content as string);
    }
  });

  it.each(cases)('%s: prepare says the table has no rows, naming the file', async (name, _content, columns) => {
    const path = join(dir, name);
    const p = params(path, [], ['month'], ['x']);
    const err = await runPrepare({ data: p.data, prepare: p.prepare, outDir: join(dir, `out-${name}`) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EmptyTableError);
    expect((err as EmptyTableError).file).toBe(path);
    expect((err as Error).message).toBe(`${path}: the table has no rows${columns}`);
    expect(() => readTableSchema(path)).toThrow(`${path}: the table has no rows${columns}`);
    expect(existsSync(join(dir, `out-${name}`))).toBe(false);
  });
});

describe('readTableSchema', () => {
  it('gives the dtypes loadTable reads, for parquet, CSV, JSON and JSON lines', async () => {
    const csv = await datesCsv('schema.csv');
    const df = loadTable({ path: csv });
    const files = { csv, parquet: join(dir, 'schema.parquet'), json: join(dir, 'schema.json'), ndjson: join(dir, 'schema.ndjson') };
    df.writeParquet(files.parquet);
    const records = df.select('y', 'x').toRecords();
    await writeFile(files.json, JSON.stringify(records));
    await writeFile(files.ndjson, records.map((r) => JSON.stringify(r)).join('\n'));
    expect(readTableSchema(csv)).toEqual({ y: 'Int64', x: 'Float64', day: 'Date', at: 'Datetime', midnight: 'Datetime' });
    for (const path of Object.values(files)) expect(readTableSchema(path), path).toEqual(frameSchema(loadTable({ path })));
    expect(Object.keys(readTableSchema(files.parquet))).toEqual(['y', 'x', 'day', 'at', 'midnight']);
  });

  it('reads a CSV only as far as its dtypes are inferred: a bad value further down does not stop it', async () => {
    const path = join(dir, 'long.csv');
    const rows = Array.from({ length: 12_000 }, (_, i) => `${i},${i % 7}`);
    rows[11_500] = 'not-a-number,3';
    await writeFile(path, `n,k\n${rows.join('\n')}\n`);
    expect(() => loadTable({ path })).toThrow(/cannot read as csv/);
    expect(readTableSchema(path)).toEqual({ n: 'Int64', k: 'Int64' });
  });

  it('feeds checkTableSchema, which lists every problem at once with its params key', async () => {
    const csv = await datesCsv('check.csv');
    const p = parseDataPrepParams({
      data: {
        path: csv,
        rows: 0,
        target: { column: 'y', positive_when: { gt: 0 } },
        task: 'binary',
        features: { numeric: ['day', 'air_time'], categorical: [], datetime: ['x'] },
      },
      prepare: { seed: 1 },
      featurize: { top_k: 2 },
      split: { train: 0.6, valid: 0.2, test: 0.2, seed: 1 },
    });
    const problems = checkTableSchema(readTableSchema(csv), p.data, csv);
    expect(problems.map((e) => [e.constructor.name, e.column, e.key])).toEqual([
      ['ColumnTypeError', 'day', 'data.features.numeric'],
      ['MissingColumnError', 'air_time', 'data.features.numeric'],
      ['ColumnTypeError', 'x', 'data.features.datetime'],
    ]);
    expect(problems[1]!.message).toBe(`${csv}: column "air_time" (numeric feature) is missing; columns are: y, x, day, at, midnight`);
    expect(checkTableSchema(readTableSchema(csv), params(csv, ['day', 'at'], ['month']).data, csv)).toEqual([]);
  });

  it('feeds checkDateParts: only time parts asked of a Date column is found from the schema alone', async () => {
    const csv = await datesCsv('check-parts.csv');
    const schema = readTableSchema(csv);
    const onlyHour = params(csv, ['day', 'at', 'midnight'], ['hour', 'minute']);
    const problems = checkDateParts(schema, onlyHour.data, onlyHour.featurize, csv);
    expect(problems.map((e) => [e.column, e.key, e.code])).toEqual([['day', 'featurize.date_parts', 'ERR_DATA_PREP_DATE_PARTS']]);
    expect(problems[0]!.message).toContain(`${csv}: column "day" holds dates without a time of day`);
    const some = params(csv, ['day'], ['month', 'hour']);
    expect(checkDateParts(schema, some.data, some.featurize, csv)).toEqual([]);
  });

  it('names a missing file and an unknown extension', async () => {
    expect(() => readTableSchema(join(dir, 'nope.csv'))).toThrow(`${join(dir, 'nope.csv')}: file not found`);
    await writeFile(join(dir, 't.xlsx'), 'x');
    expect(() => readTableSchema(join(dir, 't.xlsx'))).toThrow(/cannot infer the format from extension "\.xlsx"; set data\.format/);
  });
});
