import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadFeatureSplit, FeatureMetaSchema } from '@mlops-ts/data-prep';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import { main } from '../src/cli.js';

const root = resolve(import.meta.dirname, '../../..');
const quiet = () => undefined;

/** The repository's params.yaml with only the `data` section changed. */
async function paramsWithData(dir: string, name: string, data: (d: Record<string, unknown>) => Record<string, unknown>): Promise<string> {
  const params = parse(await readFile(join(root, 'params.yaml'), 'utf8')) as Record<string, unknown>;
  params['data'] = data(params['data'] as Record<string, unknown>);
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, stringify(params));
  return file;
}

/** A stage command exactly as dvc.yaml has it, with its file arguments pointed elsewhere. */
async function stageCommand(stage: string, args: Record<string, string>): Promise<[string, string[]]> {
  const dvc = parse(await readFile(join(root, 'dvc.yaml'), 'utf8')) as { stages: Record<string, { cmd: string }> };
  const words = dvc.stages[stage]!.cmd.trim().split(/\s+/);
  for (const [flag, value] of Object.entries(args)) {
    const at = words.indexOf(flag);
    if (at < 0) throw new Error(`dvc.yaml stage ${stage} has no ${flag}`);
    words[at + 1] = value;
  }
  return [words[0]!, words.slice(1)];
}

describe('prepare → featurize stages', () => {
  let dir: string;
  const cases = {
    flights: (d: Record<string, unknown>) => ({ ...d, path: join(root, 'data/raw/flights.parquet'), rows: 20_000 }),
    penguins: () => ({
      path: join(root, 'node_modules/vega-datasets/data/penguins.json'),
      rows: 0,
      target: { column: 'Species' },
      task: 'multiclass',
      features: { numeric: ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'], categorical: ['Island', 'Sex'] },
      na_values: ['.'],
    }),
  };
  const params: Record<string, string> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stage-featurize-'));
    for (const [name, data] of Object.entries(cases)) {
      params[name] = await paramsWithData(dir, name, data);
      const [cmd, args] = await stageCommand('prepare', {
        '--params': params[name]!,
        '--out': join(dir, name, 'prepared'),
        '--metrics': join(dir, name, 'dq.json'),
      });
      await execa(cmd, args, { cwd: root });
    }
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('featurizes 20k flights: Float32 features, binary labels, metadata matching the files', async () => {
    const out = join(dir, 'flights', 'features');
    const meta = await main(['--params', params['flights']!, '--in', join(dir, 'flights', 'prepared'), '--out', out], quiet);
    expect(FeatureMetaSchema.parse(JSON.parse(await readFile(join(out, 'meta.json'), 'utf8')))).toEqual(meta);
    const dq = JSON.parse(await readFile(join(dir, 'flights', 'dq.json'), 'utf8'));
    expect(meta.rows.train + meta.rows.valid + meta.rows.test).toBe(dq.rows.out);
    expect(meta.classes).toEqual(['on_time', 'delayed']);
    expect(meta.featureNames.slice(0, 4)).toEqual(['distance', 'date_month', 'date_weekday', 'date_hour']);
    expect(meta.featureNames).toContain('origin=(other)');
    const train = await loadFeatureSplit(out, 'train');
    expect(train.rows).toBe(meta.rows.train);
    expect(train.x.length).toBe(train.rows * train.cols);
    expect(new Set(train.y)).toEqual(new Set([0, 1]));
    // Every row has exactly one active one-hot column per categorical feature.
    const origin = meta.featureNames.map((n, j) => (n.startsWith('origin=') ? j : -1)).filter((j) => j >= 0);
    for (let i = 0; i < 100; i++) expect(origin.reduce((s, j) => s + train.x[i * train.cols + j]!, 0)).toBe(1);
    // Positive rate per split follows the prepared class balance (stratified).
    const rate = meta.classCounts.valid[1]! / meta.rows.valid;
    expect(Math.abs(rate - dq.class_balance.delayed)).toBeLessThan(0.005);
  });

  it('is byte-identical when run twice with the same params', async () => {
    const a = join(dir, 'flights', 'again-a');
    const b = join(dir, 'flights', 'again-b');
    for (const out of [a, b]) await main(['--params', params['flights']!, '--in', join(dir, 'flights', 'prepared'), '--out', out], quiet);
    for (const f of ['train.parquet', 'valid.parquet', 'test.parquet', 'meta.json']) {
      expect((await readFile(join(a, f))).equals(await readFile(join(b, f))), f).toBe(true);
    }
  });

  it('featurizes penguins: three classes, imputed numeric features, nulls as a category', async () => {
    const out = join(dir, 'penguins', 'features');
    const [cmd, args] = await stageCommand('featurize', { '--params': params['penguins']!, '--in': join(dir, 'penguins', 'prepared'), '--out': out });
    const r = await execa(cmd, args, { cwd: root });
    expect(r.stderr).toMatch(/\[featurize\] done in/);
    const test = await loadFeatureSplit(out, 'test');
    expect(test.meta.task).toBe('multiclass');
    expect(test.meta.classes).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(new Set(test.y)).toEqual(new Set([0, 1, 2]));
    expect(test.x.every(Number.isFinite)).toBe(true);
    expect(test.meta.featureNames).toContain('Sex=(missing)');
    expect(test.meta.scalers['Body Mass (g)']!.impute).toBeGreaterThan(3000);
  });

  it('fails naming the problem when params no longer match the prepared data', async () => {
    const stale = await paramsWithData(dir, 'stale', (d) => ({ ...cases.flights(d), features: { numeric: ['distance'], categorical: ['carrier'] } }));
    await expect(main(['--params', stale, '--in', join(dir, 'flights', 'prepared'), '--out', join(dir, 'stale')], quiet)).rejects.toThrow(
      /data\.parquet: column "carrier" \(categorical feature\) is missing/,
    );
  });
});
