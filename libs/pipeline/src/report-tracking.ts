/**
 * The report logged to the trackers: one *comparison run* per tracker (MLflow: a run in the pipeline's experiment;
 * ClearML: a `qc` task in its project) holding report.html, report.md and its PNGs as artifacts, the charts as the
 * trackers' own figures, the ranking as metrics and the compared model runs as params and a tag. It carries none of
 * the tags that mark a model run (`mlops.model`, `mlops.pipeline_run_id`), so whoever looks for model runs by tag
 * (compare, `rankMlflowRuns`, the ClearML `model:` tags) never takes it for one. Best effort: a tracker that cannot
 * be opened or fails is one line, and the report files stay written.
 */
import type { Analysis } from '@mlops-ts/report';
import { FanOutRun, PipelineTags, type Figure, type RunRecord, type Tracker, type TrackerRun } from '@mlops-ts/tracking';

/** Tags of a comparison run (none of them marks a model run). */
export const ReportTags = {
  /** `comparison` on the report's run (model runs have no such tag). */
  runKind: 'mlops.run_kind',
  /** The pipeline run(s) the report compares (model runs carry `mlops.pipeline_run_id` instead). */
  reportOf: 'mlops.report_of',
  /** JSON: model → { tracker → run id } of the runs compared. */
  comparedRuns: 'mlops.compared_runs',
  rankMetric: 'mlops.rank_metric',
  bestModel: 'mlops.best_model',
} as const;

/** Model-run tags a comparison run must never carry. */
export const MODEL_RUN_TAGS: readonly string[] = [PipelineTags.model, PipelineTags.pipelineRunId];

/** One tracker, opened for the comparison run (the app passes `openTracking` with `trackers: [name]`). */
export type OpenReportTracker = (tracker: string) => Promise<{ tracker: Tracker; lastingUrl?: (url: string) => string; close(): Promise<void> }>;

export interface ReportTrackingOptions {
  /** The trackers to log to, in order (params.yaml's `tracking.trackers`). */
  trackers: readonly string[];
  open: OpenReportTracker;
  /** MLflow experiment / ClearML project (params.yaml's `tracking.experiment`; ClearML's project as `openTracking` says). */
  experiment: string;
}

/** What happened in one tracker. */
export type LoggedReport =
  | { tracker: string; logged: true; runId: string; url?: string; delivered: boolean; notes: string[] }
  | { tracker: string; logged: false; reason: string };

export interface ReportFiles {
  htmlFile: string;
  markdownFile: string;
  /** The Markdown's PNGs (uploaded to `report/report-images/` beside report.md, so its links work in the tracker's artifact view). */
  images?: readonly string[];
}

const firstLine = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n').find((l) => l.trim() !== '')?.trim() ?? 'failed';

/** The pipeline run ids of the model runs (from the run records); several when the models were trained apart. */
export function pipelineRunIdsOf(records: Record<string, RunRecord | undefined>): string[] {
  return [...new Set(Object.values(records).flatMap((r) => (r ? [r.pipelineRunId] : [])))].sort();
}

/** `report <pipeline run id>` (ids joined with `+` when the models come from several runs). */
export function comparisonRunName(pipelineRunIds: readonly string[]): string {
  return pipelineRunIds.length > 0 ? `report ${pipelineRunIds.join('+')}` : 'report (no run records)';
}

/** Model → { tracker → run id } of the runs the report compares (from the run records). */
export function comparedRuns(records: Record<string, RunRecord | undefined>): Record<string, Record<string, string>> {
  return Object.fromEntries(Object.entries(records).flatMap(([model, r]) => (r && Object.keys(r.ref).length > 0 ? [[model, { ...r.ref }]] : [])));
}

/**
 * The ranking as metrics: `<metric>.<model>` (the report's value), `<metric>.<model>.ci_lo` / `.ci_hi` (bootstrap
 * interval), `rank.<model>`, `<metric>.<model>.vs_baseline` (model − baseline) and `<metric>.baseline`.
 */
export function reportMetrics(a: Analysis): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of a.ranking) {
    out[`${a.metric}.${r.model}`] = r.value;
    out[`rank.${r.model}`] = r.rank;
    if (r.interval) {
      out[`${a.metric}.${r.model}.ci_lo`] = r.interval.lo;
      out[`${a.metric}.${r.model}.ci_hi`] = r.interval.hi;
    }
    if (r.vsBaseline) out[`${a.metric}.${r.model}.vs_baseline`] = r.vsBaseline.diff;
  }
  const baseline = a.baseline.available ? a.baseline.value.metrics[a.metric] : undefined;
  if (baseline !== undefined && Number.isFinite(baseline)) out[`${a.metric}.baseline`] = baseline;
  return Object.fromEntries(Object.entries(out).filter(([, v]) => Number.isFinite(v)));
}

/**
 * The report's charts as tracker figures (each tracker draws them natively: ClearML plots, MLflow Plotly HTML):
 * the ranking metric per model (and the baseline), ROC and precision-recall curves of every model overlaid (one
 * curve per class for multiclass), the loss curves of every model, one confusion matrix per model.
 */
export function reportFigures(a: Analysis): Record<string, Figure> {
  const figures: Record<string, Figure> = {};
  const baseline = a.baseline.available ? a.baseline.value.metrics[a.metric] : undefined;
  const bars = [...a.ranking.map((r) => ({ x: r.model, y: r.value })), ...(baseline !== undefined && Number.isFinite(baseline) ? [{ x: a.baseline.available ? a.baseline.value.name : 'baseline', y: baseline }] : [])];
  if (bars.length > 0) {
    figures['metric_comparison'] = { kind: 'bar', title: `Test ${a.metric} per model`, xLabel: 'model', yLabel: a.metric, series: [{ name: a.metric, x: bars.map((b) => b.x), y: bars.map((b) => b.y) }] };
  }
  const label = (model: string, cls: string, n: number) => (a.task === 'binary' || n === 1 ? model : `${model}: ${cls}`);
  const roc = a.models.flatMap((m) => (m.roc.available ? m.roc.value.curves.map((c, _i, all) => ({ label: label(m.name, c.cls, all.length), fpr: c.points.map((p) => p.x), tpr: c.points.map((p) => p.y), auc: c.area })) : []));
  if (roc.length > 0) figures['roc'] = { kind: 'roc', title: 'ROC (test)', curves: roc.map((c) => (Number.isFinite(c.auc) ? c : { label: c.label, fpr: c.fpr, tpr: c.tpr })) };
  const pr = a.models.flatMap((m) => (m.pr.available ? m.pr.value.curves.map((c, _i, all) => ({ name: label(m.name, c.cls, all.length), x: c.points.map((p) => p.x), y: c.points.map((p) => p.y) })) : []));
  if (pr.length > 0) figures['precision_recall'] = { kind: 'line', title: 'Precision-recall (test)', xLabel: 'recall', yLabel: 'precision', series: pr };
  const curves = a.models.flatMap((m) => {
    if (!m.history.available) return [];
    const h = m.history.value;
    const valid = h.filter((e) => e.valLoss !== undefined);
    return [
      { metric: 'loss', variant: `${m.name} train`, x: h.map((e) => e.epoch), y: h.map((e) => e.loss) },
      ...(valid.length > 0 ? [{ metric: 'loss', variant: `${m.name} valid`, x: valid.map((e) => e.epoch), y: valid.map((e) => e.valLoss!) }] : []),
    ];
  });
  if (curves.length > 0) figures['learning_curves'] = { kind: 'learning_curves', title: 'Learning curves (loss)', series: curves };
  for (const m of a.models) {
    if (m.confusion.available) figures[`confusion_${m.name}`] = { kind: 'confusion_matrix', title: `Confusion matrix ${m.name} (test)`, labels: m.confusion.value.labels, counts: m.confusion.value.matrix };
  }
  return figures;
}

/** The comparison run's description (MLflow shows `mlflow.note.content` on the run page): the ranking with the compared runs. */
function note(a: Analysis, compared: Record<string, Record<string, string>>, tracker: string): string {
  const lines = a.ranking.map((r) => {
    const ci = r.interval ? ` [${r.interval.lo.toFixed(4)}, ${r.interval.hi.toFixed(4)}]` : '';
    const run = compared[r.model]?.[tracker];
    return `${r.rank}. ${r.model}: ${a.metric} ${r.value.toFixed(4)}${ci}${run ? ` (run ${run})` : ''}`;
  });
  return [`Model comparison report (${a.title}): report.html and report.md are this run's artifacts.`, '', ...lines].join('\n');
}

async function logTo(run: TrackerRun, a: Analysis, files: ReportFiles, compared: Record<string, Record<string, string>>, pipelineRunIds: readonly string[]): Promise<void> {
  const tracker = run instanceof FanOutRun ? (run.runs[0]?.tracker ?? run.tracker) : run.tracker;
  const best = a.ranking[0]?.model;
  await run.setTags({
    [ReportTags.runKind]: 'comparison',
    [PipelineTags.dvcStage]: 'report',
    [ReportTags.reportOf]: pipelineRunIds.join(',') || 'none',
    [ReportTags.comparedRuns]: JSON.stringify(compared),
    [ReportTags.rankMetric]: a.metric,
    ...(best !== undefined ? { [ReportTags.bestModel]: best } : {}),
    ...(tracker === 'mlflow' ? { 'mlflow.note.content': note(a, compared, tracker) } : {}),
  });
  const input = a.input;
  await run.logParams({
    'report.metric': a.metric,
    'report.higher_is_better': a.higherIsBetter,
    'report.threshold': a.threshold,
    ...(input.bootstrap ? { 'report.bootstrap.resamples': input.bootstrap.resamples, 'report.bootstrap.seed': input.bootstrap.seed, 'report.bootstrap.confidence': input.bootstrap.confidence } : {}),
    'report.models': a.models.map((m) => m.name).join(','),
    ...Object.fromEntries(Object.entries(compared).flatMap(([model, ref]) => Object.entries(ref).map(([t, id]) => [`runs.${model}.${t}`, id]))),
    ...(input.dataset?.md5 ? { 'data.md5': input.dataset.md5 } : {}),
  });
  for (const [key, value] of Object.entries(reportMetrics(a))) run.logMetric({ key, value, step: 0 });
  await run.logArtifact(files.htmlFile, 'report');
  await run.logArtifact(files.markdownFile, 'report');
  // One file at a time under report/report-images/ (the Markdown's links), the same key in every tracker.
  for (const image of files.images ?? []) await run.logArtifact(image, 'report/report-images');
  for (const [name, figure] of Object.entries(reportFigures(a))) await run.logFigure(name, figure);
}

/**
 * Logs the written report to each tracker as a comparison run. Never throws: a tracker that cannot be opened, or
 * fails while logging, is one `warning:` line naming it, and the other trackers still get the report.
 */
export async function logReportToTrackers(o: {
  analysis: Analysis;
  files: ReportFiles;
  records: Record<string, RunRecord | undefined>;
  tracking: ReportTrackingOptions;
  log?: (line: string) => void;
}): Promise<LoggedReport[]> {
  const log = o.log ?? (() => undefined);
  const ids = pipelineRunIdsOf(o.records);
  const compared = comparedRuns(o.records);
  const out: LoggedReport[] = [];
  for (const name of o.tracking.trackers) {
    const failed = (reason: string): LoggedReport => {
      log(`warning: report not logged to ${name} (${reason}); ${o.files.htmlFile} and ${o.files.markdownFile} are written`);
      return { tracker: name, logged: false, reason };
    };
    let opened: Awaited<ReturnType<OpenReportTracker>>;
    try {
      opened = await o.tracking.open(name);
    } catch (error) {
      out.push(failed(firstLine(error)));
      continue;
    }
    try {
      const run = await opened.tracker.startRun({ experiment: o.tracking.experiment, runName: comparisonRunName(ids), role: 'comparison', tags: {} });
      try {
        await logTo(run, o.analysis, o.files, compared, ids);
      } catch (error) {
        await run.end('FAILED').catch(() => undefined);
        throw error;
      }
      const end = await run.end('FINISHED');
      const notes = [...(run instanceof FanOutRun ? run.notices : []), ...(end.offline ?? [])];
      const url = run.url ? (opened.lastingUrl ?? ((u: string) => u))(run.url) : undefined;
      if (!end.delivered) log(`warning: ${name} went away while the report was logged; ${end.pending ?? 'the rest waits on disk'}`);
      for (const n of notes) log(n);
      log(`report logged to ${name}: ${url ?? run.runId}`);
      out.push({ tracker: name, logged: true, runId: run.runId, ...(url ? { url } : {}), delivered: end.delivered, notes });
    } catch (error) {
      out.push(failed(firstLine(error)));
    } finally {
      await opened.close().catch(() => undefined);
    }
  }
  return out;
}
