import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DvcCommandError, readDvcLock, readDvcPointer, type Dvc } from '@mlops-ts/dvc-adapter';
import {
  BootstrapParamsSchema,
  ConfusionCellSchema,
  DataQualitySchema,
  EvalMetricsSchema,
  HistoryEpochSchema,
  METRIC_NAMES,
  PredictionsSchema,
  PrPointSchema,
  RocPointSchema,
  writeReport,
  type Analysis,
  type ModelInput,
  type ReportInput,
} from '@mlops-ts/report';
import { StageInputError } from '@mlops-ts/stage-kit';
import type { RunRecord, TrackingTarget } from '@mlops-ts/tracking';
import { z } from 'zod';
import { readRunRecord, runRecordPath } from './records.js';
import { logReportToTrackers, type LoggedReport, type ReportTrackingOptions } from './report-tracking.js';

/** The `report` section of params.yaml (the report stage; `npm run check` validates it through STAGE_PARAMS). */
export const ReportParamsSchema = z.strictObject({
  title: z.string().min(1).default('Model comparison'),
  /** The metric models are ranked and compared by (the report's own ranking, with bootstrap intervals). */
  metric: z.enum(METRIC_NAMES).default('roc_auc'),
  /** Default: true except for log_loss. */
  higher_is_better: z.boolean().optional(),
  /** Decision threshold of binary models (0.5 = the most probable class, as evaluate predicts). */
  threshold: z.number().gt(0).lt(1).default(0.5),
  bootstrap: z.strictObject(BootstrapParamsSchema.shape).prefault({}),
  /** The revision `dvc metrics diff` compares the workspace's metrics with (HEAD = the last commit's results). */
  metrics_diff_against: z.string().min(1).default('HEAD'),
});
export type ReportParams = z.output<typeof ReportParamsSchema>;

export interface ReportStageOptions {
  /** params.yaml's `models` section (name → params): the models to report on, in this order. */
  models: Record<string, unknown>;
  report: ReportParams;
  /** params.yaml's `data.path` (the DVC-tracked raw table); its md5 comes from `<path>.dvc` or dvc.lock. */
  dataPath?: string;
  /** Class names (params.yaml's `data.target.classes`); default: the predictions files' `classes`. */
  classes?: readonly string[];
  metricsDir: string;
  predictionsDir: string;
  plotsDir: string;
  modelsDir: string;
  recordsDir: string;
  dataQualityFile: string;
  compareFile: string;
  lockFile: string;
  htmlFile: string;
  markdownFile: string;
  /** `dvc metrics diff` and `dvc exp show` (the app passes `createDvc()` of `@mlops-ts/dvc-adapter`); omit: both "Unavailable". */
  dvc?: Pick<Dvc, 'metricsDiff' | 'expShow'>;
  /**
   * Log the written report to the trackers (a comparison run in each, see `logReportToTrackers`); omit: the report
   * files only. Best effort: a tracker that is down is one warning line, the stage still succeeds.
   */
  tracking?: ReportTrackingOptions;
  log?: (line: string) => void;
}

export interface ReportStageResult {
  htmlFile: string;
  markdownFile: string;
  imageFiles: string[];
  analysis: Analysis;
  /** Files read, per role (the report's "Source" lines name them too). */
  read: string[];
  /** Sections left without data, with the reason ("Unavailable: …" in the report). */
  unavailable: string[];
  /** Per tracker: the comparison run the report went to, or why not (absent without `tracking`). */
  tracked?: LoggedReport[];
}

const issuesText = (error: z.ZodError): string => error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

/**
 * A JSON file of a stage's outputs, validated. Missing: `undefined` when optional, else an input error that names
 * the file and the stage to run. Unreadable or not matching its schema: always an input error naming the file.
 */
async function readJson<S extends z.ZodType>(file: string, schema: S, stage: string, required: boolean): Promise<z.output<S> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (!required) return undefined;
    throw new StageInputError(`${file} not found: run the ${stage} stage first`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new StageInputError(`${file}: not valid JSON (${error instanceof Error ? error.message : String(error)}): rerun ${stage}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new StageInputError(`${file}: ${issuesText(parsed.error)} (rerun ${stage})`);
  return parsed.data;
}

const ModelMetaParamsSchema = z.looseObject({ params: z.record(z.string(), z.unknown()).optional(), train: z.record(z.string(), z.unknown()).optional() });
const CompareSummarySchema = z.looseObject({ metric: z.string(), champion: z.object({ model: z.string(), score: z.number() }).nullable() });
/** What compare found of the trackers (`trackers` of metrics/compare.json): which it read, which were down, where they disagreed. */
const CompareTrackersSchema = z.looseObject({
  trackers: z
    .looseObject({
      read: z.array(z.string()).default([]),
      unavailable: z.array(z.string()).default([]),
      ranking_agrees: z.boolean().nullish(),
      disagreements: z.array(z.string()).default([]),
    })
    .optional(),
});

type TrackerInput = NonNullable<ReportInput['trackers']>[number];

/**
 * The Trackers section's rows: where the models' runs went (the run records' targets) and what compare found when it
 * read them back (metrics/compare.json's `trackers`). Only facts that travel with the files: a loopback address (the
 * pipeline's local MLflow server on a port of that run) is named, not linked.
 */
export function trackerStatus(records: Record<string, RunRecord | undefined>, compare: z.output<typeof CompareTrackersSchema> | undefined, compareFile: string): TrackerInput[] {
  const targets = new Map<string, TrackingTarget[]>();
  for (const record of Object.values(records)) {
    if (!record) continue;
    for (const [tracker, target] of Object.entries(record.targets ?? { mlflow: record.tracking })) targets.set(tracker, [...(targets.get(tracker) ?? []), target]);
  }
  const seen = compare?.trackers;
  const names = [...new Set([...targets.keys(), ...(seen?.read ?? []), ...(seen?.unavailable ?? [])])].sort();
  return names.map((name): TrackerInput => {
    const list = targets.get(name) ?? [];
    const first = list[0];
    const down = seen?.unavailable.includes(name) ?? false;
    const checked = seen?.read.includes(name) ?? false;
    const disagreements = (seen?.disagreements ?? []).filter((d) => d.toLowerCase().includes(name));
    const where =
      first?.kind === 'server'
        ? isLoopback(first.uri)
          ? `a server on the loopback of the machine that ran the pipeline${name === 'mlflow' ? ' (if it was the temporary server of npm run pipeline, npm run mlflow-ui shows its runs there)' : ''}`
          : first.uri
        : first?.kind === 'embedded'
          ? `embedded MLflow server over ${first.dir} (npm run mlflow-ui)`
          : first?.kind === 'offline-session'
            ? `offline sessions in ${first.dir} (npm run clearml -- import <session>)`
            : undefined;
    const details = [
      `${list.length} model run${list.length === 1 ? '' : 's'} recorded`,
      ...(where && !(first?.kind === 'server' && isUrl(first.uri)) ? [where] : []),
      ...(down ? [`compare could not reach it (${compareFile})`] : []),
      ...(checked ? [disagreements.length === 0 ? `compare read its runs back: they agree with the metrics files (${compareFile})` : `compare read its runs back: ${disagreements.length} disagreement${disagreements.length === 1 ? '' : 's'} with the metrics files (${compareFile})`] : []),
    ];
    const status: TrackerInput['status'] = down ? 'unavailable' : first?.kind === 'offline' || first?.kind === 'offline-session' ? 'offline' : 'online';
    return { name, status, ...(first?.kind === 'server' && isUrl(first.uri) ? { url: first.uri } : {}), detail: details.join('; ') };
  });
}

const isUrl = (u: string | undefined): u is string => u !== undefined && z.url().safeParse(u).success && !isLoopback(u);

/** The raw data's md5 as DVC records it: its `.dvc` pointer, else the dvc.lock entry of a stage that depends on it. */
async function dataMd5(path: string, lockFile: string): Promise<{ md5: string; source: string } | undefined> {
  const pointerFile = `${path}.dvc`;
  const pointer = await readDvcPointer(pointerFile).catch(() => undefined);
  const fromPointer = pointer?.outs.find((o) => typeof o.md5 === 'string')?.md5;
  if (typeof fromPointer === 'string') return { md5: fromPointer, source: pointerFile };
  const lock = await readDvcLock(lockFile).catch(() => undefined);
  for (const [name, stage] of Object.entries(lock?.stages ?? {})) {
    const dep = stage.deps?.find((d) => d.path === path && typeof d['md5'] === 'string');
    if (dep) return { md5: dep['md5'] as string, source: `${lockFile} (${name} deps)` };
  }
  return undefined;
}

/**
 * A link to a server on this machine's loopback (the pipeline's local MLflow server on a port of the run): dead after
 * the run and meaningless on another machine, so the report (committed to git) leaves it out.
 */
export function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Cost (training time, throughput, size) from the run record and the model folder; links to the runs (not loopback ones). */
async function costAndLinks(record: RunRecord | undefined, weightsFile: string, epochs: number | undefined): Promise<Pick<ModelInput, 'cost' | 'links'>> {
  const cost: NonNullable<ModelInput['cost']> = {};
  if (record && record.seconds > 0) cost.trainSeconds = record.seconds;
  const rates = record?.epochTimings.map((t) => t.rowsPerSecond).filter((r) => Number.isFinite(r) && r > 0) ?? [];
  if (rates.length > 0) cost.rowsPerSecond = rates.reduce((a, b) => a + b, 0) / rates.length;
  const weights = await stat(weightsFile).catch(() => undefined);
  if (weights) cost.modelBytes = weights.size;
  if (epochs !== undefined) cost.epochs = epochs;
  const links: NonNullable<ModelInput['links']> = {};
  const mlflowUrl = record?.urls?.['mlflow'] ?? record?.url;
  if (isUrl(mlflowUrl) && record?.ref['mlflow']) links.mlflowRunUrl = mlflowUrl;
  if (isUrl(record?.urls?.['clearml'])) links.clearmlTaskUrl = record.urls['clearml'];
  const clearmlTarget = record?.targets?.['clearml'];
  const clearmlRef = record?.ref['clearml'];
  if (clearmlTarget?.kind === 'offline-session' && clearmlRef) links.clearmlOfflineSession = join(clearmlTarget.dir, `${clearmlRef}.zip`);
  return { ...(Object.keys(cost).length > 0 ? { cost } : {}), ...(Object.keys(links).length > 0 ? { links } : {}) };
}

const firstLine = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n').find((l) => l.trim() !== '')?.trim() ?? 'failed';

/** Why a dvc command failed, without this machine's paths (the report is committed): DVC's own message and the exit code. */
const dvcReason = (error: unknown): string =>
  error instanceof DvcCommandError ? `${error.exitCode !== undefined ? `exit code ${error.exitCode}` : error.timedOut ? 'timed out' : (error.signal ?? 'stopped')}: ${firstLine(error.dvcMessage)}` : firstLine(error);

/** `dvc metrics diff` and `dvc exp show`: each failure becomes that section's "Unavailable: …", never the stage's. */
async function dvcSections(o: ReportStageOptions): Promise<NonNullable<ReportInput['dvc']>> {
  if (!o.dvc) return { metricsDiff: { unavailable: 'dvc was not asked (--no-dvc)' }, expShow: { unavailable: 'dvc was not asked (--no-dvc)' } };
  const against = o.report.metrics_diff_against;
  const metricsDiff = await o.dvc.metricsDiff({ aRev: against }).then(
    (diff) => ({ against, diff }),
    (error: unknown) => ({ unavailable: `dvc metrics diff ${against} failed (${dvcReason(error)})` }),
  );
  const expShow = await o.dvc.expShow().then(
    (r) => ({ rows: r.rows.map((row) => ({ ...row })) }),
    (error: unknown) => ({ unavailable: `dvc exp show failed (${dvcReason(error)})` }),
  );
  return { metricsDiff, expShow };
}

/** Everything the report needs, read from the DVC-versioned files (and the run records for cost and links). */
export async function collectReportInput(o: ReportStageOptions): Promise<{ input: ReportInput; read: string[]; records: Record<string, RunRecord | undefined> }> {
  const names = Object.keys(o.models);
  if (names.length === 0) throw new StageInputError('params.yaml: models: no model to report on');
  const read: string[] = [];
  const models: ModelInput[] = [];
  const records: Record<string, RunRecord | undefined> = {};
  let prior: number[] | undefined;
  let classes = o.classes ? [...o.classes] : undefined;
  for (const name of names) {
    const files = {
      eval: join(o.metricsDir, `${name}.json`),
      predictions: join(o.predictionsDir, `${name}.json`),
      history: join(o.modelsDir, name, 'history.json'),
      params: join(o.modelsDir, name, 'model-meta.json'),
      roc: join(o.plotsDir, name, 'roc.json'),
      pr: join(o.plotsDir, name, 'pr.json'),
      confusion: join(o.plotsDir, name, 'confusion.json'),
    };
    const evaluate = `evaluate@${name}`;
    const train = `train@${name}`;
    const evalMetrics = await readJson(files.eval, EvalMetricsSchema, evaluate, true);
    const predictions = await readJson(files.predictions, PredictionsSchema, evaluate, true);
    const history = await readJson(files.history, z.array(HistoryEpochSchema), train, false);
    const meta = await readJson(files.params, ModelMetaParamsSchema, train, false);
    const roc = await readJson(files.roc, z.array(RocPointSchema), evaluate, false);
    const pr = await readJson(files.pr, z.array(PrPointSchema), evaluate, false);
    const confusion = await readJson(files.confusion, z.array(ConfusionCellSchema), evaluate, false);
    const record = await readRunRecord(o.recordsDir, name).catch((error: unknown) => {
      o.log?.(`warning: ${firstLine(error)}: no cost or links for ${name}`);
      return undefined;
    });
    records[name] = record;
    const { cost, links } = await costAndLinks(record, join(o.modelsDir, name, 'weights.bin'), history?.length);
    prior ??= evalMetrics?.baseline?.prior;
    classes ??= predictions?.classes;
    const sources: NonNullable<ModelInput['sources']> = { eval: files.eval, predictions: files.predictions };
    if (history) sources.history = files.history;
    sources.params = meta?.params ? files.params : `params.yaml models.${name}`;
    if (roc) sources.roc = files.roc;
    if (confusion) sources.confusion = files.confusion;
    if (record) sources.cost = `${runRecordPath(o.recordsDir, name)}, ${join(o.modelsDir, name, 'weights.bin')}`;
    const present: Record<keyof typeof files, boolean> = { eval: true, predictions: true, history: !!history, params: !!meta, roc: !!roc, pr: !!pr, confusion: !!confusion };
    read.push(...(Object.keys(files) as (keyof typeof files)[]).filter((k) => present[k]).map((k) => files[k]));
    models.push({
      name,
      params: meta?.params ? { model: meta.params, ...(meta.train ? { train: meta.train } : {}) } : ((o.models[name] ?? {}) as Record<string, unknown>),
      ...(evalMetrics ? { eval: evalMetrics } : {}),
      ...(predictions ? { predictions } : {}),
      ...(history ? { history } : {}),
      ...(roc ? { roc } : {}),
      ...(pr ? { pr } : {}),
      ...(confusion ? { confusion } : {}),
      ...(cost ? { cost } : {}),
      ...(links ? { links } : {}),
      sources,
    });
  }
  const quality = await readJson(o.dataQualityFile, DataQualitySchema, 'prepare', false);
  if (quality) read.push(o.dataQualityFile);
  const md5 = o.dataPath ? await dataMd5(o.dataPath, o.lockFile) : undefined;
  const compareTrackers = await readJson(o.compareFile, CompareTrackersSchema, 'compare', false);
  const trackers = trackerStatus(records, compareTrackers, o.compareFile);
  const input: ReportInput = {
    title: o.report.title,
    metric: o.report.metric,
    ...(o.report.higher_is_better !== undefined ? { higherIsBetter: o.report.higher_is_better } : {}),
    threshold: o.report.threshold,
    bootstrap: o.report.bootstrap,
    ...(classes ? { classes } : {}),
    baseline: { name: 'majority_class', ...(prior ? { prior } : {}) },
    models,
    dataset: {
      ...(o.dataPath ? { path: o.dataPath } : {}),
      ...(md5 ? { md5: md5.md5 } : {}),
      ...(quality ? { quality } : {}),
      sources: { ...(md5 ? { md5: md5.source } : {}), ...(quality ? { quality: o.dataQualityFile } : {}) },
    },
    dvc: await dvcSections(o),
    ...(trackers.length > 0 ? { trackers } : {}),
  };
  return { input, read, records };
}

/** The `Unavailable: …` parts of an analysis, as `section: reason` lines. */
function unavailableParts(a: Analysis): string[] {
  const out: string[] = [];
  if (!a.bootstrap.available) out.push(`bootstrap: ${a.bootstrap.reason}`);
  if (!a.baseline.available) out.push(`baseline: ${a.baseline.reason}`);
  for (const m of a.models) {
    for (const [part, value] of Object.entries({ metrics: m.metrics, history: m.history, roc: m.roc, pr: m.pr, confusion: m.confusion, threshold: m.threshold, cost: m.cost })) {
      if (!value.available) out.push(`${m.name} ${part}: ${value.reason}`);
    }
  }
  const dvc = a.input.dvc;
  if (dvc?.metricsDiff && 'unavailable' in dvc.metricsDiff) out.push(`dvc metrics diff: ${dvc.metricsDiff.unavailable}`);
  if (dvc?.expShow && 'unavailable' in dvc.expShow) out.push(`dvc exp show: ${dvc.expShow.unavailable}`);
  return out;
}

/**
 * The report stage: reads what evaluate, train, prepare and compare wrote (never a tracker), and writes
 * `report.html`, `report.md` and the Markdown's PNG folder together: everything is rendered into a staging folder
 * beside the Markdown first, then moved into place, so a bad input leaves the previous report as it was.
 */
export async function reportModels(o: ReportStageOptions): Promise<ReportStageResult> {
  const log = o.log ?? (() => undefined);
  const { input, read, records } = await collectReportInput(o);
  const compare = await readJson(o.compareFile, CompareSummarySchema, 'compare', false);
  if (compare) read.push(o.compareFile);

  const mdDir = dirname(o.markdownFile);
  await mkdir(mdDir, { recursive: true });
  await mkdir(dirname(o.htmlFile), { recursive: true });
  const staging = join(mdDir, `.report.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  const imageDir = 'report-images';
  const stagedHtml = join(staging, basename(o.htmlFile));
  const stagedMd = join(staging, basename(o.markdownFile));
  let report: Awaited<ReturnType<typeof writeReport>>;
  try {
    report = await writeReport(input, { htmlFile: stagedHtml, markdownFile: stagedMd, markdown: { imageDir } });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  // Move into place: the images folder whole (the old one set aside first), then the Markdown, then the HTML.
  const images = join(mdDir, imageDir);
  const oldImages = `${staging}.old-images`;
  try {
    if (await stat(images).catch(() => undefined)) await rename(images, oldImages);
    if (await stat(join(staging, imageDir)).catch(() => undefined)) await rename(join(staging, imageDir), images);
    await rename(stagedMd, o.markdownFile);
    await rename(stagedHtml, o.htmlFile);
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(oldImages, { recursive: true, force: true });
  }
  const analysis = report.analysis;
  const imageFiles = report.imageFiles.map((f) => join(images, basename(f)));

  for (const r of analysis.ranking) {
    const ci = r.interval ? ` [${r.interval.lo.toFixed(4)}, ${r.interval.hi.toFixed(4)}]` : '';
    log(`${r.rank}. ${r.model.padEnd(16)} ${analysis.metric}=${r.value.toFixed(4)}${ci}${r.vsBaseline && !r.vsBaseline.beats ? ' (does not beat the baseline)' : ''}`);
  }
  if (compare && compare.metric === analysis.metric && compare.champion) {
    const best = analysis.ranking[0]?.model;
    if (best !== undefined && best !== compare.champion.model) log(`note: ${o.compareFile} crowns ${compare.champion.model}, the report ranks ${best} first on ${analysis.metric}`);
  }
  const unavailable = unavailableParts(analysis);
  for (const u of unavailable) log(`unavailable: ${u}`);
  log(`wrote ${o.htmlFile}, ${o.markdownFile} and ${imageFiles.length} charts in ${images}`);
  const tracked = o.tracking
    ? await logReportToTrackers({ analysis, files: { htmlFile: o.htmlFile, markdownFile: o.markdownFile, images: imageFiles }, records, tracking: o.tracking, log })
    : undefined;
  return { htmlFile: o.htmlFile, markdownFile: o.markdownFile, imageFiles, analysis, read, unavailable, ...(tracked ? { tracked } : {}) };
}
