#!/usr/bin/env node
// Stage compare: parse, validate, call @mlops-ts/pipeline's compareModels (ranking from the DVC-versioned metrics
// files; MLflow and ClearML read to rank and cross-check the recorded runs, the champion registered (MLflow alias)
// and its ClearML task and output model tagged, the model published). A configured tracker that is down: the ranking
// is still written, then one line naming its server and exit 1 (as for any server that is down).
import { compareModels, RUN_RECORDS_DIR, STAGE_PARAMS, type OpenedRegistry } from '@mlops-ts/pipeline';
import { defineStage, StageError } from '@mlops-ts/stage-kit';
import { openTracking, trackingConfigFromEnv, type OpenedTracking } from '@mlops-ts/tracking';
import { z } from 'zod';

const CONSEQUENCE: Record<string, string> = {
  mlflow: 'not cross-checked in MLflow, no alias set',
  clearml: "not cross-checked in ClearML, the champion's task and model not tagged",
};

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
    // Each tracker opened on its own, so one that is down leaves the other to rank, cross-check and register. Compare
    // reads servers: offline_fallback (for logging runs) does not apply.
    const openRegistry = async (): Promise<OpenedRegistry> => {
      const opened: OpenedTracking[] = [];
      const unavailable: { tracker: string; error: string }[] = [];
      for (const tracker of params.tracking.trackers) {
        try {
          opened.push(await openTracking({ params: { ...params.tracking, trackers: [tracker], offline_fallback: false }, config: trackingConfigFromEnv(env), stage: 'compare', log }));
        } catch (error) {
          unavailable.push({ tracker, error: (error instanceof Error ? error.message : String(error)).split('\n')[0]! });
        }
      }
      const mlflow = opened.find((t) => t.mlflow)?.mlflow;
      const clearml = opened.find((t) => t.clearml?.client)?.clearml?.client;
      return {
        ...(mlflow ? { client: mlflow.client } : {}),
        ...(clearml ? { clearml } : {}),
        unavailable,
        close: async () => {
          await Promise.allSettled(opened.map((t) => t.close()));
        },
      };
    };
    const result = await compareModels({
      models: Object.keys(params.models),
      compare: params.compare,
      metricsDir: o.metrics,
      recordsDir: o.records,
      out: o.out,
      log,
      ...(o.register ? { openRegistry } : {}),
    });
    log(result.champion ? `champion: ${result.champion.model} (${params.compare.metric}=${result.champion.score}, baseline ${result.baseline})` : `no champion: ${result.reason}`);
    if (result.unavailable?.length) {
      throw new StageError(result.unavailable.map((u) => `${u.error}: ${o.out} is written from the metrics files; ${CONSEQUENCE[u.tracker] ?? 'not cross-checked'}`).join('\n'));
    }
  },
});

void stage.main(process.argv.slice(2), { env: process.env }).then((code) => {
  process.exitCode = code;
});
