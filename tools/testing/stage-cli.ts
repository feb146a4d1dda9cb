// Running pipeline stages the way dvc.yaml does (node + tsx, source conditions), and the penguins table as a small
// multiclass fixture (three classes, missing values) for stage tests.
import { execa, type Result } from 'execa';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';

/** The repository root. */
export const root = resolve(import.meta.dirname, '../..');
/** tsx named by its resolved URL, so a stage can run from a scratch folder. */
export const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Runs `apps/<app>/src/main.ts` with `args` in `cwd`; never rejects (assert on `exitCode`/`stderr`). The environment
 * is the test's, with `MLFLOW_TRACKING_URI` cleared unless `env` sets it.
 */
export function runStageCli(app: string, args: readonly string[], opts: { cwd: string; env?: Record<string, string> }): Promise<Result<{ reject: false }>> {
  return execa('node', ['--conditions=@mlops-ts/source', '--import', tsx, join(root, 'apps', app, 'src/main.ts'), ...args], {
    cwd: opts.cwd,
    reject: false,
    env: { MLFLOW_TRACKING_URI: '', ...opts.env },
    extendEnv: true,
  });
}

/** The repository's params.yaml, parsed. */
export async function repoParams(): Promise<Record<string, unknown>> {
  return parse(await readFile(join(root, 'params.yaml'), 'utf8')) as Record<string, unknown>;
}

/** A `data` section for vega-datasets' penguins (344 rows, 3 species, missing values written as "."). */
export function penguinsData(): Record<string, unknown> {
  return {
    path: join(root, 'node_modules/vega-datasets/data/penguins.json'),
    format: 'auto',
    rows: 0,
    target: { column: 'Species' },
    task: 'multiclass',
    features: { numeric: ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'], categorical: ['Island', 'Sex'] },
    na_values: ['.'],
  };
}

/** The repository's params with the penguins `data` section and short training (for fast stage tests). */
export async function penguinsParams(epochs = 3): Promise<Record<string, unknown>> {
  const params = await repoParams();
  return { ...params, data: penguinsData(), train: { ...(params['train'] as object), epochs } };
}

/** Writes penguins feature splits to `<dir>/features` (prepared data to `<dir>/prepared`) through the data stages' own code. */
export async function penguinsFeatures(dir: string, epochs = 3): Promise<{ params: Record<string, unknown>; features: string }> {
  const { parseDataPrepParams, runFeaturize, runPrepare } = await import('@mlops-ts/data-prep');
  const params = await penguinsParams(epochs);
  const p = parseDataPrepParams(params);
  await runPrepare({ data: p.data, prepare: p.prepare, outDir: join(dir, 'prepared') });
  const features = join(dir, 'features');
  await runFeaturize({ data: p.data, featurize: p.featurize, split: p.split, inDir: join(dir, 'prepared'), outDir: features });
  return { params, features };
}
