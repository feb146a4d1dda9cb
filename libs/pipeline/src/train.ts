import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadFeatureSplit } from '@mlops-ts/data-prep';
import { resolveTrainParams, saveModelFolder, trainClassifier, type ModelParams, type TrainParams } from '@mlops-ts/model-train';
import { jsonText, StageInputError, StageParamsError, writeDirAtomic, writeJsonAtomic, type GitFacts } from '@mlops-ts/stage-kit';
import { FanOutRun, flattenParams, modelIdsOf, PipelineTags, type Figure, type LoggedModelRef, type ModelSignature, type RunRecord, type Tracker, type TrackerRun, type TrackingParams, type TrackingTarget } from '@mlops-ts/tracking';
import { writeRunRecord } from './records.js';
import { runUrls } from './tracking.js';


export interface TrainModelOptions {
  /** Model name: a key of `models`. */
  model: string;
  models: Record<string, ModelParams>;
  train: TrainParams;
  tracking: TrackingParams;
  /** The params file the sections came from (named in errors). */
  paramsFile?: string;
  featuresDir: string;
  /** The model folder (a DVC out): only deterministic files. */
  outDir: string;
  /** Folder of run records (`.mlops/runs`). */
  recordsDir: string;
  tracker: Tracker;
  /** What the run record says about where MLflow tracking went. */
  target: TrackingTarget;
  /** tracker name → where its run went (default: `{ mlflow: target }`); a tracker whose target is `offline` is left out of the record's ref. */
  targets?: Record<string, TrackingTarget>;
  /** Turns a run's URL into one that works after the stage ends (embedded server → `npm run mlflow-ui` port). */
  lastingUrl?: (url: string) => string;
  pipelineRunId: string;
  git?: GitFacts;
  log?: (line: string) => void;
  /** Skipped-backend notices of model-train (none without it). */
  onBackendNotice?: (line: string) => void;
  /** Where `npm run setup -- --native-tf` built tfjs-node (model-train's `nativeTfDirFromEnv`); without it `tensorflow` is looked for as a dependency. */
  nativeTfDir?: string;
  /** Registers a cleanup that runs on SIGINT/SIGTERM (stage-kit's `ctx.onInterrupt`). */
  onInterrupt?: (cleanup: () => unknown) => () => void;
  /** A run that must be kept as a file (offline tracking): written to `<recordsDir>/<model>.offline-run.json`. */
  offlineRun?: () => unknown;
}

export interface TrainModelResult {
  record: RunRecord;
  /** Set when the tracker could not take everything: the model is kept, this says where the rest waits and how to deliver it. */
  warning?: string;
  /** Runs kept offline by design (e.g. ClearML offline sessions), each with the command that sends it. */
  notes: string[];
  bestEpoch: number;
  epochsRun: number;
}

/** The model's interface for the tracker: feature names in, one probability per class out. */
export function modelSignature(featureNames: readonly string[], classes: readonly string[]): ModelSignature {
  return {
    inputs: featureNames.map((name) => ({ name, type: 'float' as const })),
    outputs: classes.map((name) => ({ name: `proba_${name}`, type: 'float' as const })),
  };
}

/**
 * The train stage: one model from params on the feature splits, tracked. The model folder is written whole (and
 * before anything is sent, so an outage cannot lose it) and holds only what the same commit and data reproduce byte
 * for byte: model.json, weights.bin, model-meta.json, history.json (no run ids, no timings). What changes from run
 * to run goes to the run record.
 */
/** The params of model `name`, or a params error naming the key and the models there are. */
export function modelParamsOf(models: Record<string, ModelParams>, name: string, paramsFile = 'params.yaml'): ModelParams {
  const params = models[name];
  if (!params) throw new StageParamsError(paramsFile, [{ key: `models.${name}`, message: `no such model (models are: ${Object.keys(models).join(', ')})` }]);
  return params;
}

export async function trainModel(o: TrainModelOptions): Promise<TrainModelResult> {
  const log = o.log ?? (() => undefined);
  const modelParams = modelParamsOf(o.models, o.model, o.paramsFile);
  const trainParams = resolveTrainParams(o.train, modelParams);
  const [train, valid] = await Promise.all([loadFeatureSplit(o.featuresDir, 'train'), loadFeatureSplit(o.featuresDir, 'valid')]).catch((error: unknown) => {
    throw new StageInputError(`${error instanceof Error ? error.message : String(error)} (run the featurize stage first)`, { cause: error });
  });
  const meta = train.meta;
  log(`${train.rows} train / ${valid.rows} valid rows, ${train.cols} features, classes ${meta.classes.join(', ')}`);

  const startedAt = new Date();
  const run = await o.tracker.startRun({
    experiment: o.tracking.experiment,
    runName: o.model,
    tags: {
      [PipelineTags.model]: o.model,
      [PipelineTags.pipelineRunId]: o.pipelineRunId,
      [PipelineTags.dvcStage]: `train@${o.model}`,
      [PipelineTags.datasetMd5]: meta.dataMd5,
      'mlops.backend.requested': trainParams.backend,
      ...(o.git?.dirty ? { 'mlops.git_dirty': 'true' } : {}),
    },
  });
  const unregister = o.onInterrupt?.(() => run.end('KILLED'));
  try {
    const result = await trainAndSave(o, run, modelParams, trainParams, train, valid, log);
    const report = await run.end('FINISHED');
    unregister?.();
    const endedAt = new Date();
    const lasting = o.lastingUrl ?? ((u: string) => u);
    // A tracker whose target is `offline` (no tracking, or MLflow kept on disk by offline_fallback) has no run to record.
    const ref = o.targets
      ? Object.fromEntries(Object.entries(run.ref).filter(([t]) => o.targets![t] !== undefined && o.targets![t].kind !== 'offline'))
      : o.target.kind === 'offline'
        ? {}
        : run.ref;
    const urls = runUrls(run, ref, lasting);
    const url = urls['mlflow'] ?? Object.values(urls)[0];
    const loggedModels = Object.fromEntries(Object.entries(result.loggedModels).filter(([t]) => ref[t]));
    if (o.offlineRun) await writeJsonAtomic(join(o.recordsDir, `${o.model}.offline-run.json`), o.offlineRun());
    const record = await writeRunRecord(o.recordsDir, {
      format: 'mlops-ts.run-record/1',
      model: o.model,
      experiment: o.tracking.experiment,
      pipelineRunId: o.pipelineRunId,
      tracking: o.target,
      ...(o.targets ? { targets: o.targets } : {}),
      ref,
      ...(result.loggedModelId && o.target.kind !== 'offline' ? { loggedModelId: result.loggedModelId } : {}),
      ...(Object.keys(loggedModels).length ? { loggedModels } : {}),
      ...(url ? { url } : {}),
      ...(Object.keys(urls).length ? { urls } : {}),
      delivered: report.delivered,
      ...(report.pending ? { pending: report.pending } : {}),
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      seconds: (endedAt.getTime() - startedAt.getTime()) / 1000,
      epochTimings: result.timings,
    });
    const warning = report.delivered
      ? undefined
      : `the tracking server went away: the model is kept in ${o.outDir}, the rest of the run waits on disk. ${report.pending ?? ''}`.trim();
    const notes = [...(run instanceof FanOutRun ? run.notices : []), ...(report.offline ?? [])];
    return { record, ...(warning ? { warning } : {}), notes, bestEpoch: result.bestEpoch, epochsRun: result.epochsRun };
  } catch (error) {
    unregister?.();
    await run.end('FAILED').catch(() => undefined);
    throw error;
  }
}

type Split = Awaited<ReturnType<typeof loadFeatureSplit>>;

/**
 * MLflow's logged model id (what compare registers and the `mlops.logged_model_id` tag holds): never another
 * tracker's id, even when MLflow could not create its model now (server gone: replay creates it).
 */
export function mlflowModelId(ref: LoggedModelRef): string | undefined {
  if ('mlflow' in ref.models) return ref.models['mlflow']?.modelId;
  const trackers = Object.keys(ref.models);
  return trackers.length === 1 && trackers[0] !== 'clearml' ? ref.modelId : undefined;
}

/** The learning curves of a training history: loss and accuracy, train and valid, per epoch. */
export function learningCurves(history: readonly { epoch: number; loss: number; accuracy: number; valLoss?: number; valAccuracy?: number }[]): Figure {
  const epochs = history.map((e) => e.epoch);
  const series: { metric: string; variant: string; x: number[]; y: number[] }[] = [
    { metric: 'loss', variant: 'train', x: epochs, y: history.map((e) => e.loss) },
    { metric: 'accuracy', variant: 'train', x: epochs, y: history.map((e) => e.accuracy) },
  ];
  const valid = history.filter((e) => e.valLoss !== undefined);
  if (valid.length > 0) series.splice(1, 0, { metric: 'loss', variant: 'valid', x: valid.map((e) => e.epoch), y: valid.map((e) => e.valLoss!) });
  const validAcc = history.filter((e) => e.valAccuracy !== undefined);
  if (validAcc.length > 0) series.push({ metric: 'accuracy', variant: 'valid', x: validAcc.map((e) => e.epoch), y: validAcc.map((e) => e.valAccuracy!) });
  return { kind: 'learning_curves', title: 'Learning curves', xLabel: 'epoch', series };
}

async function trainAndSave(o: TrainModelOptions, run: TrackerRun, modelParams: ModelParams, trainParams: TrainParams, train: Split, valid: Split, log: (line: string) => void) {
  const meta = train.meta;
  await run.logParams(flattenParams({ model: modelParams, train: trainParams, data: { task: meta.task, target: meta.target, features: train.cols, train_rows: train.rows, valid_rows: valid.rows } }));
  for (const [split, rows] of [['train', train.rows], ['valid', valid.rows]] as const) {
    await run.logInput({ name: `features-${split}`, digest: meta.dataMd5, source: join(o.featuresDir, `${split}.parquet`), context: split === 'train' ? 'training' : 'validation', profile: JSON.stringify({ num_rows: rows, num_features: train.cols }) });
  }
  // Passed through an options object: model-train takes `onBackendNotice` (interface §3 of the common brief).
  const notice: { onBackendNotice?: (line: string) => void } = o.onBackendNotice ? { onBackendNotice: o.onBackendNotice } : {};
  const trained = await trainClassifier({
    name: o.model,
    model: modelParams,
    params: trainParams,
    train: { x: train.x, y: train.y, rows: train.rows, cols: train.cols },
    valid: { x: valid.x, y: valid.y, rows: valid.rows, cols: valid.cols },
    classes: meta.classes,
    log,
    ...notice,
    ...(o.nativeTfDir ? { backendOptions: { nativeTfDir: o.nativeTfDir } } : {}),
    onEpochEnd: (e) => {
      run.logMetric({ key: 'train_loss', value: e.loss, step: e.epoch });
      run.logMetric({ key: 'train_accuracy', value: e.accuracy, step: e.epoch });
      if (e.valLoss !== undefined) run.logMetric({ key: 'valid_loss', value: e.valLoss, step: e.epoch });
      if (e.valAccuracy !== undefined) run.logMetric({ key: 'valid_accuracy', value: e.valAccuracy, step: e.epoch });
      run.logMetric({ key: 'rows_per_second', value: e.rowsPerSecond, step: e.epoch });
    },
  });
  try {
    const r = trained.result;
    // Deterministic part of the history in the model folder; timings go to the run record.
    const history = r.history.map((e) => ({
      epoch: e.epoch,
      loss: e.loss,
      accuracy: e.accuracy,
      ...(e.valLoss !== undefined ? { valLoss: e.valLoss } : {}),
      ...(e.valAccuracy !== undefined ? { valAccuracy: e.valAccuracy } : {}),
      improved: e.improved,
    }));
    await writeDirAtomic(o.outDir, async (staging) => {
      await saveModelFolder(trained.model, staging, {
        name: o.model,
        classes: meta.classes,
        featureNames: meta.featureNames,
        params: modelParams,
        train: trainParams,
        backend: trained.backend.backend,
        extra: { dataMd5: meta.dataMd5 },
      });
      await writeFile(join(staging, 'history.json'), jsonText(history));
    });
    log(`saved ${o.outDir} (best epoch ${r.bestEpoch}/${r.epochsRun}, ${Math.round(r.rowsPerSecond)} rows/s on ${trained.backend.backend})`);
    await run.setTags({ 'mlops.backend': trained.backend.backend, 'mlops.stopped_early': String(r.stoppedEarly) });
    run.logMetric({ key: 'best_epoch', value: r.bestEpoch, step: 0 });
    run.logMetric({ key: 'train_seconds', value: r.seconds, step: 0 });
    await run.logArtifact(join(o.outDir, 'history.json'), 'plots');
    await run.logFigure('learning_curves', learningCurves(history));
    const best = r.history.find((e) => e.epoch === r.bestEpoch);
    const modelRef = await run.logModel(o.outDir, {
      name: 'model',
      params: flattenParams({ model: modelParams }),
      signature: modelSignature(meta.featureNames, meta.classes),
      labels: meta.classes,
      metrics: {
        best_epoch: r.bestEpoch,
        ...(best?.valLoss !== undefined ? { valid_loss: best.valLoss } : {}),
        ...(best?.valAccuracy !== undefined ? { valid_accuracy: best.valAccuracy } : {}),
      },
    });
    const loggedModelId = mlflowModelId(modelRef);
    if (loggedModelId) await run.setTags({ [PipelineTags.loggedModelId]: loggedModelId });
    return {
      loggedModelId,
      loggedModels: modelIdsOf(modelRef),
      bestEpoch: r.bestEpoch,
      epochsRun: r.epochsRun,
      timings: r.history.map((e) => ({ epoch: e.epoch, seconds: e.seconds, rowsPerSecond: e.rowsPerSecond })),
    };
  } finally {
    trained.model.dispose();
  }
}
