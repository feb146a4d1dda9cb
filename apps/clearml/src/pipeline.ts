// `npm run clearml -- pipeline [--queue NAME] [--project P] [--name N]`: run dvc.yaml's stages as a ClearML pipeline
// (a controller task and one step task per stage, as the official SDK's PipelineController writes them). Without
// --queue the steps run here through `dvc repro --single-item`; with --queue clearml-agent workers on that queue run
// them in their checkouts of this repository at HEAD. Prints the pipeline's web UI page; Ctrl-C stops its steps.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ClearmlClient, ClearmlPipelineAbortedError } from '@mlops-ts/clearml-client';
import { runClearmlDvcPipeline } from '@mlops-ts/pipeline';
import { StageInterruptedError, StageUsageError } from '@mlops-ts/stage-kit';
import { abortOnSignals, clearmlConfigOrUsage } from './shared.js';

export interface PipelineCommandDeps {
  env: Record<string, string | undefined>;
  cwd: string;
  /** Progress lines (stderr). */
  log: (line: string) => void;
  /** The result line (stdout). */
  out: (line: string) => void;
}

const seconds = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new StageUsageError(`${flag}: not a positive number of seconds: ${v}`);
  return n;
};

/** Registers the `pipeline` verb on the `clearml` program. */
export function registerPipelineCommand(program: Command, deps: PipelineCommandDeps): void {
  program
    .command('pipeline')
    .description("Run dvc.yaml's stages as a ClearML pipeline (<project>/.pipelines/<name>): here, or on clearml-agent workers with --queue; prints the pipeline's web page.")
    .option('--queue <name>', 'enqueue the steps to this queue (clearml-agent workers run them); default: run them here')
    .option('--project <project>', 'ClearML project', 'mlops-ts')
    .option('--name <name>', 'pipeline name', 'dvc-pipeline')
    .option('--dvc-yaml <file>', 'the dvc.yaml', 'dvc.yaml')
    .option('--pickup-timeout <seconds>', 'queue mode: fail when no agent picks a step up within this time', seconds('--pickup-timeout'), 600)
    .action(async (opts: { queue?: string; project: string; name: string; dvcYaml: string; pickupTimeout: number }) => {
      const dvcYaml = resolve(deps.cwd, opts.dvcYaml);
      if (!existsSync(dvcYaml)) throw new StageUsageError(`no dvc.yaml at ${dvcYaml} (--dvc-yaml)`);
      const client = new ClearmlClient(clearmlConfigOrUsage(deps.env));
      const stop = abortOnSignals("the pipeline's steps", deps.log);
      try {
        const run = await runClearmlDvcPipeline({
          client,
          dvcYaml,
          project: opts.project,
          name: opts.name,
          ...(opts.queue ? { queue: opts.queue, pickupTimeoutMs: opts.pickupTimeout * 1000 } : {}),
          env: deps.env,
          signal: stop.signal,
          log: deps.log,
        });
        deps.log(`pipeline completed: ${run.steps.map((s) => `${s.name} ${s.status}${s.worker ? ` (${s.worker})` : ''}`).join(', ')}`);
        deps.out(run.webUrl);
      } catch (e) {
        const signal = stop.received();
        if (e instanceof ClearmlPipelineAbortedError && signal) throw new StageInterruptedError(signal);
        throw e;
      } finally {
        stop.dispose();
        await client.close();
      }
    });
}
