/**
 * Plotly figures shaped like the ones the official SDK sends (clearml/utilities/plotly_reporter.py), so that they
 * draw the same way in the web UI's Plots tab: `report_line_plot` / `report_scatter2d` (scatter traces with
 * spike lines on both axes) and `report_confusion_matrix` (one heatmap trace, values printed in the cells).
 */
import type { PlotlyFigure } from './types.js';

const axis = (title: string | undefined): Record<string, unknown> => ({
  title: title ?? null,
  showspikes: true,
  spikethickness: 1,
  spikesnap: 'cursor',
  spikemode: 'toaxis+across',
});

export interface LineSeries {
  name: string;
  x: readonly number[];
  y: readonly number[];
}

/** Scatter/line traces in the SDK's `report_line_plot` layout. */
export function lineFigure(opts: { title: string; series: readonly LineSeries[]; xaxis?: string; yaxis?: string; mode?: 'lines' | 'markers' | 'lines+markers' }): PlotlyFigure {
  for (const s of opts.series) {
    if (s.x.length !== s.y.length) throw new RangeError(`series "${s.name}": ${s.x.length} x values but ${s.y.length} y values`);
  }
  return {
    data: opts.series.map((s) => ({ name: s.name, x: [...s.x], y: [...s.y], mode: opts.mode ?? 'lines', text: null, type: 'scatter' })),
    layout: { title: opts.title, xaxis: axis(opts.xaxis), yaxis: axis(opts.yaxis), name: null },
  };
}

/**
 * A learning curve: one line per series over epochs, e.g. `{ train: [0.9, 0.6, 0.5], val: [1.0, 0.7, 0.65] }`
 * (epoch i is x = i + `firstEpoch`, default 1).
 */
export function learningCurveFigure(opts: { title?: string; series: Record<string, readonly number[]>; yaxis?: string; firstEpoch?: number }): PlotlyFigure {
  const first = opts.firstEpoch ?? 1;
  return lineFigure({
    title: opts.title ?? 'learning curve',
    xaxis: 'epoch',
    yaxis: opts.yaxis ?? 'value',
    mode: 'lines+markers',
    series: Object.entries(opts.series).map(([name, y]) => ({ name, x: y.map((_, i) => i + first), y })),
  });
}

/** An ROC curve (false positive rate → true positive rate) with the chance diagonal; `auc` goes into the legend. */
export function rocFigure(opts: { title?: string; fpr: readonly number[]; tpr: readonly number[]; auc?: number; name?: string }): PlotlyFigure {
  const name = opts.name ?? 'ROC';
  const fig = lineFigure({
    title: opts.title ?? 'ROC curve',
    xaxis: 'false positive rate',
    yaxis: 'true positive rate',
    series: [
      { name: opts.auc === undefined ? name : `${name} (AUC ${opts.auc.toFixed(4)})`, x: opts.fpr, y: opts.tpr },
      { name: 'chance', x: [0, 1], y: [0, 1] },
    ],
  });
  (fig.data[1] as Record<string, unknown>)['line'] = { dash: 'dash' };
  return fig;
}

/**
 * A confusion matrix as the SDK's `report_confusion_matrix` draws it: `matrix[row][col]` with rows = actual
 * (`ylabels`) and columns = predicted (`xlabels`); (0, 0) bottom left unless `yaxisReversed`.
 */
export function confusionFigure(opts: { title?: string; matrix: readonly (readonly number[])[]; labels?: readonly string[]; xlabels?: readonly string[]; ylabels?: readonly string[]; xaxis?: string; yaxis?: string; yaxisReversed?: boolean }): PlotlyFigure {
  const rows = opts.matrix.length;
  const cols = opts.matrix[0]?.length ?? 0;
  if (opts.matrix.some((r) => r.length !== cols)) throw new RangeError('confusion matrix rows have different lengths');
  const xlabels = opts.xlabels ?? opts.labels;
  const ylabels = opts.ylabels ?? opts.labels;
  if (xlabels && xlabels.length !== cols) throw new RangeError(`${xlabels.length} x labels for ${cols} columns`);
  if (ylabels && ylabels.length !== rows) throw new RangeError(`${ylabels.length} y labels for ${rows} rows`);
  const yaxis: Record<string, unknown> = { title: opts.yaxis ?? 'actual' };
  if (opts.yaxisReversed) yaxis['autorange'] = 'reversed';
  return {
    data: [{ x: xlabels ? [...xlabels] : null, y: ylabels ? [...ylabels] : null, z: opts.matrix.map((r) => [...r]), type: 'heatmap', texttemplate: '%{z}' }],
    layout: { showlegend: true, title: opts.title ?? 'confusion matrix', xaxis: { title: opts.xaxis ?? 'predicted' }, yaxis, texttemplate: '%{z}' },
  };
}

/** A table (the SDK's `report_table`): the first row is the header. */
export function tableFigure(opts: { title?: string; rows: readonly (readonly (string | number)[])[] }): PlotlyFigure {
  const [header = [], ...body] = opts.rows;
  const columns = header.map((_, c) => body.map((r) => r[c] ?? ''));
  return {
    data: [{ type: 'table', header: { values: [...header], align: 'left' }, cells: { values: columns, align: 'left', height: 30 } }],
    layout: { title: opts.title ?? 'table' },
  };
}
