/**
 * Charts as Vega-Lite specs (data inline), compiled with `vega-lite` and rendered to SVG in Node by `vega` (no
 * browser, no canvas: text is measured by Vega's estimate, so the fonts below only need to exist where the SVG is
 * shown or rasterised); PNG through `@resvg/resvg-js` with the system fonts.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Analysis } from './analyze.js';
import { ReportRenderError } from './errors.js';
import { METRIC_LABELS, type MetricName } from './stats.js';

/** A font stack every Debian/Ubuntu image (fonts-dejavu) and every desktop has; no web fonts. */
export const CHART_FONT = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';

/** A chart of the report: its Vega-Lite spec and what a reader (or a test) should find in it. */
export interface ChartSpec {
  id: string;
  title: string;
  spec: TopLevelSpec;
  /** Series names shown in the legend or on an axis (models, splits). */
  series: string[];
  /** Axis titles. */
  axes: string[];
  /** Where the numbers come from. */
  source: string;
}

export interface RenderedChart extends ChartSpec {
  svg: string;
}

const PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];
const BASELINE_COLOR = '#7f7f7f';

const config = {
  font: CHART_FONT,
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
};

const W = 340;
const H = 230;

function modelScale(a: Analysis): { domain: string[]; range: string[] } {
  const domain = a.models.map((m) => m.name);
  return { domain, range: domain.map((_, i) => PALETTE[i % PALETTE.length]!) };
}

/** Learning curves of one model: loss and accuracy per epoch, train vs valid, the best epoch marked. */
function learningCurves(a: Analysis, name: string): ChartSpec | undefined {
  const m = a.models.find((x) => x.name === name)!;
  if (!m.history.available) return undefined;
  const history = m.history.value;
  const rows: { epoch: number; split: string; measure: string; value: number }[] = [];
  for (const e of m.history.value) {
    rows.push({ epoch: e.epoch, split: 'train', measure: 'loss', value: e.loss });
    if (e.valLoss !== undefined) rows.push({ epoch: e.epoch, split: 'valid', measure: 'loss', value: e.valLoss });
    if (e.accuracy !== undefined) rows.push({ epoch: e.epoch, split: 'train', measure: 'accuracy', value: e.accuracy });
    if (e.valAccuracy !== undefined) rows.push({ epoch: e.epoch, split: 'valid', measure: 'accuracy', value: e.valAccuracy });
  }
  const withValid = m.history.value.filter((e) => e.valLoss !== undefined);
  const best = withValid.length ? withValid.reduce((b, e) => (e.valLoss! < b.valLoss! ? e : b)).epoch : undefined;
  const measures = ['loss', 'accuracy'].filter((x) => rows.some((r) => r.measure === x));
  const splits = [...new Set(rows.map((r) => r.split))];
  const panel = (measure: string) => ({
    width: W - 60,
    height: H - 30,
    title: `${name}: ${measure}`,
    layer: [
      {
        data: { values: rows.filter((r) => r.measure === measure) },
        mark: { type: 'line' as const, point: history.length <= 30 },
        encoding: {
          x: { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1 } },
          y: { field: 'value', type: 'quantitative' as const, title: measure, scale: { zero: false } },
          color: { field: 'split', type: 'nominal' as const, title: 'split', scale: { domain: ['train', 'valid'], range: ['#4c78a8', '#f58518'] } },
          strokeDash: { field: 'split', type: 'nominal' as const, title: 'split', scale: { domain: ['train', 'valid'], range: [[1, 0], [5, 3]] } },
        },
      },
      ...(best !== undefined
        ? [{ data: { values: [{ epoch: best, label: `best epoch ${best}` }] }, mark: { type: 'rule' as const, color: '#999', strokeDash: [2, 2] }, encoding: { x: { field: 'epoch', type: 'quantitative' as const } } }]
        : []),
    ],
  });
  return {
    id: `learning-${name}`,
    title: `Learning curves: ${name}`,
    spec: { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config, hconcat: measures.map(panel) } as TopLevelSpec,
    series: splits,
    axes: ['epoch', ...measures],
    source: m.history.source,
  };
}

/** One bar per model and metric, error bars from the bootstrap, the baseline as a rule. */
function metricBars(a: Analysis): ChartSpec | undefined {
  const metrics: MetricName[] = [...new Set<MetricName>([a.metric, 'roc_auc', 'accuracy', 'f1', 'log_loss'])];
  const rows: { model: string; metric: string; value: number; lo?: number; hi?: number }[] = [];
  for (const m of a.models) {
    if (!m.metrics.available) continue;
    for (const k of metrics) {
      const v = m.metrics.value[k];
      if (v === undefined || !Number.isFinite(v)) continue;
      const iv = a.bootstrap.available ? a.bootstrap.value.models[m.name]?.[k] : undefined;
      rows.push({ model: m.name, metric: METRIC_LABELS[k], value: v, ...(iv ? { lo: iv.lo, hi: iv.hi } : {}) });
    }
  }
  if (rows.length === 0) return undefined;
  const baseRows = a.baseline.available
    ? metrics.flatMap((k) => {
        const v = a.baseline.available ? a.baseline.value.metrics[k] : undefined;
        return v !== undefined && Number.isFinite(v) ? [{ metric: METRIC_LABELS[k], value: v, name: a.baseline.available ? a.baseline.value.name : '' }] : [];
      })
    : [];
  const scale = modelScale(a);
  const panel = (metricLabel: string) => ({
    width: 150,
    height: H - 40,
    title: metricLabel,
    layer: [
      {
        data: { values: rows.filter((r) => r.metric === metricLabel) },
        mark: { type: 'bar' as const },
        encoding: {
          x: { field: 'model', type: 'nominal' as const, title: 'model', sort: scale.domain, axis: { labelAngle: -30 } },
          y: { field: 'value', type: 'quantitative' as const, title: metricLabel, scale: { zero: metricLabel !== 'ROC AUC' } },
          color: { field: 'model', type: 'nominal' as const, title: 'model', scale, legend: null },
        },
      },
      {
        data: { values: rows.filter((r) => r.metric === metricLabel && r.lo !== undefined) },
        mark: { type: 'errorbar' as const, ticks: true, color: '#222' },
        encoding: {
          x: { field: 'model', type: 'nominal' as const, sort: scale.domain },
          y: { field: 'lo', type: 'quantitative' as const, title: metricLabel },
          y2: { field: 'hi' },
        },
      },
      ...(baseRows.some((b) => b.metric === metricLabel)
        ? [
            {
              data: { values: baseRows.filter((b) => b.metric === metricLabel) },
              mark: { type: 'rule' as const, color: BASELINE_COLOR, strokeDash: [4, 3], strokeWidth: 2 },
              encoding: { y: { field: 'value', type: 'quantitative' as const } },
            },
          ]
        : []),
    ],
  });
  const labels = metrics.map((k) => METRIC_LABELS[k]).filter((l) => rows.some((r) => r.metric === l));
  return {
    id: 'metric-bars',
    title: a.bootstrap.available ? 'Test metrics with bootstrap intervals' : 'Test metrics',
    spec: { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config, hconcat: labels.map(panel) } as TopLevelSpec,
    series: a.models.filter((m) => m.metrics.available).map((m) => m.name),
    axes: ['model', ...labels],
    source: `${a.models.map((m) => (m.metrics.available ? m.metrics.source : '')).filter(Boolean).join('; ')}${a.bootstrap.available ? `; error bars: ${a.bootstrap.source}` : ''}${a.baseline.available ? `; dashed rule: the ${a.baseline.value.name} baseline (${a.baseline.source})` : ''}`,
  };
}

function curvesChart(a: Analysis, kind: 'roc' | 'pr'): ChartSpec | undefined {
  const rows: { model: string; cls: string; series: string; x: number; y: number; order: number }[] = [];
  const multi = a.task === 'multiclass';
  const sources: string[] = [];
  for (const m of a.models) {
    const part = m[kind];
    if (!part.available) continue;
    sources.push(`${m.name}: ${part.source}`);
    for (const c of part.value.curves) {
      const series = multi ? `${m.name} · ${c.cls}` : m.name;
      c.points.forEach((p, i) => rows.push({ model: m.name, cls: c.cls, series, x: p.x, y: p.y, order: i }));
    }
  }
  if (rows.length === 0) return undefined;
  const isRoc = kind === 'roc';
  const xTitle = isRoc ? 'false positive rate' : 'recall';
  const yTitle = isRoc ? 'true positive rate' : 'precision';
  const scale = modelScale(a);
  const series = [...new Set(rows.map((r) => r.series))];
  const prevalence = !isRoc && a.baseline.available && a.task === 'binary' ? positiveShare(a) : undefined;
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config,
    width: W,
    height: H + 40,
    layer: [
      ...(isRoc
        ? [{ data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: { type: 'line' as const, color: BASELINE_COLOR, strokeDash: [4, 3] }, encoding: { x: { field: 'x', type: 'quantitative' as const }, y: { field: 'y', type: 'quantitative' as const } } }]
        : prevalence !== undefined
          ? [{ data: { values: [{ y: prevalence }] }, mark: { type: 'rule' as const, color: BASELINE_COLOR, strokeDash: [4, 3] }, encoding: { y: { field: 'y', type: 'quantitative' as const } } }]
          : []),
      {
        data: { values: rows },
        mark: { type: 'line' as const, strokeWidth: 2, interpolate: isRoc ? ('linear' as const) : ('step-before' as const) },
        encoding: {
          x: { field: 'x', type: 'quantitative' as const, title: xTitle, scale: { domain: [0, 1] } },
          y: { field: 'y', type: 'quantitative' as const, title: yTitle, scale: { domain: [0, 1] } },
          color: multi ? { field: 'series', type: 'nominal' as const, title: 'model · class' } : { field: 'model', type: 'nominal' as const, title: 'model', scale },
          detail: { field: 'series', type: 'nominal' as const },
          order: { field: 'order', type: 'quantitative' as const },
        },
      },
    ],
  };
  return {
    id: kind,
    title: isRoc ? 'ROC curves' : 'Precision-recall curves',
    spec: spec as TopLevelSpec,
    series,
    axes: [xTitle, yTitle],
    source: `${sources.join('; ')}${isRoc ? '; dashed: chance' : prevalence !== undefined ? `; dashed: the share of ${a.positiveClass} rows (a random ranking's precision)` : ''}`,
  };
}

function positiveShare(a: Analysis): number | undefined {
  if (!a.baseline.available) return undefined;
  for (const m of a.models) {
    if (m.confusion.available && m.confusion.value.labels.length === 2) {
      const [neg, pos] = m.confusion.value.matrix.map((r) => r.reduce((s, v) => s + v, 0));
      return pos! / (neg! + pos!);
    }
  }
  return undefined;
}

/** Confusion matrices of every model side by side: counts in the cells, colour by share of the true class. */
function confusionChart(a: Analysis): ChartSpec | undefined {
  const rows: { model: string; actual: string; predicted: string; count: number; share: number }[] = [];
  const sources: string[] = [];
  for (const m of a.models) {
    if (!m.confusion.available) continue;
    sources.push(`${m.name}: ${m.confusion.source}`);
    const { labels, matrix } = m.confusion.value;
    matrix.forEach((row, t) => {
      const total = row.reduce((s, v) => s + v, 0);
      row.forEach((count, p) => rows.push({ model: m.name, actual: labels[t]!, predicted: labels[p]!, count, share: total ? count / total : 0 }));
    });
  }
  if (rows.length === 0) return undefined;
  const models = [...new Set(rows.map((r) => r.model))];
  const n = new Set(rows.map((r) => r.actual)).size;
  const cell = Math.max(40, Math.min(70, 200 / n));
  const panel = (model: string) => ({
    title: model,
    width: cell * n,
    height: cell * n,
    data: { values: rows.filter((r) => r.model === model) },
    encoding: {
      x: { field: 'predicted', type: 'nominal' as const, title: 'predicted', sort: a.classes, axis: { grid: false, labelAngle: 0 } },
      y: { field: 'actual', type: 'nominal' as const, title: 'actual', sort: a.classes, axis: { grid: false } },
    },
    layer: [
      { mark: { type: 'rect' as const }, encoding: { color: { field: 'share', type: 'quantitative' as const, title: 'share of actual', scale: { domain: [0, 1], scheme: 'blues' } } } },
      {
        mark: { type: 'text' as const, fontSize: 12 },
        encoding: {
          text: { field: 'count', type: 'quantitative' as const, format: ',d' },
          color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: 'black' },
        },
      },
    ],
  });
  return {
    id: 'confusion',
    title: 'Confusion matrices',
    spec: { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config, hconcat: models.map(panel), resolve: { scale: { color: 'shared' } } } as TopLevelSpec,
    series: models,
    axes: ['predicted', 'actual'],
    source: sources.join('; '),
  };
}

/** Training time, throughput and model size as bars. */
function costChart(a: Analysis): ChartSpec | undefined {
  const measures = [
    { key: 'trainSeconds', title: 'training time (s)' },
    { key: 'rowsPerSecond', title: 'rows/s' },
    { key: 'modelBytes', title: 'model size (KB)' },
  ] as const;
  const rows: { model: string; measure: string; value: number }[] = [];
  const sources: string[] = [];
  for (const m of a.models) {
    if (!m.cost.available) continue;
    sources.push(`${m.name}: ${m.cost.source}`);
    for (const x of measures) {
      const v = m.cost.value[x.key];
      if (v !== undefined) rows.push({ model: m.name, measure: x.title, value: x.key === 'modelBytes' ? v / 1024 : v });
    }
  }
  if (rows.length === 0) return undefined;
  const scale = modelScale(a);
  const present = measures.filter((x) => rows.some((r) => r.measure === x.title));
  return {
    id: 'cost',
    title: 'Cost',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config,
      hconcat: present.map((x) => ({
        width: 150,
        height: H - 60,
        title: x.title,
        data: { values: rows.filter((r) => r.measure === x.title) },
        mark: { type: 'bar' as const },
        encoding: {
          x: { field: 'model', type: 'nominal' as const, title: 'model', sort: scale.domain, axis: { labelAngle: -30 } },
          y: { field: 'value', type: 'quantitative' as const, title: x.title },
          color: { field: 'model', type: 'nominal' as const, scale, legend: null },
        },
      })),
    } as TopLevelSpec,
    series: [...new Set(rows.map((r) => r.model))],
    axes: ['model', ...present.map((x) => x.title)],
    source: sources.join('; '),
  };
}

/** Every chart the analysed data supports, in report order (learning curves per model first). */
export function buildCharts(a: Analysis): ChartSpec[] {
  const charts = [
    ...a.models.map((m) => learningCurves(a, m.name)),
    metricBars(a),
    curvesChart(a, 'roc'),
    curvesChart(a, 'pr'),
    confusionChart(a),
    costChart(a),
  ];
  return charts.filter((c): c is ChartSpec => c !== undefined);
}

/** A loader that refuses every URL and notes what was asked: a report's charts carry their data inline and never fetch. */
function offlineLoader(asked: string[]): vega.Loader {
  const refuse = async (uri: unknown): Promise<never> => {
    asked.push(String(uri));
    throw new Error(`charts must not load anything (asked for ${String(uri)})`);
  };
  return { load: refuse, sanitize: refuse, http: refuse, file: refuse } as unknown as vega.Loader;
}

/**
 * Compiles a Vega-Lite spec and renders it to an SVG string in Node (headless Vega view, no canvas). Vega reports
 * some failures (a data load, an expression error) to its logger instead of throwing; those, and any attempt to
 * load a URL, are thrown, so a chart never comes out silently empty.
 */
export async function renderSvg(chart: Pick<ChartSpec, 'id' | 'spec'>): Promise<string> {
  let view: vega.View | undefined;
  const errors: string[] = [];
  const asked: string[] = [];
  try {
    const compiled = compile(chart.spec).spec;
    view = new vega.View(vega.parse(compiled), { renderer: 'none', loader: offlineLoader(asked), logger: collectingLogger(errors) });
    const svg = await view.toSVG();
    if (asked.length) errors.push(`charts must not load anything (asked for ${asked.join(', ')})`);
    if (errors.length) throw new Error(errors.join('; '));
    return svg;
  } catch (error) {
    throw new ReportRenderError(chart.id, error instanceof Error ? error.message : String(error), { cause: error });
  } finally {
    view?.finalize();
  }
}

/** A Vega logger that keeps errors (and drops warnings and info: they would go to the console). */
function collectingLogger(errors: string[]): vega.LoggerInterface {
  let level = 0;
  const text = (args: unknown[]): string => args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: unknown[]) {
      errors.push(text(args));
      return logger;
    },
    warn: () => logger,
    info: () => logger,
    debug: () => logger,
  };
  return logger as unknown as vega.LoggerInterface;
}

/** Renders every chart to SVG. */
export async function renderCharts(charts: readonly ChartSpec[]): Promise<RenderedChart[]> {
  const out: RenderedChart[] = [];
  for (const c of charts) out.push({ ...c, svg: await renderSvg(c) });
  return out;
}

export interface PngOptions {
  /** Scale factor (default 2, for sharp images on high-density screens). */
  scale?: number;
  /** Extra font files (TTF/OTF paths) besides the system fonts. */
  fontFiles?: string[];
}

/** Rasterises an SVG with resvg (system fonts, {@link CHART_FONT} first). */
export function svgToPng(svg: string, options: PngOptions = {}, chartId = 'svg'): Buffer {
  try {
    const r = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: options.scale ?? 2 },
      background: 'white',
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans', ...(options.fontFiles ? { fontFiles: options.fontFiles } : {}) },
    });
    return Buffer.from(r.render().asPng());
  } catch (error) {
    throw new ReportRenderError(chartId, `PNG: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
