#!/usr/bin/env node
// npm run check: every stage's params sections (the schemas the stages declare, STAGE_PARAMS) and the feature columns
// against the raw table's schema, before anything runs; every problem at once, exit 2.
import { checkPipelineParams } from '@mlops-ts/pipeline';
import { defineStage, readParamsFile, StageParamsError } from '@mlops-ts/stage-kit';
import { z } from 'zod';

const stage = defineStage({
  name: 'check',
  description: "Validate every stage's params and the feature columns against the raw table's schema; list every problem at once (exit 2).",
  cli: (p) => p.option('--params <file>', 'params file', 'params.yaml').option('--no-columns', 'skip reading the raw table'),
  args: z.object({ params: z.string(), columns: z.boolean() }),
  async run({ options, log }) {
    const { problems, note } = checkPipelineParams(await readParamsFile(options.params), options.params, { columns: options.columns });
    if (problems.length > 0) throw new StageParamsError(options.params, problems);
    log(`${options.params}: the params of every stage are valid${note}`);
  },
});

void stage.main(process.argv.slice(2), { env: process.env }).then((code) => {
  process.exitCode = code;
});
