#!/usr/bin/env node
// Stage evaluate@<model>: parse, validate, call @mlops-ts/pipeline's evaluateModel (metrics and plots first, tracking after).
import { readDvcLock } from '@mlops-ts/dvc-adapter';
import { evaluateModel, RUN_RECORDS_DIR, nativeTfDirFromEnv, STAGE_PARAMS } from '@mlops-ts/pipeline';
import { defineStage, gitFacts } from '@mlops-ts/stage-kit';
import { openTracking, trackingConfigFromEnv } from '@mlops-ts/tracking';
import { z } from 'zod';

// The native TensorFlow backend built by `npm run setup -- --native-tf` (MLOPS_NATIVE_TF_DIR overrides where).
function nativeTfDirOption(env: Readonly<Record<string, string | undefined>>): { nativeTfDir?: string } {
  const dir = nativeTfDirFromEnv(env);
  return dir ? { nativeTfDir: dir } : {};
}

const stage = defineStage({
  name: 'evaluate',
  description: "Evaluate models/<name> and the majority-class baseline on the test split; write metrics/eval/<name>.json, plots/<name>/ and predictions/<name>.json; log them to the model's run.",
  cli: (p) =>
    p
      .requiredOption('--model <name>', 'model name (folder under --models)')
      .option('--models <dir>', 'folder of trained models', 'models')
      .option('--features <dir>', 'feature splits written by featurize', 'data/features')
      .option('--metrics <dir>', 'metrics folder', 'metrics/eval')
      .option('--plots <dir>', 'plots folder', 'plots')
      .option('--predictions <dir>', 'test predictions folder (read by the report stage)', 'predictions')
      .option('--records <dir>', 'run records (gitignored)', RUN_RECORDS_DIR)
      .option('--lock <file>', "dvc.lock (the model's md5, tagged on a run started when the record is missing)", 'dvc.lock')
      .option('--no-tracking', 'write the metrics and plots only'),
  args: z.object({ model: z.string().min(1), models: z.string(), features: z.string(), metrics: z.string(), plots: z.string(), predictions: z.string(), records: z.string(), lock: z.string(), tracking: z.boolean() }),
  params: STAGE_PARAMS.evaluate,
  label: (o) => `evaluate ${o.model}`,
  async run({ options: o, params, env, log }) {
    const lock = await readDvcLock(o.lock).catch(() => undefined);
    const out = lock?.stages[`train@${o.model}`]?.outs?.find((e) => e.path === `${o.models}/${o.model}`);
    const modelMd5 = typeof out?.['md5'] === 'string' ? out['md5'] : undefined;
    const git = o.tracking ? await gitFacts(process.cwd()) : {};
    const result = await evaluateModel({
      model: o.model,
      modelsDir: o.models,
      featuresDir: o.features,
      metricsDir: o.metrics,
      plotsDir: o.plots,
      predictionsDir: o.predictions,
      recordsDir: o.records,
      experiment: params.tracking.experiment,
      ...(modelMd5 ? { modelMd5 } : {}),
      log,
      onBackendNotice: (line) => {
        if (env['MLOPS_BACKEND_NOTICE_SHOWN'] !== '1') log(line);
      },
      ...nativeTfDirOption(env),
      ...(o.tracking
        ? { openTracker: () => openTracking({ params: params.tracking, config: trackingConfigFromEnv(env), stage: `evaluate@${o.model}`, entryPoint: `dvc repro evaluate@${o.model}`, git, log }) }
        : {}),
    });
    for (const note of result.notes) log(note);
  },
});

void stage.main(process.argv.slice(2), { env: process.env }).then((code) => {
  process.exitCode = code;
});
