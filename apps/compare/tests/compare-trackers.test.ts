// The compare stage through its CLI against a real `mlflow server` and the real ClearML server: each tracker ranks
// the recorded runs; the champion's ClearML output model is tagged and published and the tag moves with the
// champion (the official SDK in .venv is the oracle); a task holding another scalar than the metrics file is a
// disagreement; ClearML down leaves compare.json written, one line naming the server, exit 1.
import { freePort, startLocalMlflowServer, type LocalMlflowServer } from '@mlops-ts/mlflow-client';
import { writeRunRecord } from '@mlops-ts/pipeline';
import { FanOutRun, modelIdsOf, openTracking, TrackingParamsSchema, trackingConfigFromEnv, type RunRef } from '@mlops-ts/tracking';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { clearmlSdkEnv, repoRoot, resolveClearmlServer, runSdkScript, uniqueProjectName, type ClearmlServerAvailable, type ResolvedClearmlServer } from '../../../tools/testing/clearml-server.js';
import { runStageCli } from '../../../tools/testing/stage-cli.js';

/** Each test runs the stage CLI three times against both servers: minutes on a loaded machine. */
const SLOW = 300_000;
const BASELINE = { accuracy: 0.5, roc_auc: 0.5 };
const ORACLE = join(import.meta.dirname, 'clearml_champion.py');
let dir: string;
let mlflow: LocalMlflowServer;
let resolved: ResolvedClearmlServer;
let server: ClearmlServerAvailable;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'compare-trackers-'));
  resolved = await resolveClearmlServer();
  if (!resolved.info.available) throw new Error(`no ClearML server: ${resolved.info.reason}`);
  server = resolved.info;
  mlflow = await startLocalMlflowServer({ dir: join(dir, 'mlflow'), mlflowBin: join(repoRoot, '.venv/bin/mlflow') });
});
afterAll(async () => {
  await mlflow?.stop();
  await resolved?.release();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const env = (): Record<string, string> => ({
  MLFLOW_TRACKING_URI: mlflow.uri,
  CLEARML_API_HOST: server.apiHost,
  CLEARML_WEB_HOST: server.webHost,
  CLEARML_FILES_HOST: server.filesHost,
  CLEARML_API_ACCESS_KEY: server.accessKey,
  CLEARML_API_SECRET_KEY: server.secretKey,
  CLEARML_CONFIG_FILE: join(dir, 'no-such-clearml.conf'),
});

interface Case {
  cwd: string;
  tracking: { experiment: string; clearml: { project: string } };
}

/** A stage folder: params.yaml naming a fresh MLflow experiment and ClearML project, the models `a` and `b`. */
async function newCase(purpose: string): Promise<Case> {
  const cwd = await mkdtemp(join(dir, `${purpose}-`));
  const project = uniqueProjectName(`compare-${purpose}`);
  const tracking = { experiment: project, clearml: { project } };
  await writeFile(join(cwd, 'params.yaml'), stringify({ models: { a: { type: 'logreg' }, b: { type: 'mlp', layers: [4] } }, compare: { metric: 'roc_auc', registered_model: `${project}-model` }, tracking }));
  return { cwd, tracking };
}

/** The evaluate stage's metrics file (values exact in float32, as ClearML stores scalars). */
async function metricsFile(c: Case, model: string, m: { accuracy: number; roc_auc: number }): Promise<void> {
  await mkdir(join(c.cwd, 'metrics/eval'), { recursive: true });
  await writeFile(join(c.cwd, 'metrics/eval', `${model}.json`), JSON.stringify({ model, ...m, baseline: { name: 'majority_class', ...BASELINE } }));
}

/** What train + evaluate leave for compare: a run in both trackers with the test scalars and the model, and the run record. */
async function trackedRun(c: Case, model: string, m: { accuracy: number; roc_auc: number }): Promise<{ ref: RunRef; clearmlModel: string; urls: Record<string, string> }> {
  const opened = await openTracking({ params: TrackingParamsSchema.parse(c.tracking), config: trackingConfigFromEnv(env()), stage: `train@${model}`, clearmlSpillDir: join(c.cwd, 'spill') });
  try {
    const run = await opened.tracker.startRun({ experiment: c.tracking.experiment, runName: model, tags: { 'mlops.model': model } });
    await run.logParams({ 'model.type': model === 'a' ? 'logreg' : 'mlp' });
    for (const [k, v] of Object.entries(m)) run.logMetric({ key: `test_${k}`, value: v, step: 0 });
    for (const [k, v] of Object.entries(BASELINE)) run.logMetric({ key: `baseline_test_${k}`, value: v, step: 0 });
    const folder = join(c.cwd, 'models', model);
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'model.json'), JSON.stringify({ model }));
    const logged = await run.logModel(folder, { name: 'model' });
    expect(await run.end('FINISHED')).toMatchObject({ delivered: true });
    const runs = run instanceof FanOutRun ? run.runs : [run];
    const urls = Object.fromEntries(runs.flatMap((r) => (r.url ? [[r.tracker, r.url]] : [])));
    const loggedModels = modelIdsOf(logged);
    const now = new Date().toISOString();
    await writeRunRecord(join(c.cwd, '.mlops/runs'), {
      format: 'mlops-ts.run-record/1',
      model,
      experiment: c.tracking.experiment,
      pipelineRunId: 'test',
      tracking: opened.target,
      targets: opened.targets,
      ref: run.ref,
      loggedModelId: loggedModels['mlflow']!,
      loggedModels,
      urls,
      startedAt: now,
      endedAt: now,
      seconds: 0,
    });
    return { ref: run.ref, clearmlModel: loggedModels['clearml']!, urls };
  } finally {
    await opened.close();
  }
}

/** A later scalar on the ClearML task only (its last_metrics then differ from the metrics file). */
async function clearmlScalar(c: Case, ref: RunRef, key: string, value: number): Promise<void> {
  const opened = await openTracking({ params: TrackingParamsSchema.parse({ ...c.tracking, trackers: ['clearml'] }), config: trackingConfigFromEnv(env()), stage: 'test', clearmlSpillDir: join(c.cwd, 'spill') });
  try {
    const run = await opened.tracker.resumeRun({ clearml: ref['clearml']! });
    run.logMetric({ key, value, step: 1 });
    expect(await run.end('FINISHED')).toMatchObject({ delivered: true });
  } finally {
    await opened.close();
  }
}

interface Oracle {
  models: Record<string, { tags: string[]; published: boolean; task: string }>;
  tasks: Record<string, { tags: string[]; output_models: string[] }>;
}
const sdk = async (q: { models?: string[]; tasks?: string[] }): Promise<Oracle> => (await runSdkScript(ORACLE, [JSON.stringify(q)], { env: clearmlSdkEnv(server, dir) })) as Oracle;

interface Summary {
  champion: { model: string; score: number; links: { mlflow: string | null; clearml: string | null } } | null;
  ranking: { model: string; links: { mlflow: string | null; clearml: string | null } }[];
  trackers: { read: string[]; unavailable: string[]; ranking_agrees: boolean | null; rankings: Record<string, { rank: number; model: string; score: number | null }[]>; disagreements: string[] };
}
const summaryOf = async (c: Case): Promise<{ text: string; json: Summary }> => {
  const text = await readFile(join(c.cwd, 'metrics/compare.json'), 'utf8');
  return { text, json: JSON.parse(text) as Summary };
};

test('the champion\'s ClearML model is tagged and published, the tag moves with the champion; compare.json links both trackers', async () => {
  const c = await newCase('champion');
  await metricsFile(c, 'a', { accuracy: 0.75, roc_auc: 0.875 });
  await metricsFile(c, 'b', { accuracy: 0.625, roc_auc: 0.75 });
  const a = await trackedRun(c, 'a', { accuracy: 0.75, roc_auc: 0.875 });
  const b = await trackedRun(c, 'b', { accuracy: 0.625, roc_auc: 0.75 });

  const first = await runStageCli('compare', [], { cwd: c.cwd, env: env() });
  expect(first.exitCode, first.stderr).toBe(0);
  expect(first.stderr).toContain(`published and tagged champion ClearML model ${a.clearmlModel} (a)`);
  // (the e2e pipeline test matches this line's start)
  expect(first.stderr).toContain('[compare] cross-check: 4 runs in mlflow and clearml hold the metrics the files say and rank the models as they do');
  const s1 = await summaryOf(c);
  expect(s1.json.champion).toEqual({ model: 'a', score: 0.875, links: { mlflow: a.urls['mlflow'], clearml: a.urls['clearml'] } });
  expect(s1.json.ranking.map((r) => [r.model, r.links])).toEqual([
    ['a', { mlflow: a.urls['mlflow'], clearml: a.urls['clearml'] }],
    ['b', { mlflow: b.urls['mlflow'], clearml: b.urls['clearml'] }],
  ]);
  expect(s1.json.trackers).toMatchObject({ read: ['mlflow', 'clearml'], unavailable: [], ranking_agrees: true, disagreements: [] });
  expect(s1.json.trackers.rankings['clearml']).toEqual([{ rank: 1, model: 'a', score: 0.875 }, { rank: 2, model: 'b', score: 0.75 }]);
  expect(s1.json.trackers.rankings['mlflow']?.map((r) => r.model)).toEqual(['a', 'b']);

  let seen = await sdk({ models: [a.clearmlModel, b.clearmlModel], tasks: [a.ref['clearml']!] });
  expect(seen.tasks[a.ref['clearml']!]?.output_models).toContain(a.clearmlModel);
  expect(seen.models[a.clearmlModel]).toMatchObject({ tags: ['champion'], published: true, task: a.ref['clearml'] });
  expect(seen.models[b.clearmlModel]).toMatchObject({ tags: [], published: false });

  // The same runs again: nothing changes, and compare.json has the same bytes.
  const again = await runStageCli('compare', [], { cwd: c.cwd, env: env() });
  expect(again.exitCode, again.stderr).toBe(0);
  expect(again.stderr).toContain(`ClearML model ${a.clearmlModel} (a) already is published and tagged champion`);
  expect((await summaryOf(c)).text).toBe(s1.text);

  // b is retrained and now the best: the tag moves to b's new model, a's model keeps only its published state.
  await metricsFile(c, 'b', { accuracy: 0.8125, roc_auc: 0.9375 });
  const b2 = await trackedRun(c, 'b', { accuracy: 0.8125, roc_auc: 0.9375 });
  const moved = await runStageCli('compare', [], { cwd: c.cwd, env: env() });
  expect(moved.exitCode, moved.stderr).toBe(0);
  expect(moved.stderr).toContain(`published and tagged champion ClearML model ${b2.clearmlModel} (b), removed the tag from ${a.clearmlModel}`);
  expect((await summaryOf(c)).json.champion?.model).toBe('b');
  seen = await sdk({ models: [a.clearmlModel, b2.clearmlModel] });
  expect(seen.models[b2.clearmlModel]).toMatchObject({ tags: ['champion'], published: true });
  expect(seen.models[a.clearmlModel]).toMatchObject({ tags: [], published: true });
}, SLOW);

test('a ClearML task holding another scalar than the metrics file: the value, the order and the best model disagree, one line each; the files still rank', async () => {
  const c = await newCase('disagree');
  await metricsFile(c, 'a', { accuracy: 0.75, roc_auc: 0.875 });
  await metricsFile(c, 'b', { accuracy: 0.625, roc_auc: 0.75 });
  const a = await trackedRun(c, 'a', { accuracy: 0.75, roc_auc: 0.875 });
  await trackedRun(c, 'b', { accuracy: 0.625, roc_auc: 0.75 });
  await clearmlScalar(c, a.ref, 'test_roc_auc', 0.625);

  const r = await runStageCli('compare', [], { cwd: c.cwd, env: env() });
  expect(r.exitCode, r.stderr).toBe(0);
  const lines = [
    'ClearML ranks b > a, the metrics files rank a > b',
    "ClearML's best is b, the metrics files' best is a",
    "ClearML run of a says test_roc_auc=0.625, a's metrics file says 0.875",
  ];
  expect(r.stderr.split('\n').filter((l) => l.includes('cross-check:'))).toEqual(lines.map((l) => `[compare] cross-check: ${l}`));
  const s = (await summaryOf(c)).json;
  expect(s.champion?.model).toBe('a');
  expect(s.trackers).toMatchObject({ read: ['mlflow', 'clearml'], ranking_agrees: false, disagreements: lines });
  expect(s.trackers.rankings['mlflow']?.map((x) => x.model)).toEqual(['a', 'b']);
  expect(s.trackers.rankings['clearml']?.map((x) => x.model)).toEqual(['b', 'a']);
}, SLOW);

test('ClearML down at compare time: compare.json is written, MLflow still registers, one line names the server (no keys), exit 1; MLflow down alike', async () => {
  const c = await newCase('down');
  // b beats a by less than float32 rounding in the files, and the trackers hold b rounded (as a float32 store would):
  // within rounding is no disagreement, so the trackers' tie must not be reported as another order either.
  await metricsFile(c, 'a', { accuracy: 0.75, roc_auc: 0.875 });
  await metricsFile(c, 'b', { accuracy: 0.75, roc_auc: 0.875 + 1e-10 });
  await trackedRun(c, 'a', { accuracy: 0.75, roc_auc: 0.875 });
  await trackedRun(c, 'b', { accuracy: 0.75, roc_auc: 0.875 });
  const down = `http://127.0.0.1:${await freePort()}`;

  const t0 = Date.now();
  const r = await runStageCli('compare', [], { cwd: c.cwd, env: { ...env(), CLEARML_API_HOST: down } });
  console.info(`[compare-trackers] ClearML down: compare exited after ${Date.now() - t0} ms (noisy: shared machine)`);
  expect(r.exitCode, r.stderr).toBe(1);
  const named = r.stderr.split('\n').filter((l) => l.includes(down));
  expect(named).toHaveLength(1);
  expect(named[0]).toMatch(/^compare: ClearML server http:\/\/127\.0\.0\.1:\d+ is unreachable .*: metrics\/compare\.json is written from the metrics files; not cross-checked in ClearML, the champion's task and model not tagged$/);
  expect(r.stderr).not.toContain(server.secretKey);
  expect(r.stderr).not.toContain(server.accessKey);
  expect(r.stderr).toMatch(/registered .* version 1 \(b\) as @champion/);
  const s = (await summaryOf(c)).json;
  expect(s.champion?.model).toBe('b');
  expect(s.trackers).toMatchObject({ read: ['mlflow'], unavailable: ['clearml'], ranking_agrees: true, disagreements: [] });
  expect(s.trackers.rankings['mlflow']?.map((x) => x.model)).toEqual(['b', 'a']);

  // MLflow down instead: the same policy; ClearML still tags and publishes the champion's model.
  const mlflowDown = `http://127.0.0.1:${await freePort()}`;
  const m = await runStageCli('compare', [], { cwd: c.cwd, env: { ...env(), MLFLOW_TRACKING_URI: mlflowDown, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' } });
  expect(m.exitCode, m.stderr).toBe(1);
  const mlflowLines = m.stderr.split('\n').filter((l) => l.includes(mlflowDown));
  expect(mlflowLines, m.stderr).toHaveLength(1);
  expect(mlflowLines[0]).toMatch(/^compare: .*: metrics\/compare\.json is written from the metrics files; not cross-checked in MLflow, no alias set$/);
  expect(m.stderr).toMatch(/published and tagged champion ClearML model \S+ \(b\)/);
  expect((await summaryOf(c)).json.trackers).toMatchObject({ read: ['clearml'], unavailable: ['mlflow'], ranking_agrees: true, disagreements: [] });
  expect((await summaryOf(c)).json.trackers.rankings['clearml']?.map((x) => x.model)).toEqual(['b', 'a']);
}, SLOW);
