#!/usr/bin/env node
// Stage evaluate@<model>: test-split metrics and plot data for models/<model>, added to the train stage's run.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { loadFeatureSplit } from '@mlops-ts/data-prep';
import { mlflowConfigFromEnv } from '@mlops-ts/mlflow-client';
import { evaluate, loadModelFolder, selectBackend } from '@mlops-ts/model-train';
import { runStage, writeJsonAtomic } from '@mlops-ts/stage-kit';
import { openMlflowTracking, RunFileSchema } from '@mlops-ts/tracking';

const program = new Command('evaluate')
  .description('Evaluate models/<name> on the test split; write metrics/eval/<name>.json and plots/<name>/; log them to the model\'s run.')
  .requiredOption('--model <name>', 'model name (folder under --models)')
  .option('--models <dir>', 'folder of trained models', 'models')
  .option('--features <dir>', 'feature splits written by featurize', 'data/features')
  .option('--metrics <dir>', 'metrics folder', 'metrics/eval')
  .option('--plots <dir>', 'plots folder', 'plots')
  .exitOverride();

async function main(): Promise<void> {
  const args = program.parse().opts<{ model: string; models: string; features: string; metrics: string; plots: string }>();
  const log = (line: string) => process.stderr.write(`[evaluate ${args.model}] ${line}\n`);
  const modelDir = join(args.models, args.model);
  const runFileText = await readFile(join(modelDir, 'run.json'), 'utf8').catch(() => {
    throw new Error(`${modelDir}/run.json not found: run the train@${args.model} stage first`);
  });
  const runFile = RunFileSchema.parse(JSON.parse(runFileText));
  const backend = await selectBackend('auto');
  log(`backend: ${backend.backend}`);
  const { model, meta } = await loadModelFolder(modelDir);
  const test = await loadFeatureSplit(args.features, 'test');
  if (meta && meta.featureNames.join('\n') !== test.meta.featureNames.join('\n')) {
    throw new Error(`${modelDir} was trained on other features than ${args.features} holds: retrain (dvc repro)`);
  }
  const result = evaluate(model, { x: test.x, y: test.y, rows: test.rows, cols: test.cols }, test.meta.classes);
  model.dispose();
  const scalars = { rows: result.rows, accuracy: result.accuracy, precision: result.precision, recall: result.recall, f1: result.f1, roc_auc: result.rocAuc, log_loss: result.logLoss };
  log(Object.entries(scalars).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`).join(' '));

  const metricsFile = join(args.metrics, `${args.model}.json`);
  const rocFile = join(args.plots, args.model, 'roc.json');
  const confusionFile = join(args.plots, args.model, 'confusion.json');
  await writeJsonAtomic(metricsFile, { model: args.model, task: result.task, average: result.average, ...scalars, per_class: result.perClass });
  await writeJsonAtomic(rocFile, result.roc.flatMap((c) => c.fpr.map((fpr, i) => ({ class: c.positiveClass, fpr, tpr: c.tpr[i], threshold: c.thresholds[i] }))));
  await writeJsonAtomic(confusionFile, result.confusionMatrix.labels.flatMap((actual, t) => result.confusionMatrix.labels.map((predicted, p) => ({ actual, predicted, count: result.confusionMatrix.matrix[t]![p] }))));

  if (Object.keys(runFile.ref).length === 0) {
    log('the model was trained without tracking: nothing to log');
    return;
  }
  const opened = await openMlflowTracking({ config: mlflowConfigFromEnv(process.env), localDir: '.mlflow', spillDir: '.mlflow-spill', log });
  try {
    const run = await opened.tracker.resumeRun(runFile.ref);
    try {
      for (const [k, v] of Object.entries(scalars)) if (k !== 'rows') run.logMetric({ key: `test_${k}`, value: v, step: 0 });
      await run.logInput({ name: 'features-test', digest: test.meta.dataMd5, source: join(args.features, 'test.parquet'), context: 'test', profile: JSON.stringify({ num_rows: test.rows, num_features: test.cols }) });
      for (const f of [metricsFile, rocFile, confusionFile]) await run.logArtifact(f, f.startsWith(args.plots) ? 'plots' : 'eval');
      await run.end('FINISHED');
    } catch (error) {
      await run.end('FAILED').catch(() => undefined);
      throw error;
    }
    log(`logged to ${run.url ?? runFile.ref['mlflow']}`);
  } finally {
    await opened.close();
  }
}

process.exitCode = await runStage('evaluate', main);
