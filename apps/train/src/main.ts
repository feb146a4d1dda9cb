#!/usr/bin/env node
// Stage train@<model>: parse, validate, call @mlops-ts/pipeline's trainModel, report.
import { join } from 'node:path';
import { modelParamsOf, nativeTfDirFromEnv, openStageTracking, RUN_RECORDS_DIR, STAGE_PARAMS, trainModel } from '@mlops-ts/pipeline';
import { defineStage, gitFacts } from '@mlops-ts/stage-kit';
import { openTracking, trackingConfigFromEnv } from '@mlops-ts/tracking';
import { z } from 'zod';

// The native TensorFlow backend built by `npm run setup -- --native-tf` (MLOPS_NATIVE_TF_DIR overrides where).
function nativeTfDirOption(env: Readonly<Record<string, string | undefined>>): { nativeTfDir?: string } {
  const dir = nativeTfDirFromEnv(env);
  return dir ? { nativeTfDir: dir } : {};
}

const stage = defineStage({
  name: 'train',
  description: 'Train one model from params.yaml (models.<name>, train) on the feature splits and track the run.',
  cli: (p) =>
    p
      .requiredOption('--model <name>', 'model name: a key of models in params.yaml')
      .option('--features <dir>', 'feature splits written by featurize', 'data/features')
      .option('--out <dir>', 'model folder (default models/<name>)')
      .option('--records <dir>', 'run records (gitignored)', RUN_RECORDS_DIR)
      .option('--no-tracking', 'train without any tracker (the run is kept in <records>/<name>.offline-run.json)'),
  args: z.object({ model: z.string().min(1), features: z.string(), out: z.string().optional(), records: z.string(), tracking: z.boolean() }),
  params: STAGE_PARAMS.train,
  label: (o) => `train ${o.model}`,
  async run({ options: o, params, paramsFile, env, log, onInterrupt }) {
    modelParamsOf(params.models, o.model, paramsFile); // a wrong name stops here, before a server is started
    const git = await gitFacts(process.cwd());
    const tracking = await openStageTracking({
      enabled: o.tracking,
      offlineFallback: params.tracking.offline_fallback,
      open: () =>
        openTracking({
          params: params.tracking,
          config: trackingConfigFromEnv(env),
          stage: `train@${o.model}`,
          entryPoint: `dvc repro train@${o.model}`,
          git,
          user: env['USER'] ?? 'mlops-ts',
          log,
        }),
      log,
    });
    log(tracking.description);
    try {
      const { offline } = tracking;
      const result = await trainModel({
        model: o.model,
        models: params.models,
        train: params.train,
        tracking: params.tracking,
        paramsFile,
        featuresDir: o.features,
        outDir: o.out ?? join('models', o.model),
        recordsDir: o.records,
        tracker: tracking.tracker,
        target: tracking.target,
        targets: tracking.targets,
        ...(tracking.lastingUrl ? { lastingUrl: tracking.lastingUrl } : {}),
        pipelineRunId: env['MLOPS_PIPELINE_RUN_ID'] ?? `adhoc-${Date.now()}`,
        git,
        log,
        onBackendNotice: (line) => {
          if (env['MLOPS_BACKEND_NOTICE_SHOWN'] !== '1') log(line);
        },
        ...nativeTfDirOption(env),
        onInterrupt,
        ...(offline ? { offlineRun: () => offline.runs[0] } : {}),
      });
      if (result.warning) log(`warning: ${result.warning}`);
      for (const note of result.notes) log(note);
      for (const [tracker, url] of Object.entries(result.record.urls ?? (result.record.url ? { mlflow: result.record.url } : {}))) {
        log(`${tracker} run: ${url}${tracker === 'mlflow' && tracking.target.kind === 'embedded' ? ' (open it with `npm run mlflow-ui`)' : ''}`);
      }
    } finally {
      await tracking.close();
    }
  },
});

void stage.main(process.argv.slice(2), { env: process.env }).then((code) => {
  process.exitCode = code;
});
