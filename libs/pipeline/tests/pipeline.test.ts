// The training stages' orchestration on the penguins table, with MemoryTracker runs (the MLflow sink's own tests run
// against a real server in libs/tracking).
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFeatureMeta } from '@mlops-ts/data-prep';
import { ModelsParamsSchema, TrainParamsSchema } from '@mlops-ts/model-train';
import { StageInputError, StageParamsError } from '@mlops-ts/stage-kit';
import { CompareParamsSchema, MemoryTracker, TrackingParamsSchema, type RunEndReport, type Tracker } from '@mlops-ts/tracking';
import { snapshotTree } from '../../../tools/testing/fs-snapshot.js';
import { penguinsFeatures } from '../../../tools/testing/stage-cli.js';
import { compareModels, evaluateModel, majorityBaseline, readRunRecord, trainModel, type TrainModelOptions } from '../src/index.js';

let dir: string;
let features: string;
let params: Record<string, unknown>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipeline-'));
  ({ features, params } = await penguinsFeatures(dir, 4));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function trainOptions(tracker: Tracker, out: string, extra: Partial<TrainModelOptions> = {}): TrainModelOptions {
  return {
    model: 'logreg',
    models: ModelsParamsSchema.parse({ logreg: { type: 'logreg', l2: 0.0001 }, mlp: { type: 'mlp', layers: [8] } }),
    train: TrainParamsSchema.parse({ ...(params['train'] as object), backend: 'cpu' }),
    tracking: TrackingParamsSchema.parse({ experiment: 'penguins' }),
    featuresDir: features,
    outDir: out,
    recordsDir: join(dir, 'records'),
    tracker,
    target: { kind: 'embedded', dir: '.mlflow' },
    pipelineRunId: `run-${Math.random()}`,
    ...extra,
  };
}

describe('train', () => {
  test('the same model on the same features twice gives byte-identical model folders; what changes goes to the run record', async () => {
    const tracker = new MemoryTracker('mlflow');
    const a = join(dir, 'a/models/logreg');
    const b = join(dir, 'b/models/logreg');
    const first = await trainModel(trainOptions(tracker, a, { recordsDir: join(dir, 'a/records') }));
    await new Promise((r) => setTimeout(r, 5)); // a later clock, so a timestamp in the folder would show
    const second = await trainModel(trainOptions(tracker, b, { recordsDir: join(dir, 'b/records') }));
    expect((await readdir(a)).sort()).toEqual(['history.json', 'model-meta.json', 'model.json', 'weights.bin']);
    expect(await snapshotTree(b)).toEqual(await snapshotTree(a));

    const meta = JSON.parse(await readFile(join(a, 'model-meta.json'), 'utf8')) as Record<string, unknown>;
    expect(JSON.stringify(meta)).not.toMatch(/pipelineRunId|run-0\.|savedAt/);
    const history = JSON.parse(await readFile(join(a, 'history.json'), 'utf8')) as Record<string, unknown>[];
    expect(history.length).toBeGreaterThan(0);
    expect(history.flatMap(Object.keys)).not.toContain('seconds');

    expect(first.record.ref).not.toEqual(second.record.ref);
    const record = await readRunRecord(join(dir, 'b/records'), 'logreg');
    expect(record).toEqual(second.record);
    expect(record?.ref['mlflow']).toBe(tracker.runs[1]?.runId);
    expect(record?.tracking).toEqual({ kind: 'embedded', dir: '.mlflow' });
    expect(record?.epochTimings.map((t) => t.epoch)).toEqual(history.map((h) => h['epoch']));

    const run = tracker.runs[0]!;
    expect(run.status).toBe('FINISHED');
    expect(run.options.tags['mlops.model']).toBe('logreg');
    expect(run.tags['mlops.logged_model_id']).toBe(`${run.runId}/model`);
    const featureMeta = await loadFeatureMeta(features);
    expect(run.models[0]?.signature).toEqual({
      inputs: featureMeta.featureNames.map((name) => ({ name, type: 'float' })),
      outputs: ['Adelie', 'Chinstrap', 'Gentoo'].map((c) => ({ name: `proba_${c}`, type: 'float' })),
    });
    expect(run.metrics.filter((m) => m.key === 'valid_loss').map((m) => m.step)).toEqual(history.map((h) => h['epoch']));
  });

  test('a tracker that could not deliver: the model is kept, the result warns with the pending line', async () => {
    const inner = new MemoryTracker('mlflow');
    const pending = 'npm run mlflow -- replay .mlflow-spill --uri http://127.0.0.1:5999';
    const downAtEnd: Tracker = {
      name: 'mlflow',
      async startRun(o) {
        const run = await inner.startRun(o);
        return { ...run, end: async (s): Promise<RunEndReport> => ({ ...(await run.end(s)), delivered: false, pending }) };
      },
      resumeRun: (ref) => inner.resumeRun(ref),
    };
    const out = join(dir, 'down/models/logreg');
    const result = await trainModel(trainOptions(downAtEnd, out, { recordsDir: join(dir, 'down/records') }));
    expect(result.warning).toContain(pending);
    expect(result.warning).toContain(out);
    expect(result.record).toMatchObject({ delivered: false, pending });
    expect((await readdir(out)).sort()).toEqual(['history.json', 'model-meta.json', 'model.json', 'weights.bin']);
  });

  test('a model name params do not have is a params error naming the key and the models there are; nothing is started', async () => {
    const tracker = new MemoryTracker('mlflow');
    const err = await trainModel(trainOptions(tracker, join(dir, 'x'), { model: 'nope', paramsFile: 'p.yaml' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StageParamsError);
    expect((err as Error).message).toBe('p.yaml: models.nope: no such model (models are: logreg, mlp)');
    expect(tracker.runs).toEqual([]);
  });

  test('missing features are an input error that names the file and the stage to run; the run is not started', async () => {
    const tracker = new MemoryTracker('mlflow');
    const err = await trainModel(trainOptions(tracker, join(dir, 'y'), { featuresDir: join(dir, 'none') })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StageInputError);
    expect((err as Error).message).toMatch(/none\/meta\.json.*run the featurize stage first/);
    expect(tracker.runs).toEqual([]);
  });
});

describe('evaluate', () => {
  let tracker: MemoryTracker;
  const models = () => join(dir, 'eval/models');
  beforeAll(async () => {
    tracker = new MemoryTracker('mlflow');
    await trainModel(trainOptions(tracker, join(models(), 'logreg'), { recordsDir: join(dir, 'eval/records') }));
  });
  const evalOptions = (sub: string) => ({
    model: 'logreg',
    modelsDir: models(),
    featuresDir: features,
    metricsDir: join(dir, sub, 'metrics'),
    plotsDir: join(dir, sub, 'plots'),
    predictionsDir: join(dir, sub, 'predictions'),
    recordsDir: join(dir, 'eval/records'),
    experiment: 'penguins',
  });

  test('the majority-class baseline predicts the most frequent TRAIN class for every row', () => {
    const base = majorityBaseline([10, 30, 5], [1, 1, 0, 2], ['a', 'b', 'c']);
    expect(base.accuracy).toBe(0.5);
    expect(base.confusionMatrix.matrix.map((row) => row[1])).toEqual([1, 2, 1]);
    expect(base.rocAuc).toBe(0.5);
  });

  test('metrics and the baseline go to a deterministic file; the recorded run gets the test metrics', async () => {
    const r1 = await evaluateModel({ ...evalOptions('e1'), openTracker: async () => ({ tracker, target: { kind: 'embedded', dir: '.mlflow' }, close: async () => undefined }) });
    const r2 = await evaluateModel(evalOptions('e2'));
    expect(await snapshotTree(join(dir, 'e2'))).toEqual(await snapshotTree(join(dir, 'e1')));
    const file = JSON.parse(await readFile(join(dir, 'e1/metrics/logreg.json'), 'utf8')) as Record<string, unknown>;
    const meta = await loadFeatureMeta(features);
    const majority = meta.classCounts.train.indexOf(Math.max(...meta.classCounts.train));
    const share = meta.classCounts.test[majority]! / meta.rows.test;
    expect(file['baseline']).toMatchObject({ name: 'majority_class', accuracy: share, roc_auc: 0.5 });
    expect(Object.keys(file['baseline'] as object).sort()).toEqual(['accuracy', 'f1', 'log_loss', 'name', 'precision', 'prior', 'recall', 'roc_auc']);
    // the prior the baseline predicts: the TRAIN split's class frequencies
    expect((file['baseline'] as { prior: number[] }).prior).toEqual(meta.classCounts.train.map((c) => c / meta.rows.train));
    expect(file['accuracy']).toBe(r1.metrics.accuracy);
    expect(JSON.stringify(file)).not.toMatch(/run|time/i);
    expect(r1.tracking).toEqual({ kind: 'recorded', runId: tracker.runs[0]!.runId });
    expect(r2.tracking).toEqual({ kind: 'none', reason: 'tracking is off' });
    const trainRun = tracker.runs[0]!;
    expect(trainRun.metrics.find((m) => m.key === 'test_accuracy')?.value).toBe(r1.metrics.accuracy);
    expect(trainRun.metrics.find((m) => m.key === 'baseline_test_accuracy')?.value).toBe(share);
  });

  test('no run record (after dvc pull elsewhere): said once, a new run linked to the model and tagged with its md5 holds the metrics and the model', async () => {
    const lines: string[] = [];
    const fresh = new MemoryTracker('mlflow', { runUrl: (id) => `http://mlflow.example:5000/#/experiments/1/runs/${id}` });
    const recordsDir = join(dir, 'eval/records-elsewhere');
    const result = await evaluateModel({
      ...evalOptions('e3'),
      recordsDir,
      modelMd5: '0123456789abcdef0123456789abcdef.dir',
      log: (l) => lines.push(l),
      openTracker: async () => ({ tracker: fresh, target: { kind: 'server', uri: 'http://mlflow.example:5000' }, close: async () => undefined }),
    });
    expect(lines.filter((l) => /no run record/.test(l))).toHaveLength(1);
    const run = fresh.runs[0]!;
    expect(result.tracking).toEqual({ kind: 'linked', runId: run.runId });
    expect(run.options.tags).toMatchObject({ 'mlops.model': 'logreg', 'mlops.model_md5': '0123456789abcdef0123456789abcdef.dir', 'mlops.dvc_stage': 'evaluate@logreg' });
    expect(run.metrics.map((m) => m.key)).toContain('test_f1');
    expect(run.models).toHaveLength(1);
    const record = await readRunRecord(recordsDir, 'logreg');
    expect(record).toMatchObject({ ref: { mlflow: run.runId }, evaluateRef: { mlflow: run.runId }, tracking: { kind: 'server', uri: 'http://mlflow.example:5000' } });
    expect(record?.loggedModelId).toBe(`${run.runId}/model`);
    // the tracker's link, as train records it (compare writes it into metrics/compare.json)
    expect(record?.urls).toEqual({ mlflow: `http://mlflow.example:5000/#/experiments/1/runs/${run.runId}` });
  });

  test('a tracking server that is down leaves the metrics written and only warns', async () => {
    const lines: string[] = [];
    const result = await evaluateModel({
      ...evalOptions('e4'),
      log: (l) => lines.push(l),
      openTracker: async () => {
        throw new Error('MLflow server http://127.0.0.1:1 unreachable');
      },
    });
    expect(result.tracking.kind).toBe('none');
    expect(lines.some((l) => /^warning: tracking server unavailable \(MLflow server http:\/\/127\.0\.0\.1:1 unreachable\)/.test(l))).toBe(true);
    expect(await snapshotTree(join(dir, 'e4'))).toEqual(await snapshotTree(join(dir, 'e1')));
  });
});

describe('compare', () => {
  const compareParams = CompareParamsSchema.parse({ metric: 'accuracy', registered_model: 'penguins', alias: 'champion' });
  async function metricsFiles(sub: string, scores: Record<string, number>, baseline = 0.44): Promise<string> {
    const metricsDir = join(dir, sub, 'metrics');
    await mkdir(metricsDir, { recursive: true });
    for (const [model, accuracy] of Object.entries(scores)) {
      await writeFile(join(metricsDir, `${model}.json`), JSON.stringify({ model, accuracy, f1: accuracy / 2, baseline: { name: 'majority_class', accuracy: baseline, f1: 0.2 } }));
    }
    return metricsDir;
  }

  test('ranks from the metrics files; a champion that beats the baseline without a run record is said once and not registered', async () => {
    const metricsDir = await metricsFiles('c1', { logreg: 0.9, mlp: 0.95, tiny: 0.3 });
    const lines: string[] = [];
    let opened = 0;
    const out = join(dir, 'c1/compare.json');
    const result = await compareModels({
      models: ['logreg', 'mlp', 'tiny'],
      compare: compareParams,
      metricsDir,
      recordsDir: join(dir, 'c1/records'),
      out,
      log: (l) => lines.push(l),
      openRegistry: async () => {
        opened++;
        throw new Error('not reached');
      },
    });
    expect(result.champion).toEqual({ model: 'mlp', score: 0.95 });
    expect(result.ranking.map((r) => r.model)).toEqual(['mlp', 'logreg', 'tiny']);
    expect(opened).toBe(0);
    expect(lines.filter((l) => /no run record/.test(l))).toHaveLength(1);
    const summary = JSON.parse(await readFile(out, 'utf8')) as { champion: unknown; baseline: unknown; trackers: unknown; ranking: { model: string; beats_baseline: boolean }[] };
    expect(summary.champion).toEqual({ model: 'mlp', score: 0.95, links: { mlflow: null, clearml: null } });
    expect(summary.trackers).toEqual({ read: [], unavailable: [], ranking_agrees: null, rankings: {}, disagreements: [], unreadable: [] });
    expect(summary.baseline).toEqual({ name: 'majority_class', score: 0.44 });
    expect(summary.ranking.map((r) => [r.model, r.beats_baseline])).toEqual([['mlp', true], ['logreg', true], ['tiny', false]]);
    expect(await readFile(join(dir, 'c1/compare.csv'), 'utf8')).toMatch(/^rank,model,score,accuracy,precision,recall,f1,roc_auc,log_loss\n1,mlp,0\.95,0\.95,,,0\.475,,\n/);
  });

  test('no model beats the baseline: no champion, the reason in one line and in compare.json, nothing registered', async () => {
    const metricsDir = await metricsFiles('c2', { logreg: 0.35, mlp: 0.44 });
    const lines: string[] = [];
    let opened = 0;
    const out = join(dir, 'c2/compare.json');
    const result = await compareModels({
      models: ['logreg', 'mlp'],
      compare: compareParams,
      metricsDir,
      recordsDir: join(dir, 'c2/records'),
      out,
      log: (l) => lines.push(l),
      openRegistry: async () => {
        opened++;
        throw new Error('not reached');
      },
    });
    expect(result.champion).toBeNull();
    expect(opened).toBe(0);
    const reason = 'no model beats the majority-class baseline on accuracy: the best, mlp, scores 0.44 against 0.44';
    expect(result.reason).toBe(reason);
    expect(lines.filter((l) => l.includes(reason))).toEqual([`${reason}; nothing registered`]);
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ champion: null, reason });
  });

  test('a model without metrics names the file and the stage to run; nothing is written', async () => {
    const metricsDir = await metricsFiles('c3', { logreg: 0.9 });
    const out = join(dir, 'c3/compare.json');
    await expect(compareModels({ models: ['logreg', 'mlp'], compare: compareParams, metricsDir, recordsDir: join(dir, 'c3/records'), out })).rejects.toThrow(
      /c3\/metrics\/mlp\.json not found: run the evaluate@mlp stage first/,
    );
    expect((await readdir(join(dir, 'c3'))).sort()).toEqual(['metrics']);
  });
});
