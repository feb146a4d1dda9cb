// The whole pipeline on a fresh copy of the repository, as a new clone would run it: raw data ingested from the
// pinned npm package (the remote is empty), `dvc repro` with a real MLflow server, results checked in MLflow,
// push to a local remote, and a `dvc exp run -S` that adds one MLflow run and one `dvc exp show` row. The last stage,
// report, writes reports/report.{html,md} from the DVC files alone.
import { createDvc, md5File, readDvcPointer, restoreTrackedData, type Dvc } from '@mlops-ts/dvc-adapter';
import { MlflowClient, startLocalMlflowServer, type LocalMlflowServer } from '@mlops-ts/mlflow-client';
import { execa } from 'execa';
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipelineRepo } from './workspace-copy.js';

const root = resolve(import.meta.dirname, '../..');
const EPOCHS = 2;
let work: string;
let repo: string;
let dvc: Dvc;
let server: LocalMlflowServer;
let client: MlflowClient;
const pipelineRunId = `e2e-${Date.now()}`;
let env: Record<string, string>;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mlops-e2e-pipeline-'));
  repo = join(work, 'repo');
  // A quick run: fewer rows and epochs, everything else as committed.
  await pipelineRepo<{ data: { rows: number }; train: { epochs: number } }>(repo, (params) => {
    params.data.rows = 20_000;
    params.train.epochs = EPOCHS;
  });
  server = await startLocalMlflowServer({ dir: join(work, 'mlflow'), mlflowBin: join(root, '.venv/bin/mlflow') });
  client = new MlflowClient({ trackingUri: server.uri });
  // No ClearML configured (also none from the developer's environment): its runs go to offline sessions.
  const noClearml = { CLEARML_API_HOST: '', CLEARML_API_ACCESS_KEY: '', CLEARML_API_SECRET_KEY: '', CLEARML_CONFIG_FILE: join(work, 'no-clearml.conf') };
  env = { ...noClearml, MLFLOW_TRACKING_URI: server.uri, MLOPS_PIPELINE_RUN_ID: pipelineRunId, GIT_AUTHOR_NAME: 'e2e', GIT_AUTHOR_EMAIL: 'e2e@test', GIT_COMMITTER_NAME: 'e2e', GIT_COMMITTER_EMAIL: 'e2e@test' };
  dvc = createDvc({ cwd: repo, env });
  await dvc.remoteAdd('local', join(work, 'remote'), { default: true, level: 'local' });
}, 600_000);

afterAll(async () => {
  await client?.close();
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

test('the raw data is ingested from the pinned npm package when the remote lacks it, md5 checked', async () => {
  const results = await restoreTrackedData({ dvc });
  expect(results.map((r) => r.action)).toEqual(['materialized']);
  const pointer = await readDvcPointer(join(repo, 'data/raw/flights.parquet.dvc'));
  expect(await md5File(join(repo, 'data/raw/flights.parquet'))).toBe(pointer.outs[0]!.md5);
  const { stdout } = await execa('git', ['status', '--porcelain'], { cwd: repo });
  expect(stdout).toBe('');
});

test('dvc repro runs every stage, tracked in MLflow; a second repro is a no-op and dvc status is clean', async () => {
  const first = await dvc.repro();
  const ran = first.ran.map((s) => s.stage);
  expect(ran).toEqual(expect.arrayContaining(['prepare', 'featurize', 'train@logreg', 'train@mlp_small', 'train@mlp_wide', 'evaluate@logreg', 'evaluate@mlp_wide', 'compare', 'report']));
  expect(ran.at(-1)).toBe('report');

  const compare = JSON.parse(await readFile(join(repo, 'metrics/compare.json'), 'utf8')) as {
    metric: string;
    champion: { model: string; score: number } | null;
    registered_model: string;
    alias: string;
    ranking: { rank: number; model: string; score: number; beats_baseline: boolean }[];
  };
  // Run ids live in the run records (.mlops/runs, not DVC outs), not in the DVC-versioned files.
  const runIdOf = async (model: string) =>
    (JSON.parse(await readFile(join(repo, `.mlops/runs/${model}.json`), 'utf8')) as { ref: { mlflow: string } }).ref.mlflow;
  expect(compare.ranking.map((r) => r.model).sort()).toEqual(['logreg', 'mlp_small', 'mlp_wide']);
  const scores = compare.ranking.map((r) => r.score);
  expect([...scores].sort((a, b) => b - a)).toEqual(scores);

  // What MLflow holds is what the files say.
  const experiment = await client.getExperimentByName('flights-delay');
  const runs = await client.searchAllRuns({ experimentIds: [experiment!.experiment_id], filter: `tags.\`mlops.pipeline_run_id\` = '${pipelineRunId}'` });
  expect(runs).toHaveLength(3);
  for (const run of runs) {
    const model = run.data.tags?.find((t) => t.key === 'mlops.model')?.value;
    const ranked = compare.ranking.find((r) => r.model === model)!;
    expect(run.info.run_id).toBe(await runIdOf(model!));
    expect(Number(run.data.metrics?.find((m) => m.key === 'test_roc_auc')?.value)).toBeCloseTo(ranked.score, 12);
    const evalFile = JSON.parse(await readFile(join(repo, `metrics/eval/${model}.json`), 'utf8')) as { roc_auc: number };
    expect(evalFile.roc_auc).toBeCloseTo(ranked.score, 12);
    const history = await client.getMetricHistory(run.info.run_id, 'valid_loss');
    expect(history.map((h) => Number(h.step))).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1));
    expect(run.data.params?.find((p) => p.key === 'train.epochs')?.value).toBe(String(EPOCHS));
    // figures as MLflow's UI shows them (Plotly pages) beside the tracker-neutral JSON
    expect((await client.listArtifacts(run.info.run_id, 'figures')).map((f) => f.path).sort()).toEqual(
      ['confusion_matrix', 'learning_curves', 'roc'].flatMap((n) => [`figures/${n}.figure.json`, `figures/${n}.html`]),
    );
    expect(run.inputs?.dataset_inputs?.map((d) => d.dataset.digest)).toContain((await readDvcPointer(join(repo, 'data/raw/flights.parquet.dvc'))).outs[0]!.md5);
  }
  expect(compare.champion?.model).toBe(compare.ranking[0]!.model);
  const champion = await client.getModelVersionByAlias(compare.registered_model, compare.alias);
  expect(champion.run_id).toBe(await runIdOf(compare.champion!.model));

  // No ClearML server configured: each model's train run and its evaluate continuation are offline sessions (the
  // SDK's format), listed in the stage output with the command that imports them.
  for (const model of ['logreg', 'mlp_small', 'mlp_wide']) {
    const record = JSON.parse(await readFile(join(repo, `.mlops/runs/${model}.json`), 'utf8')) as { ref: Record<string, string>; targets: Record<string, unknown> };
    expect(record.ref['clearml']).toMatch(/^offline-[0-9a-f]{32}$/);
    expect(record.targets['clearml']).toEqual({ kind: 'offline-session', dir: '.mlops/clearml-offline' });
    const zip = `.mlops/clearml-offline/${record.ref['clearml']}.zip`;
    expect((await lstat(join(repo, zip))).size).toBeGreaterThan(0);
    expect(first.output).toContain(`ClearML offline session ${zip}; send it to a server with: npm run clearml -- import ${zip}`);
  }
  expect(first.output.match(/ClearML offline session \S+ \(continues task offline-[0-9a-f]{32}\); send it to a server after offline-[0-9a-f]{32}\.zip with: npm run clearml -- import \S+ --task /g)).toHaveLength(3);

  // The report, from the DVC files alone: each model's ROC AUC in its ranking table is the metrics file's.
  const md = await readFile(join(repo, 'reports/report.md'), 'utf8');
  expect((await lstat(join(repo, 'reports/report.html'))).size).toBeGreaterThan(0);
  for (const r of compare.ranking) {
    const row = new RegExp(`^\\| \\d+ \\| (\\*\\*)?${r.model}(\\*\\*)? \\| (\\d\\.\\d{4}) \\|`, 'm').exec(md);
    expect(row, `${r.model} in the ranking table`).not.toBeNull();
    // shown to 4 digits, recomputed from the predictions (probabilities rounded to 6 digits)
    expect(Math.abs(Number(row![3]) - r.score)).toBeLessThanOrEqual(6e-5);
  }
  expect((await readdir(join(repo, 'reports/report-images'))).filter((f) => f.endsWith('.png')).length).toBeGreaterThan(0);
  // dvc metrics diff ran inside dvc repro (HEAD has no metrics: every value is new); exp show too
  expect(md).not.toMatch(/Unavailable: dvc (metrics diff|exp show)/);

  const again = await dvc.repro();
  expect(again.ran).toEqual([]);
  expect((await dvc.status()).clean).toBe(true);
});

test('dvc push leaves the remote in sync (dvc status -c clean)', async () => {
  await dvc.push();
  const cloud = await dvc.status({ cloud: true });
  expect(cloud.clean).toBe(true);
});

test('npm run pipeline with nothing to run skips the check, the MLflow server and dvc repro, and still summarises', async () => {
  // no MLFLOW_TRACKING_URI: a pipeline that had something to run would start its own server and say so
  const run = await execa('bash', ['tools/pipeline.sh'], { cwd: repo, env: { ...env, MLFLOW_TRACKING_URI: '' }, reject: false, all: true });
  expect(run.exitCode, run.all).toBe(0);
  // the copy's node_modules is the workspace's (a link): setup leaves it alone
  expect(run.all).toContain('[setup] node_modules links to');
  expect(run.all).not.toContain('npm ci');
  expect(run.all).toContain('[setup] raw data present');
  expect(run.all).toContain('[pipeline] dvc status: every stage is up to date, nothing to run');
  expect(run.all).not.toContain('MLflow UI');
  expect(run.all).not.toContain('npm run check');
  expect(run.all).not.toMatch(/Running stage|didn't change, skipping/);
  expect(run.all).toMatch(/champion|baseline/);
  expect((await dvc.status()).clean).toBe(true);
}, 300_000);

test('dvc exp run -S models.<name>.<param>=… adds one MLflow run and one dvc exp show row', async () => {
  const experiment = await client.getExperimentByName('flights-delay');
  const logregRuns = () => client.searchAllRuns({ experimentIds: [experiment!.experiment_id], filter: `tags.\`mlops.model\` = 'logreg'` });
  const before = await logregRuns();
  const exp = await dvc.expRun({ set: { 'models.logreg.l2': 0.01 } });
  const after = await logregRuns();
  expect(after.length).toBe(before.length + 1);
  const newRun = after.find((r) => !before.some((b) => b.info.run_id === r.info.run_id))!;
  expect(newRun.data.params?.find((p) => p.key === 'model.l2')?.value).toBe('0.01');
  const shown = await dvc.expShow();
  const rows = shown.rows.filter((r) => r.kind === 'experiment');
  expect(rows).toHaveLength(1);
  expect(rows[0]!.name).toBe(exp.name);
  expect(rows[0]!.params['params.yaml']?.['models.logreg.l2']).toBe(0.01);
}, 600_000);
