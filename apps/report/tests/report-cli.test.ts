// The report stage through its CLI as dvc.yaml runs it (no arguments, in the repository's root), on what train and
// evaluate write for penguins; and the repository's top-level `plots:` as `dvc plots show --json` reads them.
import { evaluateModel, trainModel } from '@mlops-ts/pipeline';
import { ModelsParamsSchema, TrainParamsSchema } from '@mlops-ts/model-train';
import { MemoryTracker, TrackingParamsSchema } from '@mlops-ts/tracking';
import { renderSvg } from '@mlops-ts/report';
import { execa } from 'execa';
import { access, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { launchChromium, openFileOffline } from '../../../tools/testing/chromium.js';
import { penguinsFeatures, root, runStageCli } from '../../../tools/testing/stage-cli.js';

// The model names dvc.yaml's top-level plots list by hand.
const MODELS = { logreg: { type: 'logreg' }, mlp_small: { type: 'mlp', layers: [8] }, mlp_wide: { type: 'mlp', layers: [16, 8] } };
const dvcBin = join(root, '.venv/bin/dvc');
let dir: string;
let ws: string;
let params: Record<string, unknown>;
/** The workspace of the CLI run (its reports/ is opened in Chromium below). */
let reported: string | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'report-cli-'));
  ws = join(dir, 'ws');
  let features: string;
  ({ features, params } = await penguinsFeatures(dir, 3));
  for (const model of Object.keys(MODELS)) {
    await trainModel({
      model,
      models: ModelsParamsSchema.parse(MODELS),
      train: TrainParamsSchema.parse({ ...(params['train'] as object), backend: 'cpu' }),
      tracking: TrackingParamsSchema.parse({ experiment: 'penguins' }),
      featuresDir: features,
      outDir: join(ws, 'models', model),
      recordsDir: join(ws, '.mlops/runs'),
      tracker: new MemoryTracker('mlflow'),
      target: { kind: 'embedded', dir: '.mlflow' },
      pipelineRunId: 'report-cli',
    });
    await evaluateModel({ model, modelsDir: join(ws, 'models'), featuresDir: features, metricsDir: join(ws, 'metrics/eval'), plotsDir: join(ws, 'plots'), predictionsDir: join(ws, 'predictions'), recordsDir: join(ws, '.mlops/runs'), experiment: 'penguins' });
  }
  await writeFile(join(ws, 'metrics/data_quality.json'), JSON.stringify({ rows: { in: 344, out: 342, dropped: 2 } }));
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

async function workspace(report: Record<string, unknown> = {}): Promise<string> {
  const cwd = await mkdtemp(join(dir, 'case-'));
  await cp(ws, cwd, { recursive: true });
  await writeFile(join(cwd, 'params.yaml'), stringify({ ...params, models: MODELS, report: { title: 'Penguins', bootstrap: { resamples: 100 }, ...report } }));
  return cwd;
}

test('bad report params name the key and the file (exit 2); nothing is written', async () => {
  const cwd = await workspace({ metric: 'auc', bootstrap: { resamples: 1 }, colour: 'red' });
  const r = await runStageCli('report', [], { cwd });
  expect(r.exitCode).toBe(2);
  const lines = r.stderr.split('\n');
  expect(lines).toHaveLength(3);
  expect(lines.every((l) => l.startsWith('report: params.yaml: report.'))).toBe(true);
  expect(r.stderr).toMatch(/report\.metric: .*roc_auc/);
  expect(r.stderr).toMatch(/report\.bootstrap\.resamples: /);
  expect(r.stderr).toMatch(/report\.colour: unknown key/);
  await expect(access(join(cwd, 'reports'))).rejects.toThrow(/ENOENT/);
});

test('as dvc.yaml runs it: reports/report.html, report.md and report-images/; dvc failing (no repository) makes its sections "Unavailable", not the stage', async () => {
  const cwd = await workspace();
  const r = await runStageCli('report', ['--no-tracking'], { cwd, env: { PATH: `${join(root, '.venv/bin')}:${process.env['PATH'] ?? ''}` } });
  expect(r.exitCode, r.stderr).toBe(0);
  expect((await readdir(join(cwd, 'reports'))).sort()).toEqual(['report-images', 'report.html', 'report.md']);
  const md = await readFile(join(cwd, 'reports/report.md'), 'utf8');
  expect(md.startsWith('# Penguins\n')).toBe(true);
  expect(md).toMatch(/> Unavailable: dvc metrics diff HEAD failed \(exit code \d+: Only supported for Git repositories/);
  expect(md).toMatch(/> Unavailable: dvc exp show failed \(exit code \d+: you are not inside of a DVC repository/);
  expect(r.stderr).toMatch(/^\[report\] 1\. \S+ +roc_auc=/m);
  expect(r.stderr).toMatch(/\[report\] wrote reports\/report\.html, reports\/report\.md and \d+ charts in reports\/report-images$/);
  // sources are named as dvc.yaml's paths, relative to the repository
  expect(md).toContain('predictions/logreg.json');
  expect(md.split('\n').filter((l) => l.includes(cwd))).toEqual([]);
  reported = cwd;
});

// As libs/report/tests/browser.test.ts does for the library: Debian's Chromium (or CHROMIUM), JavaScript off.
test('the stage\'s reports/report.html in headless Chromium: every chart drawn, no request but the file, screenshot in tmp/', async () => {
  expect(reported, 'the CLI test above wrote a report').toBeDefined();
  const browser = await launchChromium();
  try {
    const { page, requests, url, close } = await openFileOffline(browser, join(reported!, 'reports/report.html'));
    const figures = await page.locator('figure[data-chart]').all();
    const images = await readdir(join(reported!, 'reports/report-images'));
    expect(figures).toHaveLength(images.length);
    for (const fig of figures) {
      const id = await fig.getAttribute('data-chart');
      const box = await fig.locator('svg').first().boundingBox();
      expect(box!.width, id ?? '').toBeGreaterThan(200);
      expect(await fig.locator('svg g.role-mark path, svg g.role-mark line, svg g.role-mark rect').count(), id ?? '').toBeGreaterThan(2);
    }
    const ranked = await page.locator('#ranking-table tbody tr').count();
    expect(ranked).toBe(Object.keys(MODELS).length + 1); // and the baseline
    await page.screenshot({ path: join(root, 'tmp/report-stage/report-full.png'), fullPage: true });
    expect(requests).toEqual([url]);
    await close();
  } finally {
    await browser.close();
  }
}, 60_000);

test('a missing predictions file: one line naming it and the stage to run (exit 1); no report', async () => {
  const cwd = await workspace();
  await rm(join(cwd, 'predictions/mlp_wide.json'));
  const r = await runStageCli('report', ['--no-dvc', '--no-tracking'], { cwd });
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toBe('report: predictions/mlp_wide.json not found: run the evaluate@mlp_wide stage first');
  await expect(access(join(cwd, 'reports'))).rejects.toThrow(/ENOENT/);
});

test("dvc.yaml's top-level plots: ROC and PR of every model overlaid, confusion matrices with their counts, learning curves", async () => {
  const cwd = await workspace();
  await cp(join(root, 'dvc.yaml'), join(cwd, 'dvc.yaml'));
  await execa('git', ['init', '-q'], { cwd });
  await execa(dvcBin, ['init', '-q'], { cwd });
  await cp(join(root, '.dvc/plots'), join(cwd, '.dvc/plots'), { recursive: true });
  const { stdout } = await execa(dvcBin, ['plots', 'show', '--json'], { cwd, env: { DVC_NO_ANALYTICS: '1' } });
  const data = (JSON.parse(stdout) as { data: Record<string, { type: string; content: Record<string, unknown> }[]> }).data;
  const names = Object.keys(MODELS);
  expect(Object.keys(data).sort()).toEqual(
    ['ROC (test)', 'Precision-recall (test)', ...names.map((m) => `plots/${m}/confusion.json`), ...names.map((m) => `Learning curves ${m}`)].sort(),
  );
  type Spec = { data: { values: Record<string, unknown>[] }; encoding?: Record<string, { field: string }> };
  const roc = data['ROC (test)']![0]!.content as Spec;
  expect([roc.encoding?.['x']?.field, roc.encoding?.['y']?.field]).toEqual(['fpr', 'tpr']);
  // one colour per model (DVC names each by its file, the common prefix dropped), one line per class within it:
  // penguins is multiclass, so each file holds three one-vs-rest curves that must not be joined into one line
  expect([...new Set(roc.data.values.map((v) => v['filename']))].sort()).toEqual(names.map((m) => `${m}/roc.json`));
  expect(roc.encoding?.['detail']?.field).toBe('class');
  for (const m of names) expect(new Set(roc.data.values.filter((v) => v['filename'] === `${m}/roc.json`).map((v) => v['class']))).toEqual(new Set(['Adelie', 'Chinstrap', 'Gentoo']));
  const pr = data['Precision-recall (test)']![0]!.content as Spec;
  expect([pr.encoding?.['x']?.field, pr.encoding?.['y']?.field]).toEqual(['recall', 'precision']);
  expect(pr.encoding?.['detail']?.field).toBe('class');
  const curves = data['Learning curves mlp_small']![0]!.content as Spec;
  expect(new Set(curves.data.values.map((v) => v['field']))).toEqual(new Set(['loss', 'valLoss']));

  // The confusion template draws each cell's count (DVC's own confusion template would count the rows: 1 each).
  const cells = JSON.parse(await readFile(join(cwd, 'plots/logreg/confusion.json'), 'utf8')) as { count: number }[];
  const svg = await renderSvg({ id: 'confusion', spec: data['plots/logreg/confusion.json']![0]!.content as never });
  const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  for (const c of cells) expect(texts).toContain(String(c.count));
}, 60_000);
