#!/usr/bin/env node
// Stage compare: parse, validate, call @mlops-ts/pipeline's compareModels (ranking from the DVC-versioned metrics
// files; MLflow and ClearML to cross-check the recorded runs, register the champion (MLflow alias) and tag its task).
import { compareModels, RUN_RECORDS_DIR, STAGE_PARAMS } from '@mlops-ts/pipeline';
import { defineStage } from '@mlops-ts/stage-kit';
import { openTracking, trackingConfigFromEnv } from '@mlops-ts/tracking';
import { z } from 'zod';

const stage = defineStage({
  name: 'compare',
  description: 'Rank the models in params.yaml by compare.metric from metrics/eval/*.json; register the best under compare.alias when it beats the baseline and changed.',
  cli: (p) =>
    p
      .option('--metrics <dir>', "the evaluate stage's metrics folder", 'metrics/eval')
      .option('--out <file>', 'ranking (JSON; a CSV is written beside it)', 'metrics/compare.json')
      .option('--records <dir>', 'run records (gitignored)', RUN_RECORDS_DIR)
      .option('--no-register', 'rank only'),
  args: z.object({ metrics: z.string(), out: z.string(), records: z.string(), register: z.boolean() }),
  params: STAGE_PARAMS.compare,
  async run({ options: o, params, env, log }) {
    const result = await compareModels({
      models: Object.keys(params.models),
      compare: params.compare,
      metricsDir: o.metrics,
      recordsDir: o.records,
      out: o.out,
      log,
      ...(o.register
        ? {
            openRegistry: async () => {
              const opened = await openTracking({ params: params.tracking, config: trackingConfigFromEnv(env), stage: 'compare', log });
              return { ...(opened.mlflow ? { client: opened.mlflow.client } : {}), ...(opened.clearml?.client ? { clearml: opened.clearml.client } : {}), close: () => opened.close() };
            },
          }
        : {}),
    });
    log(result.champion ? `champion: ${result.champion.model} (${params.compare.metric}=${result.champion.score}, baseline ${result.baseline})` : `no champion: ${result.reason}`);
  },
});

void stage.main(process.argv.slice(2), { env: process.env }).then((code) => {
  process.exitCode = code;
});
