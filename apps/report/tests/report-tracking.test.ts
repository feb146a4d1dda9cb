// The report logged to the trackers, on real servers: a real `mlflow server` and the real ClearML server. Three
// penguins models are trained and evaluated into both (the pipeline's own trainModel / evaluateModel over
// openTracking), then the report CLI runs as dvc.yaml runs it. Oracles: the official Python clients (mlflow,
// clearml). Also: both trackers down → the report is still written, one line each; and the MLflow UI in Chromium.
import { startLocalMlflowServer, type LocalMlflowServer } from '@mlops-ts/mlflow-client';
import { ModelsParamsSchema, TrainParamsSchema } from '@mlops-ts/model-train';
import { evaluateModel, readRunRecord, trainModel } from '@mlops-ts/pipeline';
import { openTracking, TrackingParamsSchema, trackingConfigFromEnv, type RunRecord } from '@mlops-ts/tracking';
import { freePort } from '@mlops-ts/mlflow-client';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { inject } from 'vitest';
import { stringify } from 'yaml';
import { launchChromium } from '../../../tools/testing/chromium.js';
import { clearmlSdkEnv, requireClearml, runSdkScript, uniqueProjectName } from '../../../tools/testing/clearml-server.js';
import { penguinsFeatures, root, runStageCli } from '../../../tools/testing/stage-cli.js';

const MODELS = { logreg: { type: 'logreg' }, mlp_small: { type: 'mlp', layers: [8] }, mlp_wide: { type: 'mlp', layers: [16, 8] } };
const names = Object.keys(MODELS);
const PIPELINE_RUN = `report-trk-${Date.now().toString(36)}`;
const MLFLOW_BIN = join(root, '.venv/bin/mlflow');
const shots = join(root, 'tmp/report-tracking');

const server = inject('clearml');

/** The little of the DOM the page scripts use (the spec's lib has no DOM). */
interface DomNode {
  textContent: string | null;
  children: { length: number };
  closest(selector: string): DomNode | null;
  getBoundingClientRect(): { left: number; right: number; top: number; bottom: number; width: number };
}
interface MlflowRunView {
  run_id: string;
  name: string;
  status: string;
  tags: Record<string, string>;
  params: Record<string, string>;
  metrics: Record<string, number>;
  artifacts: string[];
}
interface MlflowView {
  experiment_id: string;
  runs: MlflowRunView[];
  by_pipeline_run_id: Record<string, string[]>;
}

describe.skipIf(!server.available)('the report as a comparison run in MLflow and a comparison task in ClearML', () => {
  const s = requireClearml(server);
  const project = uniqueProjectName('report');
  const experiment = project; // MLflow experiment and ClearML project of the pipeline
  let dir: string;
  let ws: string;
  let mlflow: LocalMlflowServer;
  let env: Record<string, string>;
  let params: Record<string, unknown>;
  let records: Record<string, RunRecord>;
  let cli: Awaited<ReturnType<typeof runStageCli>>;
  let view: MlflowView;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'report-tracking-'));
    ws = join(dir, 'ws');
    mlflow = await startLocalMlflowServer({ dir: join(dir, 'mlflow'), mlflowBin: MLFLOW_BIN });
    env = { ...clearmlSdkEnv(s, dir), MLFLOW_TRACKING_URI: mlflow.uri };
    let features: string;
    ({ features, params } = await penguinsFeatures(dir, 3));
    const tracking = TrackingParamsSchema.parse({ experiment, trackers: ['mlflow', 'clearml'], clearml: { offline_dir: join(ws, '.mlops/clearml-offline') } });
    const config = trackingConfigFromEnv(env);
    const open = (stage: string) => openTracking({ params: tracking, config, stage, mlflowSpillDir: join(ws, '.mlflow-spill'), clearmlSpillDir: join(ws, '.mlops/clearml-spill') });
    records = {};
    for (const model of names) {
      const opened = await open(`train@${model}`);
      try {
        await trainModel({
          model,
          models: ModelsParamsSchema.parse(MODELS),
          train: TrainParamsSchema.parse({ ...(params['train'] as object), backend: 'cpu' }),
          tracking,
          featuresDir: features,
          outDir: join(ws, 'models', model),
          recordsDir: join(ws, '.mlops/runs'),
          tracker: opened.tracker,
          target: opened.target,
          targets: opened.targets,
          lastingUrl: opened.lastingUrl,
          pipelineRunId: PIPELINE_RUN,
        });
      } finally {
        await opened.close();
      }
      await evaluateModel({
        model,
        modelsDir: join(ws, 'models'),
        featuresDir: features,
        metricsDir: join(ws, 'metrics/eval'),
        plotsDir: join(ws, 'plots'),
        predictionsDir: join(ws, 'predictions'),
        recordsDir: join(ws, '.mlops/runs'),
        experiment,
        openTracker: () => open(`evaluate@${model}`),
      });
      records[model] = (await readRunRecord(join(ws, '.mlops/runs'), model))!;
    }
    await writeFile(join(ws, 'params.yaml'), stringify({ ...params, models: MODELS, report: { title: 'Penguins', bootstrap: { resamples: 100 } }, tracking: { experiment, trackers: ['mlflow', 'clearml'] } }));
    cli = await runStageCli('report', ['--no-dvc'], { cwd: ws, env });
    view = (await runSdkScript(join(import.meta.dirname, 'mlflow_runs.py'), [experiment], { env: { PATH: process.env['PATH'] ?? '', MLFLOW_TRACKING_URI: mlflow.uri } })) as MlflowView;
  }, 300_000);
  afterAll(async () => {
    await mlflow?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the stage succeeds and says where the report went in each tracker', () => {
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(cli.stderr).toMatch(/^\[report\] report logged to mlflow: http:\/\/127\.0\.0\.1:\d+\/#\/experiments\/\d+\/runs\/[0-9a-f]{32}$/m);
    expect(cli.stderr).toMatch(/^\[report\] report logged to clearml: http\S+$/m);
    expect(cli.stderr).not.toMatch(/warning/);
  });

  test('MLflow (read with the official client): one comparison run with the report as artifacts, linking the model runs, without model-run tags', async () => {
    const models = view.runs.filter((r) => r.tags['mlops.model'] !== undefined);
    const others = view.runs.filter((r) => r.tags['mlops.model'] === undefined);
    expect(models.map((r) => r.name).sort()).toEqual(names);
    expect(others).toHaveLength(1);
    const cmp = others[0]!;
    expect(cmp.name).toBe(`report ${PIPELINE_RUN}`);
    expect(cmp.status).toBe('FINISHED');
    expect(cmp.tags).toMatchObject({ 'mlops.run_kind': 'comparison', 'mlops.dvc_stage': 'report', 'mlops.report_of': PIPELINE_RUN, 'mlops.rank_metric': 'roc_auc' });
    expect(Object.keys(cmp.tags).filter((k) => k === 'mlops.model' || k === 'mlops.pipeline_run_id')).toEqual([]);
    // the pipeline's filter for its model runs (rankMlflowRuns: tags.mlops.pipeline_run_id) finds the models only
    expect(view.by_pipeline_run_id).toEqual({ [PIPELINE_RUN]: names });
    // links: each model's MLflow run id (param and tag) and ClearML task id, as the run records hold them
    for (const m of names) {
      const run = models.find((r) => r.name === m)!;
      expect(records[m]!.ref['mlflow']).toBe(run.run_id);
      expect(cmp.params[`runs.${m}.mlflow`]).toBe(run.run_id);
      expect(cmp.params[`runs.${m}.clearml`]).toBe(records[m]!.ref['clearml']);
    }
    expect(JSON.parse(cmp.tags['mlops.compared_runs']!)).toEqual(Object.fromEntries(names.map((m) => [m, records[m]!.ref])));
    expect(cmp.tags['mlflow.note.content']).toContain(`(run ${models[0]!.run_id})`);
    // artifacts: report.html, report.md and the PNGs its links point at, beside it; the charts as MLflow figures
    expect(cmp.artifacts).toEqual(expect.arrayContaining(['report/report.html', 'report/report.md', 'figures/roc.html', 'figures/metric_comparison.html', 'figures/precision_recall.html', 'figures/learning_curves.html', ...names.map((m) => `figures/confusion_${m}.html`)]));
    const images = (await readdir(join(ws, 'reports/report-images'))).sort();
    expect(images.length).toBeGreaterThan(4);
    expect(cmp.artifacts.filter((a) => a.startsWith('report/'))).toEqual(['report/report-images', 'report/report.html', 'report/report.md'].flatMap((a) => (a === 'report/report-images' ? images.map((i) => `${a}/${i}`) : [a])).sort());
  });

  test("MLflow: the ranking metrics are the report's, each model's value the test metric of its own run", async () => {
    const cmp = view.runs.find((r) => r.tags['mlops.run_kind'] === 'comparison')!;
    const md = await readFile(join(ws, 'reports/report.md'), 'utf8');
    for (const m of names) {
      const run = view.runs.find((r) => r.name === m)!;
      const evalFile = JSON.parse(await readFile(join(ws, 'metrics/eval', `${m}.json`), 'utf8')) as { roc_auc: number };
      expect(cmp.metrics[`roc_auc.${m}`]).toBeCloseTo(evalFile.roc_auc, 4);
      expect(run.metrics['test_roc_auc']).toBeCloseTo(evalFile.roc_auc, 6);
      expect(cmp.metrics[`roc_auc.${m}.ci_lo`]).toBeLessThanOrEqual(cmp.metrics[`roc_auc.${m}`]! + 1e-9);
      expect(cmp.metrics[`roc_auc.${m}.ci_hi`]).toBeGreaterThanOrEqual(cmp.metrics[`roc_auc.${m}`]! - 1e-9);
      expect([1, 2, 3]).toContain(cmp.metrics[`rank.${m}`]);
    }
    expect(cmp.metrics['roc_auc.baseline']).toBe(0.5);
    const first = names.find((m) => cmp.metrics[`rank.${m}`] === 1)!;
    expect(cmp.tags['mlops.best_model']).toBe(first);
    expect(md).toContain(`| 1 | **${first}** |`);
  });

  test('ClearML (read with the official SDK): a qc task in the project with the report as artifacts and its charts as plots, not tagged as a model', async () => {
    const taskId = /^\[report\] report logged to clearml: \S*\/tasks\/([0-9a-f]{32})\b/m.exec(cli.stderr)?.[1];
    expect(taskId, cli.stderr).toBeDefined();
    const task = (await runSdkScript(join(import.meta.dirname, 'clearml_task.py'), [taskId!], { env: { ...clearmlSdkEnv(s, dir), PATH: process.env['PATH'] ?? '' } })) as {
      name: string;
      type: string;
      status: string;
      project: string;
      tags: string[];
      artifacts: Record<string, { size: number; type: string; hash: string }>;
      plots: [string, string][];
      params: Record<string, string>;
      scalars: string[];
    };
    expect(task).toMatchObject({ name: `report ${PIPELINE_RUN}`, type: 'qc', status: 'completed', project });
    expect(task.tags).toContain('comparison');
    expect(task.tags.filter((t) => t.startsWith('model:'))).toEqual([]);
    const images = (await readdir(join(ws, 'reports/report-images'))).sort();
    expect(Object.keys(task.artifacts).sort()).toEqual(['report/report.html', 'report/report.md', ...images.map((i) => `report/report-images/${i}`)].sort());
    const html = await readFile(join(ws, 'reports/report.html'));
    expect(task.artifacts['report/report.html']!.size).toBe(html.byteLength);
    const plotTitles = new Set(task.plots.map(([metric]) => metric));
    for (const t of ['metric_comparison', 'roc', 'precision_recall', 'learning_curves', ...names.map((m) => `confusion_${m}`)]) expect(plotTitles, [...plotTitles].join(', ')).toContain(t);
    for (const m of names) expect(task.params[`runs/${m}.clearml`]).toBe(records[m]!.ref['clearml']);
    expect(task.params['properties/mlops.run_kind']).toBe('comparison');
    expect(Object.keys(task.params).filter((k) => k === 'properties/mlops.model' || k === 'properties/mlops.pipeline_run_id')).toEqual([]);
    expect(task.scalars).toEqual(expect.arrayContaining(names.map((m) => `roc_auc.${m}`)));
  }, 180_000);

  test('both trackers down: the report is still written, one warning line per tracker, exit 0', async () => {
    const cwd = await mkdtemp(join(dir, 'down-'));
    await cp(ws, cwd, { recursive: true });
    await rm(join(cwd, 'reports'), { recursive: true, force: true });
    const closed = `http://127.0.0.1:${await freePort()}`;
    const r = await runStageCli('report', ['--no-dvc'], {
      cwd,
      env: { ...clearmlSdkEnv(s, dir), CLEARML_API_HOST: closed, CLEARML_WEB_HOST: closed, CLEARML_FILES_HOST: closed, MLFLOW_TRACKING_URI: closed, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await readdir(join(cwd, 'reports'))).sort()).toEqual(['report-images', 'report.html', 'report.md']);
    const warnings = r.stderr.split('\n').filter((l) => /warning/.test(l));
    expect(warnings.map((l) => /report not logged to (\w+) /.exec(l)?.[1])).toEqual(['mlflow', 'clearml']);
    for (const w of warnings) expect(w).toMatch(/; reports\/report\.html and reports\/report\.md are written$/);
    expect(r.stderr).not.toContain(s.secretKey);
  }, 120_000);

  describe('the MLflow UI in Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
      await mkdir(shots, { recursive: true });
    });
    afterAll(() => browser?.close());

    test("the experiment's runs table lists every model run with its test metric (screenshot)", async () => {
      const page = await browser.newPage({ viewport: { width: 2400, height: 900 } });
      try {
        await page.goto(`${mlflow.uri}/#/experiments/${view.experiment_id}/runs`, { waitUntil: 'load' });
        const nameCells = page.locator('.ag-row .ag-cell[col-id="attributes.`Run Name`"]');
        await expect.poll(async () => (await nameCells.allInnerTexts()).length, { timeout: 60_000 }).toBe(view.runs.length);
        // MLflow 3 shows no metric column by default: add test_roc_auc as a person does (Columns → Metrics)
        await page.getByRole('button', { name: 'Columns', exact: true }).first().click();
        await page.getByRole('dialog').getByText('test_roc_auc', { exact: true }).first().click();
        await page.keyboard.press('Escape');
        const metricCells = page.locator('.ag-row .ag-cell[col-id="metrics.`test_roc_auc`"]');
        await expect.poll(async () => (await metricCells.allInnerTexts()).length, { timeout: 30_000 }).toBe(view.runs.length);
        const byRow = async (cells: typeof nameCells) => Object.fromEntries(await cells.evaluateAll((es) => es.map((e) => [e.closest('.ag-row')?.getAttribute('row-index') ?? '', (e as unknown as { innerText: string }).innerText.trim().split('\n').at(-1) ?? ''])));
        const runNames = await byRow(nameCells);
        const metrics = await byRow(metricCells);
        const table = Object.fromEntries(Object.entries(runNames).map(([row, name]) => [name, metrics[row]]));
        for (const m of names) {
          const run = view.runs.find((r) => r.name === m)!;
          expect(table[m], `${m} in ${JSON.stringify(table)}`).toBeDefined();
          expect(Number(table[m])).toBeCloseTo(run.metrics['test_roc_auc']!, 3);
        }
        expect(table[`report ${PIPELINE_RUN}`]).toBe('-'); // the comparison run is listed, with no test metric of its own
        await page.screenshot({ path: join(shots, 'mlflow-runs-table.png'), fullPage: true });
      } finally {
        await page.close();
      }
    }, 120_000);

    test("MLflow's compare view of the model runs: metrics and params side by side (screenshot)", async () => {
      const models = names.map((m) => view.runs.find((r) => r.name === m)!);
      // tall: the metrics grid draws only the rows in view
      const page = await browser.newPage({ viewport: { width: 1600, height: 2400 } });
      try {
        // the route MLflow's own "Compare" button opens (getCompareRunPageRoute in its UI)
        await page.goto(`${mlflow.uri}/#/compare-runs?runs=${JSON.stringify(models.map((r) => r.run_id))}&experiments=${JSON.stringify([view.experiment_id])}`, { waitUntil: 'load' });
        await page.getByText(`Comparing ${models.length} Runs from 1 Experiment`).waitFor({ timeout: 60_000 });
        // the "Run details" table (params, tags): a <tr> per key, its label in the first cell
        const row = async (label: string) => {
          const tr = page.locator('tr', { has: page.locator('th, td', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:?$`) }) }).first();
          await tr.waitFor({ timeout: 30_000 });
          return (await tr.locator('th, td').allInnerTexts()).slice(1).map((t) => t.trim());
        };
        // the metrics grid is virtualised (divs, not a table): the values drawn on the line of the metric's label
        const metricRow = (label: string) =>
          page.evaluate((key) => {
            const document = (globalThis as unknown as { document: { querySelectorAll(selector: string): Iterable<DomNode> } }).document;
            const link = [...document.querySelectorAll('a[title="Plot chart"]')].find((e) => e.textContent?.trim() === key);
            if (!link) return [];
            const cell = (link.closest('[style*="position: absolute"]') ?? link).getBoundingClientRect();
            const mid = (cell.top + cell.bottom) / 2;
            return [...document.querySelectorAll('body *')]
              .filter((e) => e.children.length === 0 && (e.textContent ?? '').trim() !== '')
              .map((e) => ({ text: (e.textContent ?? '').trim(), box: e.getBoundingClientRect() }))
              .filter((x) => x.box.left >= cell.right - 1 && x.box.top <= mid && x.box.bottom >= mid && x.box.width > 0)
              .sort((a, b) => a.box.left - b.box.left)
              .map((x) => x.text);
          }, label);
        expect(await row('Run ID')).toEqual(models.map((r) => r.run_id));
        expect(await row('Run Name')).toEqual(names);
        await expect.poll(async () => (await metricRow('test_roc_auc')).length, { timeout: 30_000 }).toBe(models.length);
        const values = (await metricRow('test_roc_auc')).map(Number);
        models.forEach((r, i) => expect(values[i], r.name).toBeCloseTo(r.metrics['test_roc_auc']!, 3));
        // a param that differs between the models, side by side
        const differing = Object.keys(models[0]!.params).find((k) => new Set(models.map((r) => r.params[k])).size > 1)!;
        expect(differing).toBeDefined();
        expect(await row(differing)).toEqual(models.map((r) => r.params[differing] ?? ''));
        await page.screenshot({ path: join(shots, 'mlflow-compare-runs.png'), fullPage: true });
      } finally {
        await page.close();
      }
    }, 120_000);
  });
});
