// The whole pipeline on a fresh copy of the repository against the real ClearML server (tools/testing/clearml-server.ts)
// and a real MLflow server: `dvc repro` logs every stage to both, and the official Python SDK (the oracle) reads back
// from ClearML exactly what the TypeScript side logged — parameters, scalars, plots, artifacts, output models, the
// champion tag — checked against MLflow and the DVC-versioned metrics files. Then the web UI, in headless Chromium.
import { createDvc, restoreTrackedData, type Dvc } from '@mlops-ts/dvc-adapter';
import { MlflowClient, startLocalMlflowServer, type LocalMlflowServer } from '@mlops-ts/mlflow-client';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inject } from 'vitest';
import { pipelineRepo } from './workspace-copy.js';
import { clearmlSdkEnv, requireClearml, sdkPython, uniqueProjectName } from '../../tools/testing/clearml-server.js';
import { checkClearmlWebUi } from '../../tools/testing/clearml-web-ui.js';

const root = resolve(import.meta.dirname, '../..');
const EPOCHS = 2;
const MODELS = ['logreg', 'mlp_small', 'mlp_wide'];
const server = inject('clearml');

interface RunRecord {
  ref: Record<string, string>;
  loggedModels?: Record<string, string>;
  urls?: Record<string, string>;
  targets?: Record<string, { kind: string }>;
}
interface SdkTask {
  id: string;
  status: string;
  type: string;
  tags: string[];
  parameters: Record<string, string>;
  scalars: Record<string, Record<string, { x: number[]; y: number[] }>>;
  plots: string[];
  artifacts: Record<string, string>;
  artifact_sha256: Record<string, string>;
  output_models: { id: string; name: string; labels: Record<string, number> }[];
  configuration: string[];
  script: { entry_point: string | null; version_num: string | null };
}

describe.skipIf(!server.available)('the pipeline against the real ClearML and MLflow servers', () => {
  const s = server.available ? requireClearml(server) : undefined!;
  const project = uniqueProjectName('pipeline');
  let work: string;
  let repo: string;
  let dvc: Dvc;
  let mlflow: LocalMlflowServer;
  let client: MlflowClient;
  let sdk: Record<string, SdkTask>;
  const records: Record<string, RunRecord> = {};
  const pipelineRunId = `e2e-clearml-${Date.now()}`;
  // the report stage's comparison task, beside the model tasks in the project
  const reportTask = `report ${pipelineRunId}`;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'mlops-e2e-pipeline-clearml-'));
    repo = join(work, 'repo');
    await pipelineRepo<{ data: { rows: number }; train: { epochs: number }; tracking: { clearml: Record<string, unknown> } }>(repo, (params) => {
      params.data.rows = 5_000;
      params.train.epochs = EPOCHS;
      params.tracking.clearml = { ...params.tracking.clearml, project };
    });
    mlflow = await startLocalMlflowServer({ dir: join(work, 'mlflow'), mlflowBin: join(root, '.venv/bin/mlflow') });
    client = new MlflowClient({ trackingUri: mlflow.uri });
    const env = {
      MLFLOW_TRACKING_URI: mlflow.uri,
      MLOPS_PIPELINE_RUN_ID: pipelineRunId,
      CLEARML_API_HOST: s.apiHost,
      CLEARML_WEB_HOST: s.webHost,
      CLEARML_FILES_HOST: s.filesHost,
      CLEARML_API_ACCESS_KEY: s.accessKey,
      CLEARML_API_SECRET_KEY: s.secretKey,
      CLEARML_CONFIG_FILE: join(work, 'no-clearml.conf'),
    };
    dvc = createDvc({ cwd: repo, env });
    await restoreTrackedData({ dvc });
  }, 600_000);

  afterAll(async () => {
    await client?.close();
    await mlflow?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('dvc repro logs every stage to both trackers; the run records keep both ids', async () => {
    const result = await dvc.repro();
    expect(result.ran.map((r) => r.stage)).toEqual(expect.arrayContaining([...MODELS.map((m) => `train@${m}`), ...MODELS.map((m) => `evaluate@${m}`), 'compare']));
    for (const model of MODELS) {
      records[model] = JSON.parse(await readFile(join(repo, `.mlops/runs/${model}.json`), 'utf8')) as RunRecord;
      expect(Object.keys(records[model].ref).sort()).toEqual(['clearml', 'mlflow']);
      expect(records[model].ref['clearml']).toMatch(/^[0-9a-f]{32}$/);
      expect(records[model].targets?.['clearml']).toEqual({ kind: 'server', uri: s.webHost });
      expect(records[model].urls?.['clearml']).toBe(`${s.webHost}/projects/${records[model].urls!['clearml']!.split('/')[4]}/tasks/${records[model].ref['clearml']}/output/execution`);
    }
    // compare cross-checked both trackers and found them in agreement with the metrics files
    expect(result.output).toMatch(/cross-check: 6 runs in mlflow and clearml hold the metrics the files say/);

    const scratch = join(work, 'sdk');
    await mkdir(scratch, { recursive: true });
    const out = join(scratch, 'readback.json');
    await execa(sdkPython, [join(import.meta.dirname, 'pipeline_clearml_readback.py'), project, out], { env: { ...clearmlSdkEnv(s, scratch) }, extendEnv: false });
    sdk = JSON.parse(await readFile(out, 'utf8')) as Record<string, SdkTask>;
    expect(Object.keys(sdk).sort()).toEqual([...MODELS, reportTask]);
    expect(sdk[reportTask]?.type).toBe('qc');
    expect(sdk[reportTask]?.tags).toContain('comparison');
  }, 900_000);

  test('the Python SDK reads back from ClearML what the TypeScript side logged (checked against MLflow and the metrics files)', async () => {
    const compare = JSON.parse(await readFile(join(repo, 'metrics/compare.json'), 'utf8')) as { champion: { model: string } | null };
    for (const model of MODELS) {
      const task = sdk[model]!;
      const record = records[model]!;
      expect(task.id).toBe(record.ref['clearml']);
      expect(task.status).toBe('completed');
      expect(task.type).toBe('training');
      expect(task.script.entry_point).toBe(`dvc repro train@${model}`);
      expect(task.script.version_num).toMatch(/^[0-9a-f]{40}$/);

      // parameters: every MLflow param, section/name (model.layers → model/layers, a key without a dot → General/…)
      const run = await client.getRun(record.ref['mlflow']!);
      const params = Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value]));
      const expected = Object.fromEntries(Object.entries(params).map(([k, v]) => [k.includes('.') ? `${k.slice(0, k.indexOf('.'))}/${k.slice(k.indexOf('.') + 1)}` : `General/${k}`, v]));
      const sdkParams = Object.fromEntries(Object.entries(task.parameters).filter(([k]) => !k.startsWith('properties/')));
      expect(sdkParams).toEqual(expected);
      expect(task.parameters['properties/mlops.model']).toBe(model);

      // scalars: the learning curves as MLflow has them (ClearML keeps float32), the test metrics as the files say
      for (const [key, metric, variant] of [['train_loss', 'loss', 'train'], ['valid_loss', 'loss', 'valid'], ['train_accuracy', 'accuracy', 'train']] as const) {
        const history = (await client.getMetricHistory(record.ref['mlflow']!, key)).sort((a, b) => Number(a.step) - Number(b.step));
        const series = task.scalars[metric]?.[variant];
        expect(series?.x).toEqual(history.map((h) => Number(h.step)));
        expect(series?.y).toEqual(history.map((h) => Math.fround(Number(h.value))));
      }
      expect(task.scalars['loss']?.['train']?.x).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1));
      const evalFile = JSON.parse(await readFile(join(repo, `metrics/eval/${model}.json`), 'utf8')) as Record<string, number> & { baseline: Record<string, number> };
      for (const m of ['accuracy', 'f1', 'roc_auc', 'log_loss']) {
        expect(task.scalars[m]?.['test']?.y).toEqual([Math.fround(evalFile[m]!)]);
        expect(task.scalars[m]?.['baseline_test']?.y).toEqual([Math.fround(evalFile.baseline[m]!)]);
      }

      expect(task.plots).toEqual(['confusion_matrix', 'learning_curves', 'roc']);
      expect(Object.keys(task.artifacts).sort()).toEqual(['eval/' + `${model}.json`, 'plots/confusion.json', 'plots/history.json', 'plots/pr.json', 'plots/roc.json']);
      const sha = async (f: string) => createHash('sha256').update(await readFile(join(repo, f))).digest('hex');
      expect(task.artifact_sha256).toEqual({
        'plots/history.json': await sha(`models/${model}/history.json`),
        'plots/roc.json': await sha(`plots/${model}/roc.json`),
        'plots/pr.json': await sha(`plots/${model}/pr.json`),
        'plots/confusion.json': await sha(`plots/${model}/confusion.json`),
        [`eval/${model}.json`]: await sha(`metrics/eval/${model}.json`),
      });
      expect(task.output_models).toEqual([{ id: record.loggedModels?.['clearml'], name: `${model} model`, labels: { on_time: 0, delayed: 1 } }]);
      expect(task.configuration).toEqual(['Dataset features-test', 'Dataset features-train', 'Dataset features-valid']);
      expect(task.tags.includes('champion')).toBe(compare.champion?.model === model);
      expect(task.tags).toEqual(expect.arrayContaining(['mlops-ts', `model:${model}`]));
    }
    expect(compare.champion).not.toBeNull();
  });

  test('the web UI shows the tasks, their learning curves, ROC and confusion plots and hyperparameters', async () => {
    const report = await checkClearmlWebUi({
      webHost: s.webHost,
      user: s.webUser ?? 'oracle',
      ...(s.webPassword ? { password: s.webPassword } : {}),
      project,
      projectId: records['mlp_small']!.urls!['clearml']!.split('/')[4]!,
      expectTasks: [...MODELS, reportTask],
      taskToInspect: 'mlp_small',
      expectScalars: { loss: ['train', 'valid'], accuracy: ['train', 'valid'] },
      expectPlots: { roc: /roc/i, confusion: /confusion/i },
      expectHyperParams: { model: ['type', 'layers'], train: ['epochs'] },
      shotsDir: join(root, 'tmp/clearml-ui-shots/pipeline'),
    });
    expect(report.tasks.sort()).toEqual([...MODELS, reportTask]);
    expect(report.scalars.find((c) => c.title === 'loss')?.series).toEqual(expect.arrayContaining(['train', 'valid']));
    expect(report.plots.map((p) => p.title).join(' ')).toMatch(/roc.*confusion|confusion.*roc/i);
    expect(report.hyperParams['model']?.['type']).toBe('mlp');
    expect(report.screenshots.length).toBeGreaterThan(0);
    console.log(`web UI checked: ${report.taskUrl}; screenshots: ${report.screenshots.join(', ')}`);
  }, 300_000);
});
