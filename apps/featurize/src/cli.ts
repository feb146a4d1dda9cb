import { DataParamsSchema, FeaturizeParamsSchema, SplitParamsSchema, runFeaturize, type FeatureMeta } from '@mlops-ts/data-prep';
import { defineStage } from '@mlops-ts/stage-kit';
import { z } from 'zod';

/** The featurize stage: params (`data.target`, `data.task`, `data.features`, `featurize`, `split`) → feature splits. */
export const stage = defineStage({
  name: 'featurize',
  description: 'Split the prepared table, fit encoders and scalers on train, write feature splits and meta.json.',
  cli: (p) => p.option('--in <dir>', 'prepared data directory', 'data/prepared').option('--out <dir>', 'features directory', 'data/features'),
  args: z.object({ in: z.string(), out: z.string() }),
  // The same sections as @mlops-ts/pipeline's STAGE_PARAMS.featurize (tests/ checks it), without loading the training libraries.
  params: { data: DataParamsSchema, featurize: FeaturizeParamsSchema, split: SplitParamsSchema },
  async run({ options, params, log }): Promise<FeatureMeta> {
    const started = Date.now();
    const { data, featurize, split } = params;
    const meta = await runFeaturize({
      data: { target: data.target, task: data.task, features: data.features },
      featurize,
      split,
      inDir: options.in,
      outDir: options.out,
      onProgress: log,
    });
    log(
      `done in ${((Date.now() - started) / 1000).toFixed(1)}s: ${meta.featureNames.length} features, ` +
        `train ${meta.rows.train} / valid ${meta.rows.valid} / test ${meta.rows.test} → ${options.out}`,
    );
    return meta;
  },
});

/** Runs the stage in-process (tests); `log` gets each progress line. */
export function main(argv: readonly string[], log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {
  return stage.run(argv, { stderr: (s) => log(s.replace(/\n$/, '')), env: process.env });
}
