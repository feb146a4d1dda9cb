#!/usr/bin/env node
// Stage train@<model>: one model from params.yaml, trained on data/features, tracked (MLflow), saved to models/<model>.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { loadFeatureSplit } from '@mlops-ts/data-prep';
import { mlflowConfigFromEnv } from '@mlops-ts/mlflow-client';
import { parseModelsParams, parseTrainParams, resolveTrainParams, saveModelFolder, trainClassifier } from '@mlops-ts/model-train';
import { gitFacts, paramsSection, readParamsFile, runStage, StageParamsError } from '@mlops-ts/stage-kit';
import { flattenParams, MemoryTracker, openMlflowTracking, PipelineTags, TrackingParamsSchema, type RunFile, type Tracker } from '@mlops-ts/tracking';

const program = new Command('train')
  .description('Train one model from params.yaml (models.<name>, train) on the feature splits and track the run.')
  .requiredOption('--model <name>', 'model name: a key of models in params.yaml')
  .option('--params <file>', 'params file', 'params.yaml')
  .option('--features <dir>', 'feature splits written by featurize', 'data/features')
  .option('--out <dir>', 'model folder (default models/<name>)')
  .option('--no-tracking', 'train without a tracking server (the run is kept in <out>/offline-run.json)')
  .exitOverride();

async function main(): Promise<void> {
  const args = program.parse().opts<{ model: string; params: string; features: string; out?: string; tracking: boolean }>();
  const log = (line: string) => process.stderr.write(`[train ${args.model}] ${line}\n`);
  const params = await readParamsFile(args.params);
  const models = parseModelsParams(params['models']);
  const modelParams = models[args.model];
  if (!modelParams) {
    throw new StageParamsError(args.params, [{ key: `models.${args.model}`, message: `no such model (models are: ${Object.keys(models).join(', ')})` }]);
  }
  const trainParams = resolveTrainParams(parseTrainParams(params['train']), modelParams);
  const tracking = paramsSection(params, 'tracking', TrackingParamsSchema, args.params);
  const outDir = resolve(args.out ?? join('models', args.model));

  // Tracking: MLFLOW_TRACKING_URI or the embedded local server; a server that is down stops here, before training,
  // unless tracking.offline_fallback (or --no-tracking) keeps the run on disk instead.
  const git = await gitFacts(process.cwd());
  let tracker: Tracker;
  let close = async (): Promise<void> => undefined;
  let offline: MemoryTracker | undefined;
  if (!args.tracking) {
    tracker = offline = new MemoryTracker('offline');
  } else {
    try {
      const opened = await openMlflowTracking({
        config: mlflowConfigFromEnv(process.env),
        localDir: resolve('.mlflow'),
        spillDir: resolve('.mlflow-spill'),
        user: process.env['USER'] ?? 'mlops-ts',
        source: { name: `apps/train (train@${args.model})`, type: 'LOCAL', ...(git.commit ? { gitCommit: git.commit } : {}), ...(git.branch ? { gitBranch: git.branch } : {}) },
        log,
      });
      tracker = opened.tracker;
      close = opened.close;
      log(`tracking to MLflow at ${opened.uri}`);
    } catch (error) {
      if (!tracking.offline_fallback) throw error;
      log(`tracking server unavailable (${error instanceof Error ? error.message : String(error)}); tracking.offline_fallback is on: keeping the run on disk`);
      tracker = offline = new MemoryTracker('offline');
    }
  }

  const splits = await Promise.all([loadFeatureSplit(args.features, 'train'), loadFeatureSplit(args.features, 'valid')]).catch(async (error: unknown) => {
    await close();
    throw error;
  });
  const [train, valid] = splits;
  const meta = train.meta;
  log(`${train.rows} train / ${valid.rows} valid rows, ${train.cols} features, classes ${meta.classes.join(', ')}`);

  const pipelineRunId = process.env['MLOPS_PIPELINE_RUN_ID'] ?? `adhoc-${Date.now()}`;
  const run = await tracker.startRun({
    experiment: tracking.experiment,
    runName: args.model,
    tags: {
      [PipelineTags.model]: args.model,
      [PipelineTags.pipelineRunId]: pipelineRunId,
      [PipelineTags.dvcStage]: `train@${args.model}`,
      [PipelineTags.datasetMd5]: meta.dataMd5,
      'mlops.backend.requested': trainParams.backend,
      ...(git.dirty ? { 'mlops.git_dirty': 'true' } : {}),
    },
  });
  try {
    await run.logParams(flattenParams({ model: modelParams, train: trainParams, data: { task: meta.task, target: meta.target, features: train.cols, train_rows: train.rows, valid_rows: valid.rows } }));
    for (const [split, rows] of [['train', train.rows], ['valid', valid.rows]] as const) {
      await run.logInput({ name: `features-${split}`, digest: meta.dataMd5, source: join(args.features, `${split}.parquet`), context: split === 'train' ? 'training' : 'validation', profile: JSON.stringify({ num_rows: rows, num_features: train.cols }) });
    }
    const trained = await trainClassifier({
      name: args.model,
      model: modelParams,
      params: trainParams,
      train: { x: train.x, y: train.y, rows: train.rows, cols: train.cols },
      valid: { x: valid.x, y: valid.y, rows: valid.rows, cols: valid.cols },
      classes: meta.classes,
      log,
      onEpochEnd: (e) => {
        const step = e.epoch;
        run.logMetric({ key: 'train_loss', value: e.loss, step });
        run.logMetric({ key: 'train_accuracy', value: e.accuracy, step });
        if (e.valLoss !== undefined) run.logMetric({ key: 'valid_loss', value: e.valLoss, step });
        if (e.valAccuracy !== undefined) run.logMetric({ key: 'valid_accuracy', value: e.valAccuracy, step });
        run.logMetric({ key: 'rows_per_second', value: e.rowsPerSecond, step });
      },
    });
    const r = trained.result;
    await run.setTags({ 'mlops.backend': trained.backend.backend, 'mlops.stopped_early': String(r.stoppedEarly) });
    run.logMetric({ key: 'best_epoch', value: r.bestEpoch, step: 0 });
    run.logMetric({ key: 'train_seconds', value: r.seconds, step: 0 });

    // The model folder is assembled beside its final place and renamed in whole: no half-written models/<name>.
    const staging = `${outDir}.partial-${process.pid}`;
    await saveModelFolder(trained.model, staging, {
      name: args.model,
      classes: meta.classes,
      featureNames: meta.featureNames,
      params: modelParams,
      train: trainParams,
      backend: trained.backend.backend,
      extra: { dataMd5: meta.dataMd5, pipelineRunId },
    });
    await writeFile(join(staging, 'history.json'), JSON.stringify(r.history, null, 2) + '\n');
    await run.logArtifact(join(staging, 'history.json'), 'plots');
    const modelRef = await run.logModel(staging, { name: 'model', params: flattenParams({ model: modelParams }) });
    if (modelRef.modelId) await run.setTags({ [PipelineTags.loggedModelId]: modelRef.modelId });
    const runFile: RunFile = {
      model: args.model,
      experiment: tracking.experiment,
      pipelineRunId,
      ref: offline ? {} : run.ref,
      ...(modelRef.modelId && !offline ? { loggedModelId: modelRef.modelId } : {}),
      ...(run.url ? { url: run.url } : {}),
    };
    await writeFile(join(staging, 'run.json'), JSON.stringify(runFile, null, 2) + '\n');
    await run.end('FINISHED');
    if (offline) await writeFile(join(staging, 'offline-run.json'), JSON.stringify(offline.runs[0], null, 2) + '\n');
    await mkdir(join(outDir, '..'), { recursive: true });
    await rm(outDir, { recursive: true, force: true });
    await rename(staging, outDir);
    log(`saved ${outDir} (best epoch ${r.bestEpoch}/${r.epochsRun}, ${Math.round(r.rowsPerSecond)} rows/s on ${trained.backend.backend})${run.url ? `; run: ${run.url}` : ''}`);
    trained.model.dispose();
  } catch (error) {
    await run.end('FAILED').catch(() => undefined);
    throw error;
  } finally {
    await close();
  }
}

process.exitCode = await runStage('train', main);
