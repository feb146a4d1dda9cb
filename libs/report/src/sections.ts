/**
 * The report's content as neutral blocks (paragraphs, tables, charts, conclusions), built once from the analysis;
 * the HTML and Markdown renderers only lay them out, so both say the same thing with the same numbers.
 */
import type { Analysis, ModelAnalysis } from './analyze.js';
import type { ChartSpec } from './charts.js';
import type { Conclusion } from './conclusions.js';
import { bytes, ci, duration, fmt, int, pct, signed } from './format.js';
import { METRIC_LABELS, type MetricName } from './stats.js';

export type Cell = string | { text: string; href?: string; strong?: boolean };
export type Block =
  | { kind: 'p'; text: string }
  | { kind: 'table'; id: string; head: string[]; rows: Cell[][]; /** Rows to highlight (e.g. params that differ). */ highlight?: boolean[]; numeric?: boolean[] }
  | { kind: 'chart'; chart: ChartSpec }
  | { kind: 'conclusions'; items: Conclusion[] };

export interface Section {
  id: string;
  title: string;
  /** Where the section's numbers come from. */
  source?: string;
  /** Set when the section's data is missing: the reason, shown in its place. */
  unavailable?: string;
  blocks: Block[];
}

const TABLE_METRICS: MetricName[] = ['roc_auc', 'accuracy', 'precision', 'recall', 'f1', 'log_loss'];

function unavailable(id: string, title: string, reason: string): Section {
  return { id, title, unavailable: reason, blocks: [] };
}

/** Builds the sections in report order. */
export function buildSections(a: Analysis, charts: readonly ChartSpec[]): Section[] {
  const chart = (id: string) => charts.find((c) => c.id === id);
  const sections: Section[] = [];
  const level = a.bootstrap.available ? `${Math.round(a.bootstrap.value.confidence * 100)}% CI` : 'CI';

  sections.push({
    id: 'conclusions',
    title: 'Conclusions',
    source: 'computed from the numbers in the sections below; each sentence names its numbers',
    blocks: [{ kind: 'conclusions', items: a.conclusions }],
  });

  sections.push(datasetSection(a));
  sections.push(paramsSection(a));

  const learning = a.models.map((m) => chart(`learning-${m.name}`)).filter((c): c is ChartSpec => c !== undefined);
  const noHistory = a.models.filter((m) => !m.history.available).map((m) => m.name);
  sections.push(
    learning.length === 0
      ? unavailable('learning-curves', 'Learning curves', `no training history for any model (${noHistory.join(', ')})`)
      : {
          id: 'learning-curves',
          title: 'Learning curves',
          source: learning.map((c) => c.source).join(', '),
          blocks: [
            ...learning.map((c): Block => ({ kind: 'chart', chart: c })),
            ...(noHistory.length ? [{ kind: 'p', text: `No history for ${noHistory.join(', ')}.` } as Block] : []),
          ],
        },
  );

  const bars = chart('metric-bars');
  sections.push(
    !bars
      ? unavailable('metrics', 'Test metrics', 'no model has eval metrics or test predictions')
      : {
          id: 'metrics',
          title: 'Test metrics',
          source: bars.source,
          blocks: [
            { kind: 'chart', chart: bars },
            ...(a.bootstrap.available ? [] : [{ kind: 'p', text: `No intervals: ${a.bootstrap.reason}.` } as Block]),
            metricsTable(a),
          ],
        },
  );

  sections.push(rankingSection(a, level));
  sections.push(differencesSection(a, level));

  for (const [id, title, what] of [
    ['roc', 'ROC curves', 'ROC points'],
    ['pr', 'Precision-recall curves', 'precision-recall points'],
  ] as const) {
    const c = chart(id);
    const area = id === 'roc' ? 'AUC' : 'average precision';
    sections.push(
      !c
        ? unavailable(id, title, `no test predictions and no ${what} for any model`)
        : {
            id,
            title,
            source: c.source,
            blocks: [
              { kind: 'chart', chart: c },
              {
                kind: 'table',
                id: `${id}-areas`,
                head: ['model', 'class', area],
                rows: a.models.flatMap((m) => (m[id].available ? m[id].value.curves.map((cv) => [m.name, cv.cls, fmt(cv.area)]) : [[m.name, '—', 'unavailable']])),
                numeric: [false, false, true],
              },
            ],
          },
    );
  }

  const conf = chart('confusion');
  const thresholdRows = a.models.filter((m) => m.threshold.available);
  sections.push(
    !conf
      ? unavailable('confusion', 'Confusion matrices', 'no test predictions and no confusion matrix for any model')
      : {
          id: 'confusion',
          title: 'Confusion matrices',
          source: conf.source,
          blocks: [
            { kind: 'chart', chart: conf },
            ...(thresholdRows.length
              ? [
                  {
                    kind: 'table',
                    id: 'threshold',
                    head: ['model', 'threshold', 'flagged', 'precision', 'recall', 'F1', 'F1-best threshold (test)', 'its F1'],
                    rows: thresholdRows.map((m) => {
                      const t = (m.threshold as Extract<ModelAnalysis['threshold'], { available: true }>).value;
                      return [m.name, String(t.chosen.threshold), pct(t.chosen.flagged), fmt(t.chosen.precision), fmt(t.chosen.recall), fmt(t.chosen.f1), fmt(t.bestF1.threshold, 3), fmt(t.bestF1.f1)];
                    }),
                    numeric: [false, true, true, true, true, true, true, true],
                  } as Block,
                ]
              : []),
          ],
        },
  );

  const cost = chart('cost');
  sections.push(
    !cost
      ? unavailable('cost', 'Cost', 'no training time, throughput or model size for any model (run records or model folders not given)')
      : {
          id: 'cost',
          title: 'Cost',
          source: cost.source,
          blocks: [
            { kind: 'chart', chart: cost },
            {
              kind: 'table',
              id: 'cost-table',
              head: ['model', 'training time', 'rows/s', 'model size', 'epochs'],
              rows: a.models.map((m) =>
                m.cost.available
                  ? [m.name, m.cost.value.trainSeconds !== undefined ? duration(m.cost.value.trainSeconds) : '—', m.cost.value.rowsPerSecond !== undefined ? int(m.cost.value.rowsPerSecond) : '—', m.cost.value.modelBytes !== undefined ? bytes(m.cost.value.modelBytes) : '—', m.cost.value.epochs !== undefined ? String(m.cost.value.epochs) : '—']
                  : [m.name, '—', '—', '—', '—'],
              ),
              numeric: [false, true, true, true, true],
            },
          ],
        },
  );

  sections.push(trackersSection(a));
  sections.push(metricsDiffSection(a));
  sections.push(expShowSection(a));
  return sections;
}

function datasetSection(a: Analysis): Section {
  const d = a.input.dataset;
  if (!d) return unavailable('dataset', 'Dataset', 'no dataset facts given (DVC md5, rows, data quality)');
  const rows: Cell[][] = [];
  if (d.name) rows.push(['dataset', d.name]);
  if (d.path) rows.push(['path', d.path]);
  rows.push(['DVC md5', d.md5 ?? 'unavailable']);
  for (const [split, n] of Object.entries(d.splits ?? {})) rows.push([`${split} rows`, int(n)]);
  const q = d.quality;
  if (q?.rows) for (const [k, v] of Object.entries(q.rows)) if (typeof v === 'number') rows.push([`rows ${k}`, int(v)]);
  if (q?.dropped) for (const [k, v] of Object.entries(q.dropped)) rows.push([`dropped: ${k.replaceAll('_', ' ')}`, int(v)]);
  if (q?.clipped) for (const [k, v] of Object.entries(q.clipped)) rows.push([`clipped: ${k}`, int(v)]);
  if (q?.nulls_in) {
    const nulls = Object.entries(q.nulls_in);
    rows.push(['nulls in raw data', nulls.every(([, v]) => v === 0) ? `none (${nulls.length} columns checked)` : nulls.filter(([, v]) => v > 0).map(([k, v]) => `${k} ${int(v)}`).join(', ')]);
  }
  if (q?.class_counts) for (const [k, v] of Object.entries(q.class_counts)) rows.push([`class ${k}`, `${int(v)}${q.class_balance?.[k] !== undefined ? ` (${pct(q.class_balance[k])})` : ''}`]);
  const sources = [d.sources?.md5 ?? (d.md5 ? 'the DVC pointer of the data' : undefined), d.sources?.quality ?? (q ? 'metrics/data_quality.json' : undefined), d.sources?.splits].filter(Boolean);
  return {
    id: 'dataset',
    title: 'Dataset',
    source: sources.join('; ') || 'the dataset facts given',
    blocks: [{ kind: 'table', id: 'dataset-table', head: ['fact', 'value'], rows }, ...(q ? [] : [{ kind: 'p', text: 'Data-quality metrics unavailable.' } as Block])],
  };
}

function paramsSection(a: Analysis): Section {
  if (a.params.length === 0) return unavailable('params', 'Params', 'no params given for any model');
  const sorted = [...a.params].sort((x, y) => Number(y.differs) - Number(x.differs) || x.key.localeCompare(y.key));
  const differing = sorted.filter((p) => p.differs).length;
  const sources = [...new Set(a.input.models.map((m) => m.sources?.params).filter(Boolean))];
  return {
    id: 'params',
    title: 'Params',
    source: sources.join(', ') || 'the params given per model',
    blocks: [
      { kind: 'p', text: `${differing} of ${sorted.length} params differ across the models (highlighted, listed first).` },
      { kind: 'table', id: 'params-table', head: ['param', ...a.models.map((m) => m.name)], rows: sorted.map((p) => [p.key, ...a.models.map((m) => ({ text: p.values[m.name]!, strong: p.differs }))]), highlight: sorted.map((p) => p.differs) },
    ],
  };
}

function metricsTable(a: Analysis): Block {
  const boot = a.bootstrap.available ? a.bootstrap.value : undefined;
  const cell = (name: string, values: Partial<Record<MetricName, number>>, k: MetricName): string => {
    const v = values[k];
    const iv = boot?.models[name]?.[k];
    return iv ? `${fmt(v)} ${ci(iv.lo, iv.hi)}` : fmt(v);
  };
  const rows: Cell[][] = a.models.map((m) => [m.name, ...(m.metrics.available ? TABLE_METRICS.map((k) => cell(m.name, m.metrics.available ? m.metrics.value : {}, k)) : TABLE_METRICS.map(() => 'unavailable'))]);
  if (a.baseline.available) rows.push([`${a.baseline.value.name} (baseline)`, ...TABLE_METRICS.map((k) => cell(a.baseline.available ? a.baseline.value.name : '', a.baseline.available ? a.baseline.value.metrics : {}, k))]);
  return { kind: 'table', id: 'metrics-table', head: ['model', ...TABLE_METRICS.map((k) => (boot ? `${METRIC_LABELS[k]} [${Math.round(boot.confidence * 100)}% CI]` : METRIC_LABELS[k]))], rows, numeric: [false, ...TABLE_METRICS.map(() => true)] };
}

function rankingSection(a: Analysis, level: string): Section {
  if (a.ranking.length === 0) return unavailable('ranking', 'Ranking', `no model has a value for ${METRIC_LABELS[a.metric]}`);
  const label = METRIC_LABELS[a.metric];
  const rows: Cell[][] = a.ranking.map((r) => {
    const m = a.models.find((x) => x.name === r.model)!;
    const vb = r.vsBaseline;
    return [
      String(r.rank),
      { text: r.model, strong: r.rank === 1 },
      fmt(r.value),
      r.interval ? ci(r.interval.lo, r.interval.hi) : '—',
      vb ? `${signed(vb.diff)}${vb.lo !== undefined ? ` ${ci(vb.lo, vb.hi, 4, true)}` : ''}` : '—',
      vb ? (vb.beats ? (vb.significant === undefined ? 'yes (no interval)' : vb.significant ? 'yes, significant' : 'yes, not significant') : 'no') : '—',
      ...linkCells(m),
    ];
  });
  if (a.baseline.available) {
    const bv = a.baseline.value.metrics[a.metric];
    const iv = a.bootstrap.available ? a.bootstrap.value.models[a.baseline.value.name]?.[a.metric] : undefined;
    rows.push(['—', `${a.baseline.value.name} (baseline)`, fmt(bv), iv ? ci(iv.lo, iv.hi) : '—', '—', '—', '—', '—']);
  }
  return {
    id: 'ranking',
    title: 'Ranking',
    source: `${a.models.map((m) => (m.metrics.available ? `${m.name}: ${m.metrics.source}` : '')).filter(Boolean).join('; ')}${a.bootstrap.available ? `; intervals: ${a.bootstrap.source}` : ''}; links: the run records of the models`,
    blocks: [
      { kind: 'p', text: `Ranked by test ${label} (${a.higherIsBetter ? 'higher' : 'lower'} is better).` },
      { kind: 'table', id: 'ranking-table', head: ['rank', 'model', label, level, `vs baseline [${level}]`, 'beats baseline', 'MLflow run', 'ClearML'], rows, numeric: [true, false, true, true, true, false, false, false] },
    ],
  };
}

function linkCells(m: ModelAnalysis): Cell[] {
  const l = m.links;
  return [
    l.mlflowRunUrl ? { text: 'run', href: l.mlflowRunUrl } : '—',
    l.clearmlTaskUrl ? { text: 'task', href: l.clearmlTaskUrl } : l.clearmlOfflineSession ? `offline: ${l.clearmlOfflineSession}` : '—',
  ];
}

function differencesSection(a: Analysis, level: string): Section {
  if (!a.bootstrap.available) return unavailable('differences', 'Are the differences real?', a.bootstrap.reason);
  const boot = a.bootstrap.value;
  const names = new Set(a.models.map((m) => m.name));
  const pairs = boot.pairs.filter((p) => names.has(p.a) && names.has(p.b));
  const metrics: MetricName[] = [...new Set<MetricName>([a.metric, ...boot.metrics.filter((m) => m !== 'precision' && m !== 'recall')])];
  return {
    id: 'differences',
    title: 'Are the differences real?',
    source: a.bootstrap.source,
    blocks: [
      { kind: 'p', text: `Each resample draws the ${boot.rows} test rows with replacement once and scores every model on the same rows; a difference is significant when its ${level} excludes 0.` },
      pairs.length === 0
        ? { kind: 'p', text: 'One model only: no pairs to compare.' }
        : {
            kind: 'table',
            id: 'differences-table',
            head: ['pair', 'metric', 'difference (a − b)', level, 'bootstrap p', 'significant'],
            rows: metrics.flatMap((k) => pairs.filter((p) => p.metric === k).map((p) => [`${p.a} − ${p.b}`, METRIC_LABELS[k], signed(p.estimate), ci(p.lo, p.hi, 4, true), fmt(p.pValue, 3), { text: p.significant ? 'yes' : 'no', strong: p.significant }])),
            numeric: [false, false, true, true, true, false],
          },
    ],
  };
}

function trackersSection(a: Analysis): Section {
  const t = a.input.trackers;
  if (!t || t.length === 0) return unavailable('trackers', 'Trackers', 'no tracker status given');
  return {
    id: 'trackers',
    title: 'Trackers',
    source: 'the trackers as the report stage found them (the numbers in this report come from DVC files, not from the trackers)',
    blocks: [
      ...t.filter((x) => x.status === 'unavailable').map((x): Block => ({ kind: 'p', text: `${x.name} was unavailable${x.detail ? ` (${x.detail})` : ''}: its links may not open, and nothing in this report depends on it.` })),
      { kind: 'table', id: 'trackers-table', head: ['tracker', 'status', 'where', 'detail'], rows: t.map((x) => [x.name, x.status, x.url ? { text: x.url, href: x.url } : '—', x.detail ?? '—']) },
    ],
  };
}

const show = (v: unknown): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : fmt(v)) : v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

function metricsDiffSection(a: Analysis): Section {
  const d = a.input.dvc?.metricsDiff;
  const title = '`dvc metrics diff`';
  if (!d) return unavailable('metrics-diff', title, 'not given (no previous commit, or dvc was not run)');
  if ('unavailable' in d) return unavailable('metrics-diff', title, d.unavailable);
  const rows: Cell[][] = [];
  for (const [file, keys] of Object.entries(d.diff)) for (const [key, e] of Object.entries(keys)) rows.push([file, key, show(e.old), show(e.new), typeof e.diff === 'number' ? signed(e.diff) : show(e.diff)]);
  return {
    id: 'metrics-diff',
    title,
    source: `dvc metrics diff ${d.against} (workspace against ${d.against})`,
    blocks: rows.length ? [{ kind: 'table', id: 'metrics-diff-table', head: ['file', 'metric', d.against, 'workspace', 'change'], rows, numeric: [false, false, true, true, true] }] : [{ kind: 'p', text: `No metric changed since ${d.against}.` }],
  };
}

function expShowSection(a: Analysis): Section {
  const e = a.input.dvc?.expShow;
  const title = '`dvc exp show`';
  if (!e) return unavailable('exp-show', title, 'not given (dvc was not run)');
  if ('unavailable' in e) return unavailable('exp-show', title, e.unavailable);
  if (e.rows.length === 0) return { id: 'exp-show', title, source: 'dvc exp show', blocks: [{ kind: 'p', text: 'No experiments in the workspace.' }] };
  const flat = e.rows.map((r) => {
    const cols: Record<string, string> = {};
    for (const [, kv] of Object.entries(r.params)) for (const [k, v] of Object.entries(kv)) cols[`param ${k}`] = show(v);
    for (const [file, kv] of Object.entries(r.metrics)) for (const [k, v] of Object.entries(kv)) cols[`${file.replace(/^metrics\//, '').replace(/\.json$/, '')}:${k}`] = show(v);
    return { r, cols };
  });
  // Only columns that vary across rows (or every metric column when there is one row): the table stays readable.
  const all = [...new Set(flat.flatMap((x) => Object.keys(x.cols)))];
  const varying = all.filter((c) => flat.length === 1 ? !c.startsWith('param ') : new Set(flat.map((x) => x.cols[c] ?? '—')).size > 1);
  const cols = (varying.length ? varying : all).slice(0, 12);
  return {
    id: 'exp-show',
    title,
    source: 'dvc exp show (workspace, baseline commits and their experiments)',
    blocks: [
      { kind: 'p', text: `${e.rows.length} rows; ${cols.length} of ${all.length} columns shown (those that differ between rows).` },
      { kind: 'table', id: 'exp-show-table', head: ['experiment', 'rev', 'state', ...cols], rows: flat.map((x) => [x.r.name ?? x.r.kind, x.r.rev.slice(0, 7), x.r.state ?? '—', ...cols.map((c) => x.cols[c] ?? '—')]) },
    ],
  };
}
