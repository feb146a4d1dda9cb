import { clearmlScalarOf, fanOut, flattenParams, MemoryTracker, metricDisagreements, metricKeyOf, modelIdsOf, plotlyFigure, plotlyHtml, rankingDisagreements, TrackingError } from './index.js';
import type { Figure, Tracker, TrackerRun } from './index.js';
import type * as Errors from './errors.js';

describe('flattenParams', () => {
  test('dots nested keys, keeps arrays whole, drops null leaves', () => {
    expect(flattenParams({ model: { type: 'mlp', layers: [32, 16], dropout: 0.1, extra: null }, seed: 7, es: { on: true } })).toEqual({
      'model.type': 'mlp',
      'model.layers': '[32,16]',
      'model.dropout': '0.1',
      seed: '7',
      'es.on': 'true',
    });
  });
  test('applies a prefix and rejects a bare scalar', () => {
    expect(flattenParams({ a: 1 }, 'train')).toEqual({ 'train.a': '1' });
    expect(() => flattenParams(3)).toThrow(TypeError);
  });
});

/** A tracker whose runs fail on one operation, to prove failures are reported per tracker. */
function failingTracker(name: string, failOn: 'start' | 'logParams'): Tracker {
  const inner = new MemoryTracker(name);
  return {
    name,
    async startRun(options) {
      if (failOn === 'start') throw new Error('server unreachable');
      const run = await inner.startRun(options);
      return { ...run, tracker: name, runId: run.runId, logParams: () => Promise.reject(new Error('HTTP 503')) } satisfies TrackerRun;
    },
    resumeRun: (ref) => inner.resumeRun(ref),
  };
}

describe('fanOut', () => {
  test('every tracker receives every call', async () => {
    const a = new MemoryTracker('a');
    const b = new MemoryTracker('b');
    const run = await fanOut([a, b]).startRun({ experiment: 'exp', runName: 'r1', tags: { stage: 'train' } });
    await run.logParams({ lr: 0.01 });
    run.logMetric({ key: 'loss', value: 0.5, step: 1, timestamp: 1000 });
    await run.setTags({ commit: 'abc' });
    await run.logInput({ name: 'train', digest: 'md5', source: 'data/features/train.parquet', context: 'train' });
    await run.logArtifact('/tmp/x.json', 'plots');
    const signature = { inputs: [{ name: 'distance', type: 'float' as const }], outputs: [{ name: 'proba_on_time', type: 'float' as const }, { name: 'proba_delayed', type: 'float' as const }] };
    const ref = await run.logModel('/tmp/model', { name: 'model', signature });
    expect(await run.end()).toEqual({ tracker: 'a+b', delivered: true });
    expect(run.reports).toEqual([{ tracker: 'a', delivered: true }, { tracker: 'b', delivered: true }]);
    for (const t of [a, b]) {
      const [r] = t.runs;
      expect(r?.params).toEqual({ lr: '0.01' });
      expect(r?.metrics).toEqual([{ key: 'loss', value: 0.5, step: 1, timestamp: 1000 }]);
      expect(r?.tags).toEqual({ commit: 'abc' });
      expect(r?.options.tags).toEqual({ stage: 'train' });
      expect(r?.inputs[0]?.digest).toBe('md5');
      expect(r?.artifacts).toEqual([{ localPath: '/tmp/x.json', artifactPath: 'plots' }]);
      expect(r?.status).toBe('FINISHED');
      expect(r?.models).toEqual([{ localDir: '/tmp/model', name: 'model', signature }]);
    }
    expect(ref.modelId).toBe(`${a.runs[0]?.runId}/model`);
    expect(run.of('b')?.runId).toBe(b.runs[0]?.runId);
    expect(run.tracker).toBe('a+b');
  });

  test('a tracker that fails to start is named, and runs already started end as FAILED', async () => {
    const ok = new MemoryTracker('ok');
    const err = await fanOut([ok, failingTracker('mlflow', 'start')]).startRun({ experiment: 'e', runName: 'r' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackingError);
    expect((err as TrackingError).message).toMatch(/startRun failed in mlflow \(server unreachable\)/);
    expect(ok.runs[0]?.status).toBe('FAILED');
  });

  test('a failing call still reaches the other trackers', async () => {
    const ok = new MemoryTracker('ok');
    const run = await fanOut([failingTracker('clearml', 'logParams'), ok]).startRun({ experiment: 'e', runName: 'r' });
    await expect(run.logParams({ a: 1 })).rejects.toThrow(/logParams failed in clearml \(HTTP 503\)/);
    expect(ok.runs[0]?.params).toEqual({ a: '1' });
  });

  test('a later stage resumes the same runs from the stored ref', async () => {
    const a = new MemoryTracker('a');
    const b = new MemoryTracker('b');
    const tracker = fanOut([a, b]);
    const first = await tracker.startRun({ experiment: 'e', runName: 'r' });
    await first.end();
    const ref = JSON.parse(JSON.stringify(first.ref)) as Record<string, string>;
    expect(Object.keys(ref).sort()).toEqual(['a', 'b']);
    const again = await tracker.resumeRun(ref);
    again.logMetric({ key: 'test_accuracy', value: 0.9, step: 0 });
    await again.end();
    expect(a.runs).toHaveLength(1);
    expect(b.runs[0]?.metrics.map((m) => m.key)).toEqual(['test_accuracy']);
  });

  test('resuming a run one tracker has no id for logs to the others, with a notice (not an error)', async () => {
    const a = new MemoryTracker('mlflow');
    const b = new MemoryTracker('clearml');
    const lines: string[] = [];
    const first = await a.startRun({ experiment: 'e', runName: 'trained before clearml' });
    await first.end();
    const tracker = fanOut([a, b], { log: (l) => lines.push(l) });
    const again = await tracker.resumeRun({ mlflow: first.runId });
    expect(again.notices).toEqual([expect.stringMatching(/^clearml: no run id recorded .*logging to mlflow only$/)]);
    expect(lines).toEqual(again.notices);
    expect(again.ref).toEqual({ mlflow: first.runId });
    again.logMetric({ key: 'test_f1', value: 0.5, step: 0 });
    await again.end();
    expect(a.runs[0]?.metrics.map((m) => m.key)).toEqual(['test_f1']);
    expect(b.runs).toEqual([]);
    await expect(tracker.resumeRun({ other: 'x' })).rejects.toThrow(/resumeRun failed in mlflow \(no run id recorded.*; clearml \(no run id recorded/);
  });

  test('logModel returns each tracker\'s model; figures are validated and recorded', async () => {
    const a = new MemoryTracker('mlflow');
    const b = new MemoryTracker('clearml');
    const run = await fanOut([a, b]).startRun({ experiment: 'e', runName: 'r' });
    const ref = await run.logModel('/tmp/m', { name: 'model', metrics: { best_epoch: 3 }, labels: ['on_time', 'delayed'] });
    expect(modelIdsOf(ref)).toEqual({ mlflow: `${a.runs[0]!.runId}/model`, clearml: `${b.runs[0]!.runId}/model` });
    expect(ref.modelId).toBe(`${a.runs[0]!.runId}/model`);
    expect(b.runs[0]?.models[0]).toMatchObject({ metrics: { best_epoch: 3 }, labels: ['on_time', 'delayed'] });
    const curves: Figure = { kind: 'learning_curves', series: [{ metric: 'loss', variant: 'train', x: [1, 2], y: [0.7, 0.5] }] };
    await run.logFigure('learning_curves', curves);
    expect(b.runs[0]?.figures['learning_curves']).toEqual({ ...curves, xLabel: 'epoch' });
    await expect(run.logFigure('cm', { kind: 'confusion_matrix', labels: ['a', 'b'], counts: [[1, 2]] })).rejects.toThrow(/counts must be 2×2/);
    await expect(run.logFigure('bad name', curves)).rejects.toThrow(/figure name/);
    await run.end();
  });
});

describe('plotlyFigure', () => {
  test('renders each figure kind as Plotly traces', () => {
    const lc = plotlyFigure({ kind: 'learning_curves', series: [{ metric: 'loss', variant: 'train', x: [1, 2], y: [0.7, 0.5] }, { metric: 'loss', variant: 'valid', x: [1, 2], y: [0.8, 0.6] }] });
    expect(lc.data.map((d) => d['name'])).toEqual(['loss/train', 'loss/valid']);
    const roc = plotlyFigure({ kind: 'roc', curves: [{ label: 'delayed', fpr: [0, 0.5, 1], tpr: [0, 0.8, 1], auc: 0.65 }] });
    expect(roc.data[0]).toMatchObject({ name: 'delayed (AUC 0.6500)', x: [0, 0.5, 1], y: [0, 0.8, 1] });
    const cm = plotlyFigure({ kind: 'confusion_matrix', labels: ['a', 'b'], counts: [[5, 1], [2, 7]] });
    expect(cm.data[0]).toMatchObject({ type: 'heatmap', x: ['a', 'b'], y: ['b', 'a'], z: [[2, 7], [5, 1]] });
    const bar = plotlyFigure({ kind: 'bar', series: [{ name: 'n', x: ['a', 'b'], y: [1, 2] }] });
    expect(bar.data[0]?.['type']).toBe('bar');
    expect(() => plotlyFigure({ kind: 'line', series: [{ name: 'n', x: [1], y: [1, 2] }] })).toThrow(/differ in length/);
  });
  test('the HTML page loads plotly.js and cannot be broken out of by a title or a label', () => {
    const html = plotlyHtml(plotlyFigure({ kind: 'bar', series: [{ name: '</script><b>', x: ['a'], y: [1] }] }), '<t>');
    expect(html).toContain('<script src="https://cdn.plot.ly/');
    expect(html).not.toContain('</script><b>');
    expect(html).toContain('<title>&#60;t&#62;</title>');
  });

  test('end reports not delivered when one tracker could not deliver, with its pending line', async () => {
    const ok = new MemoryTracker('ok');
    const down = new MemoryTracker('mlflow');
    const pending = 'npm run mlflow -- replay .mlflow-spill --uri http://127.0.0.1:5000';
    const spilling: Tracker = {
      name: 'mlflow',
      async startRun(o) {
        const run = await down.startRun(o);
        return { ...run, end: async (s) => ({ ...(await run.end(s)), delivered: false, pending }) };
      },
      resumeRun: (ref) => down.resumeRun(ref),
    };
    const run = await fanOut([ok, spilling]).startRun({ experiment: 'e', runName: 'r' });
    expect(await run.end()).toEqual({ tracker: 'ok+mlflow', delivered: false, pending });
    expect(ok.runs[0]?.status).toBe('FINISHED');
  });

  test('TrackingError has a stable code and instanceof works across two copies of the module', async () => {
    const specifier = './errors.ts?copy'; // a second instance of the module, as a second installed copy would be
    const copy = (await import(specifier)) as typeof Errors;
    expect(copy.TrackingError).not.toBe(TrackingError);
    const theirs = new copy.TrackingError('logParams', [{ tracker: 'mlflow', error: new Error('x') }]);
    expect(theirs).toBeInstanceOf(TrackingError);
    expect(theirs.code).toBe('ERR_TRACKING');
    expect(new Error('x')).not.toBeInstanceOf(TrackingError);
  });

  test('start options are validated', async () => {
    await expect(new MemoryTracker().startRun({ experiment: '', runName: 'r' })).rejects.toThrow(/experiment/);
  });
});

describe('metricDisagreements / clearmlScalarOf', () => {
  test('a missing metric or one off by more than float32 rounding is a disagreement; float32 rounding is not', () => {
    const file = { test_roc_auc: 0.7123456789, test_f1: 0.5, test_accuracy: 0.8 };
    const held = { test_roc_auc: Math.fround(0.7123456789), test_f1: 0.51 };
    expect(metricDisagreements('m', 'clearml', file, held)).toEqual([
      { model: 'm', tracker: 'clearml', metric: 'test_f1', file: 0.5, tracker_value: 0.51 },
      { model: 'm', tracker: 'clearml', metric: 'test_accuracy', file: 0.8, tracker_value: null },
    ]);
  });
  test('a tracker ranking the models it holds in another order is one disagreement, another best model a second', () => {
    expect(rankingDisagreements('clearml', ['a', 'b', 'c'], ['a', 'b', 'c'])).toEqual([]);
    // c is not in the tracker: the orders of a and b agree
    expect(rankingDisagreements('mlflow', ['a', 'c', 'b'], ['a', 'b'])).toEqual([]);
    const order = { tracker: 'clearml', tracker_order: ['a', 'c', 'b'], file_order: ['a', 'b', 'c'] };
    expect(rankingDisagreements('clearml', ['a', 'b', 'c'], ['a', 'c', 'b'])).toEqual([{ ...order, kind: 'order' }]);
    const best = { tracker: 'clearml', tracker_order: ['b', 'a'], file_order: ['a', 'b'] };
    expect(rankingDisagreements('clearml', ['a', 'b'], ['b', 'a'])).toEqual([{ ...best, kind: 'order' }, { ...best, kind: 'champion' }]);
    expect(rankingDisagreements('clearml', ['a', 'b'], [])).toEqual([]);
  });
  test('metric keys map to ClearML metric/variant and back', () => {
    for (const [key, metric, variant] of [['train_loss', 'loss', 'train'], ['valid_accuracy', 'accuracy', 'valid'], ['test_roc_auc', 'roc_auc', 'test'], ['baseline_test_f1', 'f1', 'baseline_test'], ['best_epoch', 'best_epoch', 'best_epoch']] as const) {
      expect(clearmlScalarOf(key)).toEqual({ metric, variant });
      expect(metricKeyOf(metric, variant)).toBe(key);
    }
  });
});
