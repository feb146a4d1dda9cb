import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import pl from 'nodejs-polars';
import { parse, stringify } from 'yaml';
import { main } from '../src/cli.js';

const root = resolve(import.meta.dirname, '../../..');

/** The repository's params.yaml with only the `data` section changed. */
async function paramsWithData(dir: string, name: string, data: (d: Record<string, unknown>) => Record<string, unknown>): Promise<string> {
  const params = parse(await readFile(join(root, 'params.yaml'), 'utf8')) as Record<string, unknown>;
  params['data'] = data(params['data'] as Record<string, unknown>);
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, stringify(params));
  return file;
}

/** The prepare command exactly as dvc.yaml runs it, with its file arguments pointed elsewhere. */
async function stageCommand(args: Record<string, string>): Promise<string[]> {
  const dvc = parse(await readFile(join(root, 'dvc.yaml'), 'utf8')) as { stages: Record<string, { cmd: string }> };
  const words = dvc.stages['prepare']!.cmd.trim().split(/\s+/);
  for (const [flag, value] of Object.entries(args)) words[words.indexOf(flag) + 1] = value;
  return words;
}

const quiet = () => undefined;

describe('prepare stage', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stage-prepare-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prepares a 20k-row flights sample and writes data-quality metrics', async () => {
    const params = await paramsWithData(dir, 'flights', (d) => ({ ...d, path: join(root, 'data/raw/flights.parquet'), rows: 20_000 }));
    const out = join(dir, 'flights');
    const metrics = join(dir, 'flights-dq.json');
    const result = await main(['--params', params, '--out', out, '--metrics', metrics], quiet);
    const q = JSON.parse(await readFile(metrics, 'utf8'));
    expect(q).toEqual(JSON.parse(JSON.stringify(result.quality)));
    expect(q.rows).toMatchObject({ source: 3_000_000, in: 20_000 });
    expect(q.rows.out).toBe(20_000 - q.rows.dropped);
    expect(Object.keys(q.nulls_in).sort()).toEqual(['date', 'delay', 'destination', 'distance', 'origin']);
    expect(Object.keys(q.class_balance)).toEqual(['on_time', 'delayed']);
    expect(q.class_balance.on_time + q.class_balance.delayed).toBeCloseTo(1, 5);
    expect(q.class_balance.delayed).toBeGreaterThan(0.15);
    expect(q.class_balance.delayed).toBeLessThan(0.25);
    const df = pl.readParquet(join(out, 'data.parquet'));
    expect(df.height).toBe(q.rows.out);
    expect(df.getColumn('distance').max()).toBeLessThanOrEqual(3000);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.source.md5).toBe('901eadf99cebf2b2405b33077404882d');
  });

  it('prepares penguins with only the data section edited', async () => {
    const params = await paramsWithData(dir, 'penguins', () => ({
      path: join(root, 'node_modules/vega-datasets/data/penguins.json'),
      rows: 0,
      target: { column: 'Species' },
      task: 'multiclass',
      features: { numeric: ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'], categorical: ['Island', 'Sex'] },
      na_values: ['.'],
      valid: { 'Body Mass (g)': { gt: 0 } },
    }));
    const metrics = join(dir, 'penguins-dq.json');
    await main(['--params', params, '--out', join(dir, 'penguins'), '--metrics', metrics], quiet);
    const q = JSON.parse(await readFile(metrics, 'utf8'));
    expect(q.rows).toEqual({ source: 344, in: 344, out: 344 - q.rows.dropped, dropped: q.rows.dropped });
    expect(q.nulls_in).toMatchObject({ Sex: 11, 'Body Mass (g)': 2, Species: 0 });
    expect(Object.keys(q.class_counts)).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(q.dropped).toHaveProperty('invalid_Body Mass (g)', 0);
  });

  it('names an invalid params key', async () => {
    const params = await paramsWithData(dir, 'bad-rows', (d) => ({ ...d, rows: -5 }));
    await expect(main(['--params', params, '--out', join(dir, 'x'), '--metrics', join(dir, 'x.json')], quiet)).rejects.toThrow(
      /bad-rows\.yaml: data\.rows: must be >= 0 \(got -5\)/,
    );
  });

  it('run as the dvc.yaml command, fails naming a missing or mistyped column and writes nothing', async () => {
    const out = join(dir, 'cli-out');
    const metrics = join(dir, 'cli-dq.json');
    const missing = await paramsWithData(dir, 'missing', (d) => ({
      ...d,
      path: join(root, 'data/raw/flights.parquet'),
      rows: 1000,
      features: { numeric: ['distance', 'air_time'], categorical: ['origin'], datetime: ['date'] },
    }));
    const [cmd, ...args] = await stageCommand({ '--params': missing, '--out': out, '--metrics': metrics });
    const r1 = await execa(cmd!, args, { cwd: root, reject: false });
    expect(r1.exitCode).toBe(1);
    expect(r1.stderr).toMatch(/column "air_time" \(numeric feature\) is missing; columns are: date, delay, distance, origin, destination/);

    const mistyped = await paramsWithData(dir, 'mistyped', (d) => ({
      ...d,
      path: join(root, 'data/raw/flights.parquet'),
      rows: 1000,
      features: { numeric: ['distance', 'origin'], categorical: [], datetime: ['date'] },
    }));
    const [cmd2, ...args2] = await stageCommand({ '--params': mistyped, '--out': out, '--metrics': metrics });
    const r2 = await execa(cmd2!, args2, { cwd: root, reject: false });
    expect(r2.exitCode).toBe(1);
    expect(r2.stderr).toMatch(/column "origin" \(numeric feature\) has type String, expected a numeric type/);
    expect(existsSync(out) || existsSync(metrics)).toBe(false);

    const ok = await paramsWithData(dir, 'ok', (d) => ({ ...d, path: join(root, 'data/raw/flights.parquet'), rows: 1000 }));
    const [cmd3, ...args3] = await stageCommand({ '--params': ok, '--out': out, '--metrics': metrics });
    const r3 = await execa(cmd3!, args3, { cwd: root, reject: false });
    expect(r3.exitCode).toBe(0);
    expect(r3.stderr).toMatch(/\[prepare\] done in .*1000 rows in/);
    expect(existsSync(join(out, 'data.parquet'))).toBe(true);
  });
});
