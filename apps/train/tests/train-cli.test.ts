// The train stage through its CLI as dvc.yaml runs it: params errors name the file and key (exit 2), a server that is
// down gives one clear line (exit 1), an auth failure prints no credentials, the model folder is the same bytes on a
// rerun, and what changes from run to run goes to the run record.
import { startLocalMlflowServer, freePort, type LocalMlflowServer } from '@mlops-ts/mlflow-client';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { snapshotTree } from '../../../tools/testing/fs-snapshot.js';
import { penguinsFeatures, repoParams, root, runStageCli } from '../../../tools/testing/stage-cli.js';

let dir: string;
let baseParams: Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'train-cli-'));
  baseParams = await repoParams();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function train(params: Record<string, unknown>, args: string[], env: Record<string, string> = {}, features = join(dir, 'no-features')) {
  const file = join(dir, `params-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, stringify(params));
  const r = await runStageCli('train', ['--params', file, '--features', features, ...args], { cwd: dir, env });
  return { ...r, file };
}

const withModels = (models: unknown) => ({ ...baseParams, models });

test('an unknown model type is a params error naming the file and the key (exit 2)', async () => {
  const r = await train(withModels({ svm1: { type: 'svm' } }), ['--model', 'svm1']);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toMatch(new RegExp(`^train: ${r.file}: models\\.svm1\\.type: `));
});

test('every wrong params value at once, each naming the key and the value', async () => {
  const r = await train({ ...withModels({ m: { type: 'mlp', layers: [8], dropout: 1.5 } }), train: { epochs: 0 } }, ['--model', 'm']);
  expect(r.exitCode).toBe(2);
  expect(r.stderr.split('\n')).toEqual([`train: ${r.file}: models.m.dropout: must be < 1 (got 1.5)`, `train: ${r.file}: train.epochs: must be >= 1 (got 0)`]);
});

test('a model name that params.yaml does not have is named with the ones it has', async () => {
  const r = await train(baseParams, ['--model', 'nope']);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toBe(`train: ${r.file}: models.nope: no such model (models are: logreg, mlp_small, mlp_wide)`);
});

test('a tracking server that is down at the start gives one clear line and exit 1', async () => {
  const port = await freePort();
  const r = await train(baseParams, ['--model', 'logreg'], { MLFLOW_TRACKING_URI: `http://127.0.0.1:${port}`, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' });
  expect(r.exitCode).toBe(1);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('train:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}.*unreachable|unreachable.*127\\.0\\.0\\.1:${port}`));
});

test('a ClearML server that is down at the start gives one clear line naming it and exit 1, before any training', async () => {
  const port = await freePort();
  const mlflowPort = await freePort();
  const secret = 'clearml-Secret-93ad';
  const env = { MLFLOW_TRACKING_URI: `http://127.0.0.1:${mlflowPort}`, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0', CLEARML_API_HOST: `http://127.0.0.1:${port}`, CLEARML_API_ACCESS_KEY: 'key', CLEARML_API_SECRET_KEY: secret };
  const r = await train({ ...baseParams, tracking: { experiment: 'e', trackers: ['clearml'] } }, ['--model', 'logreg'], env);
  expect(r.exitCode).toBe(1);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('train:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`ClearML server http://127\\.0\\.0\\.1:${port} is unreachable`));
  expect(r.stderr + r.stdout).not.toContain(secret);
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

describe('on penguins features', () => {
  let features: string;
  let params: Record<string, unknown>;
  beforeAll(async () => {
    ({ features, params } = await penguinsFeatures(join(dir, 'penguins'), 2));
  });

  test('with tracking.offline_fallback a down server does not stop training: the run is kept in the run records', async () => {
    const port = await freePort();
    const cwd = await mkdtemp(join(dir, 'fallback-'));
    const file = join(cwd, 'fallback.yaml');
    await writeFile(file, stringify({ ...params, tracking: { experiment: 'e', offline_fallback: true } }));
    const r = await runStageCli('train', ['--params', file, '--features', features, '--model', 'logreg'], {
      cwd,
      env: { MLFLOW_TRACKING_URI: `http://127.0.0.1:${port}`, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/offline_fallback is on/);
    expect((await readdir(join(cwd, 'models/logreg'))).sort()).toEqual(['history.json', 'model-meta.json', 'model.json', 'weights.bin']);
    const record = JSON.parse(await readFile(join(cwd, '.mlops/runs/logreg.json'), 'utf8')) as { ref: Record<string, string>; tracking: unknown; targets: unknown };
    // MLflow's run is kept in the offline-run file; ClearML (no server configured) went to an offline session.
    expect(Object.keys(record.ref)).toEqual(['clearml']);
    expect(record.ref['clearml']).toMatch(/^offline-[0-9a-f]{32}$/);
    expect(record.tracking).toEqual({ kind: 'offline' });
    expect(record.targets).toEqual({ mlflow: { kind: 'offline' }, clearml: { kind: 'offline-session', dir: '.mlops/clearml-offline' } });
    const zip = `.mlops/clearml-offline/${record.ref['clearml']}.zip`;
    expect(r.stderr).toContain(`ClearML offline session ${zip}; send it to a server with: npm run clearml -- import ${zip}`);
    const task = JSON.parse(await readFile(join(cwd, `.mlops/clearml-offline/${record.ref['clearml']}/task.json`), 'utf8')) as { hyperparams: Record<string, Record<string, { value: string }>> };
    expect(task.hyperparams['model']?.['type']?.value).toBe('logreg');
    const offline = JSON.parse(await readFile(join(cwd, '.mlops/runs/logreg.offline-run.json'), 'utf8')) as { params: Record<string, string>; metrics: { key: string; step: number }[]; status: string };
    expect(offline.status).toBe('FINISHED');
    expect(offline.params['model.type']).toBe('logreg');
    expect(offline.metrics.filter((m) => m.key === 'valid_loss').map((m) => m.step)).toEqual([1, 2]);
  });

  test('with tracking.offline_fallback a ClearML server that is down at the start: the run goes to an offline session', async () => {
    const port = await freePort();
    const cwd = await mkdtemp(join(dir, 'clearml-fallback-'));
    const file = join(cwd, 'fallback.yaml');
    await writeFile(file, stringify({ ...params, tracking: { experiment: 'e', trackers: ['clearml'], offline_fallback: true } }));
    const r = await runStageCli('train', ['--params', file, '--features', features, '--model', 'logreg'], {
      cwd,
      env: { CLEARML_API_HOST: `http://127.0.0.1:${port}`, CLEARML_API_ACCESS_KEY: 'key', CLEARML_API_SECRET_KEY: 'secret' },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`ClearML unavailable \\(ClearML server http://127\\.0\\.0\\.1:${port} is unreachable.*tracking\\.offline_fallback is on: offline sessions in \\.mlops/clearml-offline`));
    const record = JSON.parse(await readFile(join(cwd, '.mlops/runs/logreg.json'), 'utf8')) as { ref: Record<string, string> };
    expect(Object.keys(record.ref)).toEqual(['clearml']);
    expect((await readdir(join(cwd, '.mlops/clearml-offline'))).sort()).toEqual([record.ref['clearml'], `${record.ref['clearml']}.zip`]);
  });

  test('the same model trained twice on the same features gives the same models/<m> bytes; the run records differ', async () => {
    const file = join(dir, 'twice.yaml');
    await writeFile(file, stringify(params));
    const snapshots: Record<string, string>[] = [];
    const records: string[] = [];
    for (const run of ['one', 'two']) {
      const cwd = await mkdtemp(join(dir, `twice-${run}-`));
      const r = await runStageCli('train', ['--params', file, '--features', features, '--model', 'mlp_small', '--no-tracking'], { cwd, env: { MLOPS_PIPELINE_RUN_ID: `pipeline-${run}` } });
      expect(r.exitCode, r.stderr).toBe(0);
      snapshots.push(await snapshotTree(join(cwd, 'models/mlp_small')));
      records.push(await readFile(join(cwd, '.mlops/runs/mlp_small.json'), 'utf8'));
    }
    expect(Object.keys(snapshots[0]!).sort()).toEqual(['history.json', 'model-meta.json', 'model.json', 'weights.bin']);
    expect(snapshots[1]).toEqual(snapshots[0]);
    expect(records[0]).toMatch(/"pipelineRunId": "pipeline-one"/);
    expect(records[1]).toMatch(/"pipelineRunId": "pipeline-two"/);
  });

  test('with the embedded server: the record stores its folder, and every printed link is on the npm run mlflow-ui port', async () => {
    const cwd = await mkdtemp(join(dir, 'embedded-'));
    const file = join(cwd, 'params.yaml');
    await writeFile(file, stringify({ ...params, train: { ...(params['train'] as object), epochs: 1 } }));
    const r = await runStageCli('train', ['--params', file, '--features', features, '--model', 'logreg'], {
      cwd,
      env: { MLFLOW_TRACKING_URI: '', PATH: `${join(root, '.venv/bin')}:${process.env['PATH'] ?? ''}` },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const record = JSON.parse(await readFile(join(cwd, '.mlops/runs/logreg.json'), 'utf8')) as { tracking: unknown; url: string; ref: { mlflow: string } };
    expect(record.tracking).toEqual({ kind: 'embedded', dir: '.mlflow' });
    expect(record.url).toBe(`http://127.0.0.1:5000/#/experiments/1/runs/${record.ref.mlflow}`);
    const links = r.stderr.split('\n').filter((l) => /UI|run:/.test(l));
    expect(links.length).toBeGreaterThanOrEqual(2);
    // The stage's own server address may be printed; a UI link to it may not (that port dies with the stage).
    for (const l of links) expect(l).not.toMatch(/UI(?: at|:) https?:\/\/127\.0\.0\.1:(?!5000)/);
    expect(links.filter((l) => l.includes('UI: `npm run mlflow-ui` then http://127.0.0.1:5000')).length).toBeGreaterThanOrEqual(1);
    expect(r.stderr).toContain(`run: ${record.url} (open it with \`npm run mlflow-ui\`)`);
  });
});
