// The train stage's answers to bad input, through its CLI as dvc.yaml runs it: errors name the key, a server that
// is down gives one clear line and exit 1, an auth failure prints no credentials.
import { startLocalMlflowServer, freePort, type LocalMlflowServer } from '@mlops-ts/mlflow-client';
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';

const root = resolve(import.meta.dirname, '../../..');
const main = join(root, 'apps/train/src/main.ts');
// The stage runs from a scratch folder, so tsx is named by its resolved URL rather than found from the cwd.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
let dir: string;
let baseParams: Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'train-cli-'));
  baseParams = parse(await readFile(join(root, 'params.yaml'), 'utf8')) as Record<string, unknown>;
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function train(params: Record<string, unknown>, args: string[], env: Record<string, string> = {}) {
  const file = join(dir, `params-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, stringify(params));
  return execa('node', ['--conditions=@mlops-ts/source', '--import', tsx, main, '--params', file, '--features', join(dir, 'no-features'), ...args], {
    cwd: dir,
    reject: false,
    env: { MLFLOW_TRACKING_URI: '', ...env },
    extendEnv: true,
  });
}

const withModels = (models: unknown) => ({ ...baseParams, models });

test('an unknown model type is an error naming the key', async () => {
  const r = await train(withModels({ svm1: { type: 'svm' } }), ['--model', 'svm1']);
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toBe('train: invalid models params:\n  models.svm1.type: must be one of "logreg", "mlp" (got "svm")');
});

test('a wrong params value names the key and the value', async () => {
  const r = await train(withModels({ m: { type: 'mlp', layers: [8], dropout: 1.5 } }), ['--model', 'm']);
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toMatch(/models\.m\.dropout: must be < 1 \(got 1\.5\)/);
  const t = await train({ ...baseParams, train: { epochs: 0 } }, ['--model', 'logreg']);
  expect(t.exitCode).toBe(1);
  expect(t.stderr).toMatch(/train\.epochs/);
});

test('a model name that params.yaml does not have is named with the ones it has', async () => {
  const r = await train(baseParams, ['--model', 'nope']);
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toMatch(/models\.nope: no such model \(models are: logreg, mlp_small, mlp_wide\)/);
});

test('a tracking server that is down at the start gives one clear line and exit 1', async () => {
  const port = await freePort();
  const r = await train(baseParams, ['--model', 'logreg'], { MLFLOW_TRACKING_URI: `http://127.0.0.1:${port}`, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' });
  expect(r.exitCode).toBe(1);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('train:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}.*unreachable|unreachable.*127\\.0\\.0\\.1:${port}`));
});

describe('against a real MLflow server with basic auth', () => {
  let server: LocalMlflowServer;
  const adminPassword = 'admin-Pw-9f3b2c';
  beforeAll(async () => {
    server = await startLocalMlflowServer({ dir: join(dir, 'auth-server'), mlflowBin: join(root, '.venv/bin/mlflow'), basicAuth: { adminUsername: 'admin', adminPassword } });
  }, 180_000);
  afterAll(() => server?.stop());

  test('wrong credentials give a clear line and print no credentials', async () => {
    const secret = 'wrong-Secret-71c2';
    const r = await train(baseParams, ['--model', 'logreg'], {
      MLFLOW_TRACKING_URI: server.uri,
      MLFLOW_TRACKING_USERNAME: 'admin',
      MLFLOW_TRACKING_PASSWORD: secret,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^train: .*(401|auth|credential)/im);
    expect(r.stderr + r.stdout).not.toContain(secret);
    expect(r.stderr + r.stdout).not.toContain(Buffer.from(`admin:${secret}`).toString('base64'));
  });
});

test('with tracking.offline_fallback a down server does not stop training: the run is kept on disk', async () => {
  // Penguins features (three classes, missing values) through the data stages' own code.
  const { parseDataPrepParams, runFeaturize, runPrepare } = await import('@mlops-ts/data-prep');
  const penguins = {
    ...baseParams,
    data: {
      path: join(root, 'node_modules/vega-datasets/data/penguins.json'),
      rows: 0,
      target: { column: 'Species' },
      task: 'multiclass',
      features: { numeric: ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'], categorical: ['Island', 'Sex'] },
      na_values: ['.'],
    },
  };
  const p = parseDataPrepParams(penguins);
  await runPrepare({ data: p.data, prepare: p.prepare, outDir: join(dir, 'prepared') });
  await runFeaturize({ data: p.data, featurize: p.featurize, split: p.split, inDir: join(dir, 'prepared'), outDir: join(dir, 'features') });

  const port = await freePort();
  const params = { ...penguins, train: { ...(baseParams['train'] as object), epochs: 2 }, tracking: { experiment: 'e', offline_fallback: true } };
  const file = join(dir, 'fallback.yaml');
  await writeFile(file, stringify(params));
  const r = await execa('node', ['--conditions=@mlops-ts/source', '--import', tsx, main, '--params', file, '--features', join(dir, 'features'), '--model', 'logreg', '--out', join(dir, 'model')], {
    cwd: dir,
    reject: false,
    env: { MLFLOW_TRACKING_URI: `http://127.0.0.1:${port}`, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' },
  });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/offline_fallback is on/);
  const run = JSON.parse(await readFile(join(dir, 'model/run.json'), 'utf8')) as { ref: Record<string, string> };
  expect(run.ref).toEqual({});
  const offline = JSON.parse(await readFile(join(dir, 'model/offline-run.json'), 'utf8')) as { params: Record<string, string>; metrics: { key: string; step: number }[]; status: string };
  expect(offline.status).toBe('FINISHED');
  expect(offline.params['model.type']).toBe('logreg');
  expect(offline.metrics.filter((m) => m.key === 'valid_loss').map((m) => m.step)).toEqual([1, 2]);
});
