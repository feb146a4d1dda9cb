import { DataParamsSchema, PrepareParamsSchema, runPrepare, type DataQuality, type PreparedManifest } from '@mlops-ts/data-prep';
import { defineStage } from '@mlops-ts/stage-kit';
import { z } from 'zod';

/** The prepare stage: params (`data`, `prepare`) → `<out>/data.parquet`, `<out>/manifest.json`, data-quality metrics. */
export const stage = defineStage({
  name: 'prepare',
  description: 'Load, validate and clean the raw table named in params.yaml; write data-quality metrics.',
  cli: (p) =>
    p
      .option('--out <dir>', 'prepared data directory', 'data/prepared')
      .option('--metrics <file>', 'data-quality metrics file', 'metrics/data_quality.json'),
  args: z.object({ out: z.string(), metrics: z.string() }),
  // The same sections as @mlops-ts/pipeline's STAGE_PARAMS.prepare (tests/ checks it), without loading the training libraries.
  params: { data: DataParamsSchema, prepare: PrepareParamsSchema },
  async run({ options, params, log }): Promise<{ quality: DataQuality; manifest: PreparedManifest }> {
    const started = Date.now();
    const result = await runPrepare({ data: params.data, prepare: params.prepare, outDir: options.out, metricsPath: options.metrics, onProgress: log });
    const q = result.quality;
    log(`done in ${((Date.now() - started) / 1000).toFixed(1)}s: ${q.rows.in} rows in, ${q.rows.out} out; metrics → ${options.metrics}`);
    return result;
  },
});

/** Runs the stage in-process (tests); `log` gets each progress line. */
export function main(argv: readonly string[], log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {
  return stage.run(argv, { stderr: (s) => log(s.replace(/\n$/, '')), env: process.env });
}
