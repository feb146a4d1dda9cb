import { join } from 'node:path';
import { loadFeatureSplit, type FeatureMeta } from '@mlops-ts/data-prep';
import { evaluatePredictions, loadModelFolder, predictProba, selectBackend, type Evaluation, type SelectBackendOptions } from '@mlops-ts/model-train';
import { downsample, predictionsRecord, prCurve } from '@mlops-ts/report';
import { OutputSet, StageInputError } from '@mlops-ts/stage-kit';
import { FanOutRun, modelIdsOf, PipelineTags, type Figure, type Tracker, type TrackerRun, type TrackingTarget } from '@mlops-ts/tracking';
import { readRunRecord, runRecordPath, writeRunRecord } from './records.js';
import { runUrls } from './tracking.js';
import { mlflowModelId, modelSignature } from './train.js';

/** The scalar metrics evaluate writes for a model and for the baseline (same names). */
export const METRIC_NAMES = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
export type Scalars = Record<MetricName, number>;

export const scalarsOf = (e: Evaluation): Scalars => ({ accuracy: e.accuracy, precision: e.precision, recall: e.recall, f1: e.f1, roc_auc: e.rocAuc, log_loss: e.logLoss });

/**
 * The majority-class (prior) baseline: every test row gets the class frequencies of the TRAIN split as its
 * probabilities, so it predicts the majority class. A model that does not beat it has learned nothing useful.
 */
export function majorityBaseline(trainClassCounts: readonly number[], yTest: ArrayLike<number>, classes: readonly string[]): Evaluation {
  const prior = classPrior(trainClassCounts);
  const k = classes.length;
  const proba = new Float64Array(yTest.length * k);
  for (let i = 0; i < yTest.length; i++) for (let c = 0; c < k; c++) proba[i * k + c] = prior[c]!;
  return evaluatePredictions(yTest, proba, classes);
}

/** Class frequencies of a split (the baseline's probabilities; `baseline.prior` in the metrics file). */
export function classPrior(classCounts: readonly number[]): number[] {
  const total = classCounts.reduce((a, b) => a + b, 0);
  if (total === 0) throw new StageInputError('the train split has no rows: no baseline');
  return classCounts.map((c) => c / total);
}

/** A point of `plots/<model>/pr.json`: precision and recall of `class` at `p >= threshold` (`null`: above every score). */
export interface PrPoint {
  class: string;
  precision: number;
  recall: number;
  threshold: number | null;
}

/**
 * Precision-recall curves of row-major `rows × K` probabilities, as `plots/<model>/pr.json` holds them: binary, the
 * positive class (index 1); multiclass, one one-vs-rest curve per class. At most `maxPoints` per curve (evenly along
 * it, both ends kept). The first point's threshold is +Infinity in the maths and `null` here (JSON has no Infinity);
 * a class with no test rows has no curve.
 */
export function precisionRecallPoints(yTrue: ArrayLike<number>, proba: ArrayLike<number>, classes: readonly string[], maxPoints = 201): PrPoint[] {
  const k = classes.length;
  const scored = k === 2 ? [1] : classes.map((_, c) => c);
  return scored.flatMap((c) => {
    const isC = Array.from(yTrue, (t) => t === c);
    if (!isC.includes(true)) return [];
    const scores = Float64Array.from({ length: yTrue.length }, (_, i) => proba[i * k + c]!);
    const curve = prCurve(isC, scores);
    const points = curve.precision.map((precision, i) => ({ class: classes[c]!, precision, recall: curve.recall[i]!, threshold: Number.isFinite(curve.thresholds[i]!) ? curve.thresholds[i]! : null }));
    return downsample(points, maxPoints);
  });
}

/** Opens the tracker for the evaluate stage; may fail (server down): evaluate's outputs never depend on it. */
export type OpenTracker = () => Promise<{ tracker: Tracker; target: TrackingTarget; targets?: Record<string, TrackingTarget>; lastingUrl?: (url: string) => string; close(): Promise<void> }>;

export interface EvaluateModelOptions {
  model: string;
  modelsDir: string;
  featuresDir: string;
  metricsDir: string;
  plotsDir: string;
  /** Folder of the test predictions (`<predictionsDir>/<model>.json`, a cached DVC out the report stage reads). */
  predictionsDir: string;
  recordsDir: string;
  experiment: string;
  /** The model folder's DVC md5 (from dvc.lock's `train@<model>` out), tagged on a run started because the record is missing. */
  modelMd5?: string;
  /** Omit to evaluate without tracking. */
  openTracker?: OpenTracker;
  log?: (line: string) => void;
  /** Skipped-backend notices of model-train (none without it). */
  onBackendNotice?: (line: string) => void;
  /** Where `npm run setup -- --native-tf` built tfjs-node (model-train's `nativeTfDirFromEnv`). */
  nativeTfDir?: string;
}

export interface EvaluateModelResult {
  metrics: Scalars;
  baseline: Scalars;
  files: string[];
  /** How the metrics reached the tracker: the recorded run, a new linked run, or not at all (and why). */
  tracking: { kind: 'recorded' | 'linked'; runId: string } | { kind: 'none'; reason: string };
  /** Notices (a tracker with no recorded run id) and runs kept offline by design (ClearML offline sessions, with the import command). */
  notes: string[];
}

/** The evaluate stage's figures: ROC (one curve per class scored, with its AUC) and the confusion matrix. */
export function evaluationFigures(e: Evaluation): { roc: Figure; confusion_matrix: Figure } {
  return {
    roc: { kind: 'roc', title: 'ROC (test)', curves: e.roc.map((c) => ({ label: c.positiveClass, fpr: c.fpr, tpr: c.tpr, auc: c.auc })) },
    confusion_matrix: { kind: 'confusion_matrix', title: 'Confusion matrix (test)', labels: e.confusionMatrix.labels, counts: e.confusionMatrix.matrix },
  };
}

/**
 * The evaluate stage: test metrics of `models/<model>` and of the majority-class baseline, written to
 * `<metricsDir>/<model>.json` (deterministic: no run ids, no timestamps) with ROC and confusion plot data. The
 * files are written first; tracking comes after and can only warn.
 */
export async function evaluateModel(o: EvaluateModelOptions): Promise<EvaluateModelResult> {
  const log = o.log ?? (() => undefined);
  const modelDir = join(o.modelsDir, o.model);
  // The fastest backend there is (predictions agree within float rounding; no batch given: inference takes tensorflow); skipped ones only through the notice callback.
  const notice: { onBackendNotice?: (line: string) => void } = o.onBackendNotice ? { onBackendNotice: o.onBackendNotice } : {};
  const backend = await selectBackend('auto', { ...(notice as SelectBackendOptions), ...(o.nativeTfDir ? { nativeTfDir: o.nativeTfDir } : {}) });
  log(`backend: ${backend.backend}`);
  const loaded = await loadModelFolder(modelDir).catch((error: unknown) => {
    throw new StageInputError(`${modelDir}: no trained model (${error instanceof Error ? error.message : String(error)}): run the train@${o.model} stage first`, { cause: error });
  });
  let test: Awaited<ReturnType<typeof loadFeatureSplit>>;
  try {
    test = await loadFeatureSplit(o.featuresDir, 'test');
    if (loaded.meta && loaded.meta.featureNames.join('\n') !== test.meta.featureNames.join('\n')) {
      throw new StageInputError(`${modelDir} was trained on other features than ${o.featuresDir} holds: retrain (dvc repro)`);
    }
  } catch (error) {
    loaded.model.dispose();
    throw error;
  }
  // Predicted once: the metrics, the PR curve and the predictions file all come from these probabilities.
  let proba: Float32Array;
  try {
    proba = predictProba(loaded.model, test.x, test.rows);
  } finally {
    loaded.model.dispose();
  }
  const classes = test.meta.classes;
  const result = evaluatePredictions(test.y, proba, classes);
  const prior = classPrior(test.meta.classCounts.train);
  const base = majorityBaseline(test.meta.classCounts.train, test.y, classes);
  const metrics = scalarsOf(result);
  const baseline = scalarsOf(base);
  const fmt = (s: Scalars) => Object.entries(s).map(([k, v]) => `${k}=${v.toFixed(4)}`).join(' ');
  log(`${fmt(metrics)} (baseline ${baseline.accuracy.toFixed(4)} accuracy, ${baseline.roc_auc.toFixed(4)} roc_auc)`);

  const metricsFile = join(o.metricsDir, `${o.model}.json`);
  const rocFile = join(o.plotsDir, o.model, 'roc.json');
  const confusionFile = join(o.plotsDir, o.model, 'confusion.json');
  const prFile = join(o.plotsDir, o.model, 'pr.json');
  const predictionsFile = join(o.predictionsDir, `${o.model}.json`);
  const out = new OutputSet();
  try {
    await out.json(metricsFile, { model: o.model, task: result.task, average: result.average, rows: result.rows, ...metrics, baseline: { name: 'majority_class', prior, ...baseline }, per_class: result.perClass });
    await out.json(rocFile, result.roc.flatMap((c) => c.fpr.map((fpr, i) => ({ class: c.positiveClass, fpr, tpr: c.tpr[i], threshold: c.thresholds[i] }))));
    await out.json(confusionFile, result.confusionMatrix.labels.flatMap((actual, t) => result.confusionMatrix.labels.map((predicted, p) => ({ actual, predicted, count: result.confusionMatrix.matrix[t]![p] }))));
    await out.json(prFile, precisionRecallPoints(test.y, proba, classes));
    // One row a line would be ~15,000 lines per model: compact JSON (a cached DVC out, never diffed in git).
    await out.file(predictionsFile, JSON.stringify(predictionsRecord({ model: o.model, classes, labels: test.y, proba })) + '\n');
    await out.commit();
  } catch (error) {
    await out.discard();
    throw error;
  }
  // The predictions file stays out of the trackers (a DVC out, ~0.3 MB per model); the report stage reads it from there.
  const files = [metricsFile, rocFile, confusionFile, prFile];
  const notes: string[] = [];
  const tracking = await track(o, test.meta, metrics, baseline, files, test.rows, evaluationFigures(result), notes, log);
  return { metrics, baseline, files, tracking, notes };
}

async function track(
  o: EvaluateModelOptions,
  meta: FeatureMeta,
  metrics: Scalars,
  baseline: Scalars,
  files: string[],
  rows: number,
  figures: Record<string, Figure>,
  notes: string[],
  log: (line: string) => void,
): Promise<EvaluateModelResult['tracking']> {
  if (!o.openTracker) return { kind: 'none', reason: 'tracking is off' };
  const record = await readRunRecord(o.recordsDir, o.model);
  if (record && Object.keys(record.ref).length === 0) return { kind: 'none', reason: 'the model was trained without tracking' };
  let opened: Awaited<ReturnType<OpenTracker>>;
  try {
    opened = await o.openTracker();
  } catch (error) {
    const reason = `tracking server unavailable (${error instanceof Error ? error.message : String(error)}); the metrics files are written, nothing logged`;
    log(`warning: ${reason}`);
    return { kind: 'none', reason };
  }
  try {
    let run: TrackerRun | undefined;
    let kind: 'recorded' | 'linked' = 'recorded';
    if (record) {
      run = await opened.tracker.resumeRun(record.ref).catch((error: unknown) => {
        log(`the recorded run of ${o.model} (${Object.values(record.ref).join(', ')}) is not in the tracker (${error instanceof Error ? error.message : String(error)}): starting a new run linked to the model`);
        return undefined;
      });
    } else {
      log(`no run record ${runRecordPath(o.recordsDir, o.model)} (trained elsewhere, e.g. before a dvc pull): starting a new run linked to the model`);
    }
    if (!run) {
      kind = 'linked';
      run = await opened.tracker.startRun({
        experiment: record?.experiment ?? o.experiment,
        runName: `${o.model} (evaluate)`,
        tags: {
          [PipelineTags.model]: o.model,
          [PipelineTags.dvcStage]: `evaluate@${o.model}`,
          [PipelineTags.datasetMd5]: meta.dataMd5,
          ...(o.modelMd5 ? { 'mlops.model_md5': o.modelMd5 } : {}),
        },
      });
    }
    try {
      for (const [k, v] of Object.entries(metrics)) run.logMetric({ key: `test_${k}`, value: v, step: 0 });
      for (const [k, v] of Object.entries(baseline)) run.logMetric({ key: `baseline_test_${k}`, value: v, step: 0 });
      await run.logInput({ name: 'features-test', digest: meta.dataMd5, source: join(o.featuresDir, 'test.parquet'), context: 'test', profile: JSON.stringify({ num_rows: rows, num_features: meta.featureNames.length }) });
      for (const f of files) await run.logArtifact(f, f.startsWith(o.plotsDir) ? 'plots' : 'eval');
      for (const [name, figure] of Object.entries(figures)) await run.logFigure(name, figure);
      let loggedModelId: string | undefined;
      let loggedModels: Record<string, string> = {};
      if (kind === 'linked') {
        // The new run holds the model too, so compare can register it.
        const ref = await run.logModel(join(o.modelsDir, o.model), { name: 'model', signature: modelSignature(meta.featureNames, meta.classes), labels: meta.classes });
        loggedModelId = mlflowModelId(ref);
        loggedModels = modelIdsOf(ref);
        if (loggedModelId) await run.setTags({ [PipelineTags.loggedModelId]: loggedModelId });
      }
      const report = await run.end('FINISHED');
      if (run instanceof FanOutRun) notes.push(...run.notices);
      notes.push(...(report.offline ?? []));
      if (!report.delivered) log(`warning: the tracking server went away; the metrics files are written. ${report.pending ?? ''}`.trim());
      if (kind === 'linked') {
        const now = new Date().toISOString();
        const ref = opened.targets ? Object.fromEntries(Object.entries(run.ref).filter(([t]) => opened.targets![t] && opened.targets![t].kind !== 'offline')) : run.ref;
        // every tracker's link, as train records them: compare writes them into metrics/compare.json
        const urls = runUrls(run, ref, opened.lastingUrl);
        await writeRunRecord(o.recordsDir, {
          format: 'mlops-ts.run-record/1',
          model: o.model,
          experiment: record?.experiment ?? o.experiment,
          pipelineRunId: record?.pipelineRunId ?? 'evaluate',
          tracking: opened.target,
          ...(opened.targets ? { targets: opened.targets } : {}),
          ref,
          ...(loggedModelId ? { loggedModelId } : {}),
          ...(Object.keys(loggedModels).length ? { loggedModels } : {}),
          ...(run.url ? { url: (opened.lastingUrl ?? ((u: string) => u))(run.url) } : {}),
          ...(Object.keys(urls).length ? { urls } : {}),
          delivered: report.delivered,
          ...(report.pending ? { pending: report.pending } : {}),
          startedAt: record?.startedAt ?? now,
          endedAt: record?.endedAt ?? now,
          seconds: record?.seconds ?? 0,
          evaluateRef: run.ref,
        });
      }
      log(`logged to ${run.url ? (opened.lastingUrl ?? ((u: string) => u))(run.url) : run.runId}`);
      return { kind, runId: run.runId };
    } catch (error) {
      await run.end('FAILED').catch(() => undefined);
      throw error;
    }
  } finally {
    await opened.close();
  }
}
