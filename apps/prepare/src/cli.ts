import { Command } from 'commander';
import { readParamsFile } from '@mlops-ts/stage-kit';
import {
  DataParamsSchema,
  PrepareParamsSchema,
  parseParamsSection,
  runPrepare,
  type DataQuality,
  type PreparedManifest,
} from '@mlops-ts/data-prep';

export interface PrepareArgs {
  params: string;
  out: string;
  metrics: string;
}

export function parseArgs(argv: readonly string[]): PrepareArgs {
  const program = new Command('prepare')
    .description('Load, validate and clean the raw table named in params.yaml; write data-quality metrics.')
    .option('--params <file>', 'params file', 'params.yaml')
    .option('--out <dir>', 'prepared data directory', 'data/prepared')
    .option('--metrics <file>', 'data-quality metrics file', 'metrics/data_quality.json')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.parse([...argv], { from: 'user' });
  return program.opts<PrepareArgs>();
}

/** The prepare stage: params (`data`, `prepare`) → `<out>/data.parquet`, `<out>/manifest.json`, metrics. */
export async function main(argv: readonly string[], log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<{
  quality: DataQuality;
  manifest: PreparedManifest;
}> {
  const args = parseArgs(argv);
  const params = await readParamsFile(args.params);
  const data = parseParamsSection(DataParamsSchema, 'data', params['data'], args.params);
  const prepare = parseParamsSection(PrepareParamsSchema, 'prepare', params['prepare'], args.params);
  const started = Date.now();
  const result = await runPrepare({ data, prepare, outDir: args.out, metricsPath: args.metrics, onProgress: (m) => log(`[prepare] ${m}`) });
  const q = result.quality;
  log(`[prepare] done in ${((Date.now() - started) / 1000).toFixed(1)}s: ${q.rows.in} rows in, ${q.rows.out} out; metrics → ${args.metrics}`);
  return result;
}
