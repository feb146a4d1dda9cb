import { Command } from 'commander';
import { readParamsFile } from '@mlops-ts/stage-kit';
import {
  DataParamsSchema,
  FeaturizeParamsSchema,
  SplitParamsSchema,
  parseParamsSection,
  runFeaturize,
  type FeatureMeta,
} from '@mlops-ts/data-prep';

export interface FeaturizeArgs {
  params: string;
  in: string;
  out: string;
}

export function parseArgs(argv: readonly string[]): FeaturizeArgs {
  const program = new Command('featurize')
    .description('Split the prepared table, fit encoders and scalers on train, write feature splits and meta.json.')
    .option('--params <file>', 'params file', 'params.yaml')
    .option('--in <dir>', 'prepared data directory', 'data/prepared')
    .option('--out <dir>', 'features directory', 'data/features')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.parse([...argv], { from: 'user' });
  return program.opts<FeaturizeArgs>();
}

/** The featurize stage: params (`data.target`, `data.task`, `data.features`, `featurize`, `split`) → feature splits. */
export async function main(argv: readonly string[], log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<FeatureMeta> {
  const args = parseArgs(argv);
  const params = await readParamsFile(args.params);
  const data = parseParamsSection(DataParamsSchema, 'data', params['data'], args.params);
  const featurize = parseParamsSection(FeaturizeParamsSchema, 'featurize', params['featurize'], args.params);
  const split = parseParamsSection(SplitParamsSchema, 'split', params['split'], args.params);
  const started = Date.now();
  const meta = await runFeaturize({
    data: { target: data.target, task: data.task, features: data.features },
    featurize,
    split,
    inDir: args.in,
    outDir: args.out,
    onProgress: (m) => log(`[featurize] ${m}`),
  });
  log(
    `[featurize] done in ${((Date.now() - started) / 1000).toFixed(1)}s: ${meta.featureNames.length} features, ` +
      `train ${meta.rows.train} / valid ${meta.rows.valid} / test ${meta.rows.test} → ${args.out}`,
  );
  return meta;
}
