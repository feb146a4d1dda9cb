import { marked, type Tokens } from 'marked';
import { computeMetrics, renderReport, seededRandom, type ReportInput } from '../src/index.js';

/** A penguins-like 3-class task (the design's second dataset): nothing in the report may assume binary. */
function penguins(): ReportInput {
  const classes = ['Adelie', 'Chinstrap', 'Gentoo'];
  const rand = seededRandom(21);
  const labels = Array.from({ length: 240 }, () => (rand() < 0.45 ? 0 : rand() < 0.4 ? 1 : 2));
  const model = (sharp: number) =>
    labels.map((y) => {
      const raw = classes.map((_, c) => Math.exp((c === y ? sharp : 0) + rand() * 4));
      const s = raw.reduce((a, b) => a + b, 0);
      return raw.map((v) => v / s);
    });
  return {
    title: 'Penguins: species',
    classes,
    metric: 'f1',
    bootstrap: { resamples: 200 },
    baseline: { prior: [0.44, 0.2, 0.36] },
    models: [
      { name: 'logreg', predictions: { labels, probabilities: model(1) }, history: [1, 2, 3, 4].map((e) => ({ epoch: e, loss: 1 / e, valLoss: 1.1 / e })) },
      { name: 'mlp', predictions: { labels, probabilities: model(2.5) } },
    ],
  };
}

it('renders a multiclass report: macro metrics, one ROC/PR curve per class, 3×3 confusion, no threshold trade-off', async () => {
  const input = penguins();
  const r = await renderReport(input, { png: { scale: 1 } });
  const a = r.analysis;
  expect(a.task).toBe('multiclass');
  expect(a.ranking[0]!.model).toBe('mlp');
  const m = input.models[1]!;
  const direct = computeMetrics({ labels: m.predictions!.labels, proba: Float64Array.from(m.predictions!.probabilities.flat()), k: 3 });
  expect(a.ranking[0]!.value).toBe(direct.f1);
  const roc = r.charts.find((c) => c.id === 'roc')!;
  expect(roc.series).toEqual(['logreg · Adelie', 'logreg · Chinstrap', 'logreg · Gentoo', 'mlp · Adelie', 'mlp · Chinstrap', 'mlp · Gentoo']);
  for (const s of roc.series) expect(roc.svg).toContain(`>${s}<`);
  const cm = a.models[0]!.confusion;
  expect(cm.available && cm.value.matrix.length).toBe(3);
  expect(a.conclusions.some((c) => c.kind === 'threshold')).toBe(false);
  expect(a.models[0]!.threshold.available ? '' : a.models[0]!.threshold.reason).toMatch(/multiclass/);
  expect(a.conclusions.find((c) => c.id === 'best')!.text).toMatch(/^mlp has the best F1: /);
  const tables = marked.lexer(r.markdown).filter((t): t is Tokens.Table => t.type === 'table');
  for (const t of tables) for (const row of t.rows) expect(row).toHaveLength(t.header.length);
});
