// The report stage's logic on the penguins table: train + evaluate two models (no tracker), then reportModels reads
// what they wrote (metrics, predictions, plots, histories) and writes the HTML, the Markdown and its PNGs.
import { access, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFeatureMeta, loadFeatureSplit } from '@mlops-ts/data-prep';
import { ModelsParamsSchema, TrainParamsSchema } from '@mlops-ts/model-train';
import { PredictionsSchema } from '@mlops-ts/report';
import { StageInputError } from '@mlops-ts/stage-kit';
import { MemoryTracker, TrackingParamsSchema } from '@mlops-ts/tracking';
import { penguinsFeatures } from '../../../tools/testing/stage-cli.js';
import { collectReportInput, evaluateModel, ReportParamsSchema, reportModels, trainModel, type ReportStageOptions } from '../src/index.js';

const MODELS = { logreg: { type: 'logreg', l2: 0.0001 }, mlp: { type: 'mlp', layers: [8] } };
let dir: string;
let ws: string;
let features: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipeline-report-'));
  ws = join(dir, 'ws');
  let params: Record<string, unknown>;
  ({ features, params } = await penguinsFeatures(dir, 4));
  const models = ModelsParamsSchema.parse(MODELS);
  for (const model of Object.keys(MODELS)) {
    await trainModel({
      model,
      models,
      train: TrainParamsSchema.parse({ ...(params['train'] as object), backend: 'cpu' }),
      tracking: TrackingParamsSchema.parse({ experiment: 'penguins' }),
      featuresDir: features,
      outDir: join(ws, 'models', model),
      recordsDir: join(ws, 'records'),
      tracker: new MemoryTracker('mlflow'),
      target: { kind: 'embedded', dir: '.mlflow' },
      pipelineRunId: 'report-test',
    });
    await evaluateModel({
      model,
      modelsDir: join(ws, 'models'),
      featuresDir: features,
      metricsDir: join(ws, 'metrics/eval'),
      plotsDir: join(ws, 'plots'),
      predictionsDir: join(ws, 'predictions'),
      recordsDir: join(ws, 'records'),
      experiment: 'penguins',
    });
  }
  await writeFile(join(ws, 'metrics/data_quality.json'), JSON.stringify({ rows: { in: 344, out: 342, dropped: 2 }, class_balance: { Adelie: 0.44, Chinstrap: 0.2, Gentoo: 0.36 } }));
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

function options(root: string, extra: Partial<ReportStageOptions> = {}): ReportStageOptions {
  return {
    models: MODELS,
    report: ReportParamsSchema.parse({ title: 'Penguins', metric: 'roc_auc', bootstrap: { resamples: 200, seed: 7 } }),
    dataPath: 'data/raw/penguins.json',
    metricsDir: join(root, 'metrics/eval'),
    predictionsDir: join(root, 'predictions'),
    plotsDir: join(root, 'plots'),
    modelsDir: join(root, 'models'),
    recordsDir: join(root, 'records'),
    dataQualityFile: join(root, 'metrics/data_quality.json'),
    compareFile: join(root, 'metrics/compare.json'),
    lockFile: join(root, 'dvc.lock'),
    htmlFile: join(root, 'reports/report.html'),
    markdownFile: join(root, 'reports/report.md'),
    ...extra,
  };
}

/** Cells of the Markdown table row whose second cell is `model` (bold or not), in the table after `heading`. */
function tableRow(md: string, heading: string, model: string): string[] {
  const section = md.slice(md.indexOf(heading));
  const line = section.split('\n').find((l) => l.startsWith('|') && l.split('|').map((c) => c.trim().replace(/\*\*/g, '')).includes(model));
  expect(line, `${model} row after ${heading}`).toBeDefined();
  return line!.split('|').slice(1, -1).map((c) => c.trim().replace(/\*\*/g, ''));
}

test('evaluate writes the predictions file (test labels, rounded probabilities) and a PR curve with no Infinity', async () => {
  const test = await loadFeatureSplit(features, 'test');
  const meta = await loadFeatureMeta(features);
  const predictions = PredictionsSchema.parse(JSON.parse(await readFile(join(ws, 'predictions/logreg.json'), 'utf8')));
  expect(predictions).toMatchObject({ format: 'mlops-ts.predictions/1', model: 'logreg', classes: meta.classes });
  expect(predictions.labels).toEqual(Array.from(test.y));
  expect(predictions.probabilities.flat().every((p) => Math.round(p * 1e6) / 1e6 === p)).toBe(true);
  const prText = await readFile(join(ws, 'plots/logreg/pr.json'), 'utf8');
  expect(prText).not.toMatch(/Infinity|NaN/);
  const pr = JSON.parse(prText) as { class: string; precision: number; recall: number; threshold: number | null }[];
  // multiclass: one one-vs-rest curve per class, each starting at (recall 0, precision 1) above every score
  expect([...new Set(pr.map((p) => p.class))]).toEqual(meta.classes);
  for (const c of meta.classes) expect(pr.find((p) => p.class === c)).toEqual({ class: c, precision: 1, recall: 0, threshold: null });
  expect(pr.filter((p) => p.threshold === null)).toHaveLength(meta.classes.length);
});

test('the report: HTML, Markdown and PNGs; the numbers in its tables are those of the metrics files; dvc sections degrade to "Unavailable"', async () => {
  const root = join(dir, 'r1');
  await cp(ws, root, { recursive: true });
  const lines: string[] = [];
  const result = await reportModels(
    options(root, {
      log: (l) => lines.push(l),
      dvc: {
        metricsDiff: async () => ({ [join(root, 'metrics/eval/logreg.json')]: { accuracy: { old: 0.5, new: 0.9, diff: 0.4 } } }),
        expShow: async () => {
          throw new Error('ERROR: not a git repository\nsecond-line-marker');
        },
      },
    }),
  );
  expect(result.htmlFile).toBe(join(root, 'reports/report.html'));
  expect((await readdir(join(root, 'reports'))).sort()).toEqual(['report-images', 'report.html', 'report.md']);
  const images = (await readdir(join(root, 'reports/report-images'))).sort();
  expect(images.length).toBeGreaterThanOrEqual(4);
  expect(images.every((f) => f.endsWith('.png'))).toBe(true);
  expect(result.imageFiles.map((f) => f.slice(join(root, 'reports/report-images/').length)).sort()).toEqual(images);

  const md = await readFile(result.markdownFile, 'utf8');
  const html = await readFile(result.htmlFile, 'utf8');
  for (const img of images) expect(md).toContain(`](report-images/${img})`);
  expect(html).toContain('<svg');
  for (const model of Object.keys(MODELS)) {
    const file = JSON.parse(await readFile(join(root, 'metrics/eval', `${model}.json`), 'utf8')) as { roc_auc: number; accuracy: number };
    // ranking table: rank, model, ROC AUC, …
    const ranked = tableRow(md, '## Ranking', model);
    // shown to 4 digits; recomputed from the predictions (probabilities rounded to 6 digits), so within 6e-5
    expect(Math.abs(Number(ranked[2]) - file.roc_auc)).toBeLessThanOrEqual(6e-5);
    expect(result.analysis.ranking.find((r) => r.model === model)?.value).toBeCloseTo(file.roc_auc, 4);
    expect(result.analysis.models.find((m) => m.name === model)?.mismatches).toEqual([]);
    // metrics table: model, ROC AUC [CI], accuracy [CI], …
    const metrics = tableRow(md, '## Test metrics', model);
    expect(Math.abs(Number(metrics[1]!.split(' ')[0]) - file.roc_auc)).toBeLessThanOrEqual(6e-5);
    expect(Math.abs(Number(metrics[2]!.split(' ')[0]) - file.accuracy)).toBeLessThanOrEqual(6e-5);
  }
  expect(result.analysis.ranking.map((r) => r.rank)).toEqual([1, 2]);
  expect(md).toContain('Unavailable: dvc exp show failed (ERROR: not a git repository).');
  expect(md).not.toContain('second-line-marker');
  expect(result.unavailable).toContain('dvc exp show: dvc exp show failed (ERROR: not a git repository)');
  expect(lines.some((l) => l.startsWith('1. '))).toBe(true);
  // The baseline's prior is the one evaluate wrote (train frequencies), not the test labels'.
  const evalFile = JSON.parse(await readFile(join(root, 'metrics/eval/logreg.json'), 'utf8')) as { baseline: { prior: number[] } };
  expect(result.analysis.input.baseline.prior).toEqual(evalFile.baseline.prior);
  // No staging folder is left behind.
  expect((await readdir(join(root, 'reports'), { withFileTypes: true })).filter((e) => e.name.startsWith('.'))).toEqual([]);
});

test('a missing predictions file names the file and the stage to run; nothing is written and an earlier report stays', async () => {
  const root = join(dir, 'r2');
  await cp(ws, root, { recursive: true });
  await rm(join(root, 'predictions/mlp.json'));
  const err = await reportModels(options(root)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StageInputError);
  expect((err as Error).message).toBe(`${join(root, 'predictions/mlp.json')} not found: run the evaluate@mlp stage first`);
  await expect(access(join(root, 'reports'))).rejects.toThrow(/ENOENT/);

  // With an earlier report in place, a bad input leaves it byte for byte.
  await mkdir(join(root, 'reports/report-images'), { recursive: true });
  await writeFile(join(root, 'reports/report.md'), 'earlier');
  await writeFile(join(root, 'reports/report-images/old.png'), 'png');
  await writeFile(join(root, 'predictions/mlp.json'), JSON.stringify({ labels: [0], probabilities: [[0.5]] }));
  const bad = await reportModels(options(root)).catch((e: unknown) => e);
  expect(bad).toBeInstanceOf(StageInputError);
  expect((bad as Error).message).toMatch(/predictions\/mlp\.json: probabilities\.0: .*\(rerun evaluate@mlp\)$/);
  expect((await readdir(join(root, 'reports'))).sort()).toEqual(['report-images', 'report.md']);
  expect(await readFile(join(root, 'reports/report.md'), 'utf8')).toBe('earlier');
  expect(await readdir(join(root, 'reports/report-images'))).toEqual(['old.png']);
});

test('links: a server elsewhere is linked, the loopback port of a local run is not (the report is committed); cost from the run record', async () => {
  const root = join(dir, 'r3');
  await cp(ws, root, { recursive: true });
  const edit = async (model: string, url: string) => {
    const file = join(root, 'records', `${model}.json`);
    const record = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...record, url, urls: { mlflow: url }, seconds: 12.5 }));
  };
  await edit('logreg', 'https://mlflow.example.com/#/experiments/1/runs/abc');
  await edit('mlp', 'http://127.0.0.1:34869/#/experiments/1/runs/def');
  const { input } = await collectReportInput(options(root));
  const [logreg, mlp] = input.models;
  expect(logreg?.links).toEqual({ mlflowRunUrl: 'https://mlflow.example.com/#/experiments/1/runs/abc' });
  expect(mlp?.links).toBeUndefined();
  expect(logreg?.cost).toMatchObject({ trainSeconds: 12.5, epochs: 4 });
  expect(logreg?.cost?.modelBytes).toBeGreaterThan(0);
});

test('the Trackers section: where the runs went (run records) and what compare found reading them back (compare.json)', async () => {
  const root = join(dir, 'r4');
  await cp(ws, root, { recursive: true });
  const setTargets = async (model: string, targets: Record<string, unknown>) => {
    const file = join(root, 'records', `${model}.json`);
    const record = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...record, targets }));
  };
  for (const m of Object.keys(MODELS)) await setTargets(m, { mlflow: { kind: 'server', uri: 'https://mlflow.example.com' }, clearml: { kind: 'offline-session', dir: '.clearml/offline' } });
  const compareFile = join(root, 'metrics/compare.json');
  await writeFile(compareFile, JSON.stringify({ metric: 'roc_auc', champion: null, trackers: { read: ['mlflow'], unavailable: ['clearml'], ranking_agrees: false, disagreements: ['mlflow ranks mlp first, the metrics files rank logreg first'] } }));
  const { input } = await collectReportInput(options(root, { compareFile }));
  expect(input.trackers).toEqual([
    { name: 'clearml', status: 'unavailable', detail: `2 model runs recorded; offline sessions in .clearml/offline (npm run clearml -- import <session>); compare could not reach it (${compareFile})` },
    { name: 'mlflow', status: 'online', url: 'https://mlflow.example.com', detail: `2 model runs recorded; compare read its runs back: 1 disagreement with the metrics files (${compareFile})` },
  ]);
  // no compare.json yet, runs on the loopback server of a local run: said so, no port (dead after the run)
  await rm(compareFile);
  for (const m of Object.keys(MODELS)) await setTargets(m, { mlflow: { kind: 'server', uri: 'http://127.0.0.1:34869' } });
  const second = await collectReportInput(options(root, { compareFile }));
  expect(second.input.trackers).toEqual([{ name: 'mlflow', status: 'online', detail: '2 model runs recorded; a server on the loopback of the machine that ran the pipeline (if it was the temporary server of npm run pipeline, npm run mlflow-ui shows its runs there)' }]);
  const r = await reportModels(options(root, { compareFile }));
  expect(await readFile(r.markdownFile, 'utf8')).toContain('| mlflow | online | — | 2 model runs recorded; a server on the loopback of the machine that ran the pipeline (if it was the temporary server of npm run pipeline, npm run mlflow-ui shows its runs there) |');
});
