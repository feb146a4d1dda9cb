import { FigureSchema, type Figure } from './port.js';

/** A Plotly figure as JSON (what ClearML's plot events and Plotly.newPlot take). */
export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

/** Version of plotly.js the MLflow HTML artifacts load (from the official CDN, as `mlflow.log_figure` does). */
export const PLOTLY_JS_CDN = 'https://cdn.plot.ly/plotly-2.35.2.min.js';

/** The Plotly rendering of a tracker-neutral figure (validated first). */
export function plotlyFigure(input: Figure): PlotlyFigure {
  const f = FigureSchema.parse(input);
  switch (f.kind) {
    case 'learning_curves':
      return {
        data: f.series.map((s) => ({ type: 'scatter', mode: 'lines+markers', name: `${s.metric}/${s.variant}`, x: s.x, y: s.y })),
        layout: { title: { text: f.title ?? 'Learning curves' }, xaxis: { title: { text: f.xLabel } }, yaxis: { title: { text: 'value' } }, showlegend: true },
      };
    case 'roc':
      return {
        data: [
          ...f.curves.map((c) => ({ type: 'scatter', mode: 'lines', name: c.auc === undefined ? c.label : `${c.label} (AUC ${c.auc.toFixed(4)})`, x: c.fpr, y: c.tpr })),
          { type: 'scatter', mode: 'lines', name: 'chance', x: [0, 1], y: [0, 1], line: { dash: 'dash', color: 'gray' } },
        ],
        layout: {
          title: { text: f.title ?? 'ROC' },
          xaxis: { title: { text: 'false positive rate' }, range: [0, 1] },
          yaxis: { title: { text: 'true positive rate' }, range: [0, 1] },
          showlegend: true,
        },
      };
    case 'confusion_matrix':
      return {
        // Plotly draws row 0 at the bottom: reverse so the first actual class is the top row, as people read it.
        data: [{ type: 'heatmap', x: f.labels, y: [...f.labels].reverse(), z: [...f.counts].reverse(), colorscale: 'Blues', text: [...f.counts].reverse(), texttemplate: '%{text}', hovertemplate: 'actual %{y}<br>predicted %{x}<br>%{z}<extra></extra>' }],
        layout: { title: { text: f.title ?? 'Confusion matrix' }, xaxis: { title: { text: 'predicted' } }, yaxis: { title: { text: 'actual' } } },
      };
    case 'line':
    case 'bar':
      return {
        data: f.series.map((s) => (f.kind === 'bar' ? { type: 'bar', name: s.name, x: s.x, y: s.y } : { type: 'scatter', mode: 'lines+markers', name: s.name, x: s.x, y: s.y })),
        layout: { title: { text: f.title ?? '' }, xaxis: { title: { text: f.xLabel ?? '' } }, yaxis: { title: { text: f.yLabel ?? '' } }, showlegend: f.series.length > 1 },
      };
  }
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A standalone HTML page drawing the figure with plotly.js from its CDN: what `mlflow.log_figure(fig, "x.html")`
 * writes for a Plotly figure, and what MLflow's artifact view shows inline.
 */
export function plotlyHtml(figure: PlotlyFigure, title: string): string {
  // `</` inside a <script> would end it early: escape it in the JSON.
  const json = JSON.stringify(figure).replace(/<\//g, '<\\/');
  return [
    '<!DOCTYPE html>',
    '<html>',
    '<head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    `<script src="${PLOTLY_JS_CDN}"></script>`,
    '</head>',
    '<body style="margin:0">',
    '<div id="figure" style="width:100%;height:100vh"></div>',
    `<script>const f = ${json}; Plotly.newPlot('figure', f.data, f.layout, { responsive: true });</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
