import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeReport, fmt, ReportError, ReportInputError, type Conclusion } from '../src/index.js';
import { committedDir, committedInput, MODELS, tinyModelsInput } from './fixture.js';

const byId = (cs: Conclusion[], id: string): Conclusion => {
  const c = cs.find((x) => x.id === id);
  if (!c) throw new Error(`no conclusion ${id} among ${cs.map((x) => x.id).join(', ')}`);
  return c;
};

describe('conclusions from the tiny real models (predictions, history, cost, data quality)', () => {
  const f = tinyModelsInput();
  const a = analyzeReport(f.input);
  const cs = a.conclusions;

  it('every sentence carries the numbers it names, formatted as in the report', () => {
    for (const c of cs) {
      expect(c.source, c.id).not.toBe('');
      for (const [k, v] of Object.entries(c.numbers)) {
        if (['significant', 'epochs', 'bestEpoch', 'lastEpoch'].includes(k)) continue;
        expect(Number.isFinite(v), `${c.id}.${k}`).toBe(true);
      }
    }
    const best = byId(cs, 'best');
    expect(best.text).toContain(fmt(best.numbers['value']));
    expect(best.text).toContain(fmt(best.numbers['lo']));
    expect(best.text).toContain(fmt(best.numbers['hi']));
  });

  it('the best model is the top of the ranking, and its value is the eval file\'s (recomputed from the predictions)', () => {
    const best = byId(cs, 'best');
    const top = a.ranking[0]!;
    expect(best.text.startsWith(`${top.model} has the best ROC AUC`)).toBe(true);
    expect(best.numbers['value']).toBe(top.value);
    const evalFile = f.input.models.find((m) => m.name === top.model)!.eval!;
    expect(best.numbers['value']).toBeCloseTo(evalFile.roc_auc!, 12);
    expect(best.numbers['margin']).toBeCloseTo(top.value - a.ranking[1]!.value, 12);
    // The margin's interval is the bootstrap pair's.
    const pair = a.bootstrap.available ? a.bootstrap.value.pairs.find((p) => p.metric === 'roc_auc' && ((p.a === top.model && p.b === a.ranking[1]!.model) || (p.b === top.model && p.a === a.ranking[1]!.model)))! : undefined;
    expect(pair).toBeDefined();
    const sign = pair!.a === top.model ? 1 : -1;
    expect(best.numbers['marginLo']).toBeCloseTo(sign === 1 ? pair!.lo : -pair!.hi, 12);
    expect(best.text).toMatch(pair!.significant ? /significant/ : /not significant/);
  });

  it('says for each model whether it beats the baseline, on the interval of the difference', () => {
    for (const name of MODELS) {
      const c = byId(cs, `baseline:${name}`);
      expect(c.numbers['baseline']).toBeCloseTo(0.5, 12); // a constant prior ranks nothing: ROC AUC 0.5
      expect(c.text).toMatch(c.numbers['diff']! > 0 ? / beats / : /does not beat/);
      expect(c.numbers['lo']).toBeLessThanOrEqual(c.numbers['diff']!);
      expect(c.numbers['hi']).toBeGreaterThanOrEqual(c.numbers['diff']!);
    }
  });

  it('lists every pair, not significant exactly when the interval includes 0', () => {
    const pairs = cs.filter((c) => c.kind === 'difference');
    expect(pairs).toHaveLength(3);
    for (const p of pairs) {
      const includes0 = p.numbers['lo']! <= 0 && p.numbers['hi']! >= 0;
      expect(p.numbers['significant']).toBe(includes0 ? 0 : 1);
      expect(p.text).toContain(includes0 ? 'not significant' : 'significant');
    }
  });

  it('reads over-fitting from the curves: mlp_wide (150 rows, 10 noise columns) starts to overfit at its best epoch', () => {
    const fit = byId(cs, 'fit:mlp_wide');
    const h = f.input.models.find((m) => m.name === 'mlp_wide')!.history!;
    const best = h.reduce((b, e) => (e.valLoss! < b.valLoss! ? e : b));
    expect(fit.numbers['bestEpoch']).toBe(best.epoch);
    expect(fit.numbers['bestValidLoss']).toBe(best.valLoss);
    expect(fit.text).toMatch(/overfit/);
    expect(fit.severity).toBe('warning');
  });

  it('states the precision/recall trade-off at the chosen threshold, matching the confusion matrix', () => {
    for (const m of a.models) {
      const c = byId(cs, `threshold:${m.name}`);
      const cm = m.confusion.available ? m.confusion.value.matrix : [];
      const tp = cm[1]![1]!;
      const fp = cm[0]![1]!;
      const fn = cm[1]![0]!;
      expect(c.numbers['recall']).toBeCloseTo(tp / (tp + fn), 12);
      if (tp + fp > 0) expect(c.numbers['precision']).toBeCloseTo(tp / (tp + fp), 12);
      expect(c.numbers['bestF1']).toBeGreaterThanOrEqual(c.numbers['f1']!);
    }
  });

  it('names cost and data-quality caveats from their inputs', () => {
    const cost = byId(cs, 'cost');
    const seconds = f.input.models.map((m) => m.cost!.trainSeconds!);
    expect(cost.numbers['fastestSeconds']).toBe(Math.min(...seconds));
    expect(cost.numbers['slowestSeconds']).toBe(Math.max(...seconds));
    const dq = JSON.parse(readFileSync(join(committedDir, 'metrics/data_quality.json'), 'utf8'));
    const balance = byId(cs, 'data:balance');
    expect(balance.numbers['minorShare']).toBe(dq.class_balance.delayed);
    expect(balance.severity).toBe('warning');
    expect(byId(cs, 'data:dropped').numbers['dropped']).toBe(dq.rows.dropped);
  });
});

describe('conclusions from the committed DVC files only (no predictions)', () => {
  const a = analyzeReport(committedInput());
  const evals = Object.fromEntries(MODELS.map((m) => [m, JSON.parse(readFileSync(join(committedDir, `metrics/eval/${m}.json`), 'utf8'))]));

  it('ranks by the eval files and says that there is no interval', () => {
    const best = byId(a.conclusions, 'best');
    const top = MODELS.reduce((b, m) => (evals[m].roc_auc > evals[b].roc_auc ? m : b));
    expect(a.ranking[0]!.model).toBe(top);
    expect(best.numbers['value']).toBe(evals[top].roc_auc);
    expect(best.text).toContain('no interval');
    expect(a.conclusions.some((c) => c.kind === 'difference')).toBe(false);
    expect(a.bootstrap.available).toBe(false);
  });

  it('warns that every model\'s accuracy is below the majority-class baseline\'s', () => {
    for (const m of MODELS) {
      const c = byId(a.conclusions, `baseline-accuracy:${m}`);
      expect(c.numbers['accuracy']).toBe(evals[m].accuracy);
      expect(c.numbers['baselineAccuracy']).toBe(evals[m].baseline.accuracy);
    }
  });
});

describe('the baseline prior', () => {
  it('comes from the input, else from the eval file\'s baseline.prior, else from the test labels (and says which)', () => {
    const { input, trainPrior } = tinyModelsInput({ testRows: 400, epochs: 3 });
    const models = input.models.map((m) => ({ ...m, eval: { ...m.eval!, baseline: { ...m.eval!.baseline!, prior: trainPrior } } }));
    const fromEval = analyzeReport({ ...input, baseline: {}, models });
    const given = analyzeReport(input);
    const none = analyzeReport({ ...input, baseline: {} });
    expect(fromEval.baseline.available && fromEval.baseline.value.metrics.log_loss).toBe(given.baseline.available && given.baseline.value.metrics.log_loss);
    expect(fromEval.baseline.available && fromEval.baseline.source).toMatch(/train class frequencies/);
    expect(none.baseline.available && none.baseline.source).toMatch(/test labels' class frequencies/);
  });
});

describe('consistency of the eval file with the predictions', () => {
  it('warns when metrics/eval/<model>.json and the predictions disagree, and uses the predictions', () => {
    const { input } = tinyModelsInput({ testRows: 400, epochs: 3 });
    const m = input.models[0]!;
    const a = analyzeReport({ ...input, models: [{ ...m, eval: { ...m.eval!, roc_auc: m.eval!.roc_auc! + 0.01 } }, ...input.models.slice(1)] });
    const c = byId(a.conclusions, `consistency:${m.name}`);
    expect(c.severity).toBe('warning');
    expect(c.numbers['eval']! - c.numbers['predictions']!).toBeCloseTo(0.01, 12);
    expect(a.models[0]!.metrics.available && a.models[0]!.metrics.value.roc_auc).toBe(c.numbers['predictions']);
    expect(a.conclusions.some((x) => x.id.startsWith('consistency:') && x.id !== c.id)).toBe(false);
  });
});

describe('fit rules on hand-made histories', () => {
  const base = tinyModelsInput({ testRows: 300, epochs: 3 }).input;
  const withHistory = (history: { epoch: number; loss: number; valLoss?: number }[]) =>
    analyzeReport({ ...base, models: [{ ...base.models[0]!, history }] }).conclusions.find((c) => c.id === `fit:${base.models[0]!.name}`)!;
  it('overfits: valid loss rises while train loss falls', () => {
    const c = withHistory([1, 2, 3, 4, 5, 6].map((e) => ({ epoch: e, loss: 1 - e * 0.1, valLoss: e <= 3 ? 1 - e * 0.05 : 0.85 + (e - 3) * 0.03 })));
    expect(c.text).toMatch(/overfits after epoch 3/);
    expect(c.numbers['bestEpoch']).toBe(3);
  });
  it('still improving at the last epoch: may underfit', () => {
    const c = withHistory([1, 2, 3].map((e) => ({ epoch: e, loss: 1 - e * 0.1, valLoss: 1 - e * 0.1 })));
    expect(c.text).toMatch(/still improving/);
  });
  it('no validation loss: says it cannot tell', () => {
    expect(withHistory([{ epoch: 1, loss: 0.5 }]).text).toMatch(/no validation loss/);
  });
});

describe('input validation', () => {
  it('lists every problem with its path, as a typed error with a stable code and a Symbol.for brand', () => {
    let caught: unknown;
    try {
      analyzeReport({ models: [{ name: '' }, { name: 'x', predictions: { labels: [0, 3], probabilities: [[0.5, 0.5]] } }], metric: 'auc' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ReportInputError);
    const e = caught as ReportInputError;
    expect(e.code).toBe('ERR_REPORT_INPUT');
    expect(e.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['models.0.name', 'metric', 'models.1.predictions.probabilities']));
    // instanceof holds for an error from another copy of the package: the brand is what counts.
    const foreign = Object.assign(new Error('x'), { [Symbol.for('@mlops-ts/report/ReportInputError')]: true, [Symbol.for('@mlops-ts/report/ReportError')]: true });
    expect(foreign).toBeInstanceOf(ReportInputError);
    expect(foreign).toBeInstanceOf(ReportError);
    expect(new Error('y')).not.toBeInstanceOf(ReportError);
  });
  it('refuses a model listed twice and predictions of the wrong width', () => {
    expect(() => analyzeReport({ models: [{ name: 'a' }, { name: 'a' }] })).toThrow(/listed twice/);
    expect(() => analyzeReport({ models: [{ name: 'majority_class' }] })).toThrow(/the name of the baseline/);
    expect(() => analyzeReport({ classes: ['a', 'b', 'c'], models: [{ name: 'a', predictions: { labels: [0], probabilities: [[0.4, 0.6]] } }] })).toThrow(/2 probability columns, but there are 3 classes/);
  });
});
