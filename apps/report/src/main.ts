#!/usr/bin/env node
// Stage report: parse, validate, call @mlops-ts/pipeline's reportModels (reports/report.html, report.md and its PNGs
// from the DVC-versioned metrics, predictions, histories and plots; dvc metrics diff / exp show when dvc answers),
// then logged to each tracker of params.yaml's tracking section as a comparison run (best effort).
import { createDvc } from '@mlops-ts/dvc-adapter';
import { reportModels, RUN_RECORDS_DIR, STAGE_PARAMS } from '@mlops-ts/pipeline';
import { defineStage, gitFacts } from '@mlops-ts/stage-kit';
import { openTracking, trackingConfigFromEnv, type TrackerName } from '@mlops-ts/tracking';
import { z } from 'zod';

const stage = defineStage({
  name: 'report',
  description: 'Write reports/report.html and reports/report.md (charts, tables, conclusions with confidence intervals) from what evaluate, train, prepare and compare wrote.',
  cli: (p) =>
    p
      .option('--metrics <dir>', "the evaluate stage's metrics folder", 'metrics/eval')
      .option('--predictions <dir>', "the evaluate stage's test predictions", 'predictions')
      .option('--plots <dir>', "the evaluate stage's plots folder", 'plots')
      .option('--models <dir>', 'trained model folders (history.json, model-meta.json, weights.bin)', 'models')
      .option('--records <dir>', 'run records (gitignored): training time and tracker links, when there are some', RUN_RECORDS_DIR)
      .option('--data-quality <file>', "the prepare stage's data-quality metrics", 'metrics/data_quality.json')
      .option('--compare <file>', "the compare stage's ranking", 'metrics/compare.json')
      .option('--lock <file>', "dvc.lock (the raw data's md5 when it has no .dvc file)", 'dvc.lock')
      .option('--html <file>', 'the HTML report', 'reports/report.html')
      .option('--markdown <file>', 'the Markdown report (its PNG charts go to report-images/ beside it)', 'reports/report.md')
      .option('--no-dvc', 'do not run dvc metrics diff / dvc exp show (those sections say "Unavailable")')
      .option('--no-tracking', 'write the report files only (no comparison run in MLflow / ClearML)'),
  args: z.object({
    metrics: z.string(),
    predictions: z.string(),
    plots: z.string(),
    models: z.string(),
    records: z.string(),
    dataQuality: z.string(),
    compare: z.string(),
    lock: z.string(),
    html: z.string().endsWith('.html'),
    markdown: z.string().endsWith('.md'),
    dvc: z.boolean(),
    tracking: z.boolean(),
  }),
  params: STAGE_PARAMS.report,
  async run({ options: o, params, env, log }) {
    const git = o.tracking ? await gitFacts(process.cwd()) : {};
    const config = o.tracking ? trackingConfigFromEnv(env) : undefined;
    await reportModels({
      models: params.models,
      report: params.report,
      dataPath: params.data.path,
      metricsDir: o.metrics,
      predictionsDir: o.predictions,
      plotsDir: o.plots,
      modelsDir: o.models,
      recordsDir: o.records,
      dataQualityFile: o.dataQuality,
      compareFile: o.compare,
      lockFile: o.lock,
      htmlFile: o.html,
      markdownFile: o.markdown,
      ...(o.dvc ? { dvc: createDvc({ cwd: process.cwd(), env }) } : {}),
      ...(config
        ? {
            tracking: {
              trackers: params.tracking.trackers,
              experiment: params.tracking.experiment,
              open: (tracker: string) =>
                openTracking({ params: { ...params.tracking, trackers: [tracker as TrackerName] }, config, stage: 'report', entryPoint: 'dvc repro report', git, log }),
            },
          }
        : {}),
      log,
    });
  },
});

void stage.main(process.argv.slice(2), { env: process.env }).then((code) => {
  process.exitCode = code;
});
