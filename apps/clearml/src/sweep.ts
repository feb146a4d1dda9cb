// `npm run clearml -- sweep [--queue NAME] [--model M] [--param key=v1,v2 …] [--random N --seed S] [--metric test_x]
// [--max-trials N] [--out FILE]`: a hyperparameter sweep of one model through ClearML (a template task cloned per
// point, enqueued for clearml-agent workers, the best by last_metrics), each trial a `dvc exp run` of train + evaluate
// pushed back here and an MLflow run tagged with the trial's task id. Defaults: the `sweep:` section of params.yaml.
// `sweep-trial` is what each trial task runs in the agent's checkout (not meant to be typed by hand).
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ClearmlClient, ClearmlOptimizerAbortedError, formatSweepValue } from '@mlops-ts/clearml-client';
import { planSweep, runClearmlSweep, runSweepTrial } from '@mlops-ts/pipeline';
import { readParamsFile, StageInterruptedError, StageUsageError } from '@mlops-ts/stage-kit';
import { abortOnSignals, clearmlConfigOrUsage } from './shared.js';

export interface SweepCommandDeps {
  env: Record<string, string | undefined>;
  cwd: string;
  log: (line: string) => void;
  out: (line: string) => void;
}

const positiveInt = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new StageUsageError(`${flag}: not a positive integer: ${v}`);
  return n;
};
const integer = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new StageUsageError(`${flag}: not an integer: ${v}`);
  return n;
};
const collectParam = (v: string, prev: Record<string, string>): Record<string, string> => {
  const eq = v.indexOf('=');
  if (eq <= 0 || eq === v.length - 1) throw new StageUsageError(`--param ${v}: expected key=v1,v2 (or key=min..max[:log] with --random)`);
  return { ...prev, [v.slice(0, eq).trim()]: v.slice(eq + 1) };
};

/** The tracking URI the trials get: the configured one without user:password (an agent elsewhere brings its own credentials). */
function publicUri(uri: string): string {
  try {
    const u = new URL(uri);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return uri;
  }
}

/** Registers `sweep` and `sweep-trial` on the `clearml` program. */
export function registerSweepCommand(program: Command, deps: SweepCommandDeps): void {
  program
    .command('sweep')
    .description('Sweep one model\'s params through ClearML: a template task cloned per grid/random point, run by clearml-agent workers on --queue as dvc experiments; prints the best.')
    .option('--queue <name>', 'the queue clearml-agent workers serve (required)')
    .option('--model <name>', 'the model swept (default: sweep.model)')
    .option('--param <key=values>', 'a params.yaml key and its values, comma-separated (YAML values; key=min..max[:log] for --random); repeatable; replaces sweep.space', collectParam, {} as Record<string, string>)
    .option('--random <n>', 'a random search of n trials (default: sweep.strategy)', positiveInt('--random'))
    .option('--seed <n>', 'seed of the random search (default: sweep.seed)', integer('--seed'))
    .option('--metric <name>', 'objective, a test metric (default: sweep.metric, e.g. test_roc_auc)')
    .option('--lower-is-better', 'minimise the metric (default: sweep.higher_is_better; log_loss is minimised)')
    .option('--max-trials <n>', 'run at most n of the points', positiveInt('--max-trials'))
    .option('--out <file>', 'write the result (best, every trial) as JSON here')
    .option('--project <project>', 'ClearML project (default: tracking.clearml.project, else tracking.experiment)')
    .option('--params <file>', 'the params file', 'params.yaml')
    .option('--repository <url>', 'what the agents clone (default: this repository\'s path, for agents on this machine; a URL for agents elsewhere)')
    .option('--pickup-timeout <seconds>', 'a trial no agent picks up within this time fails', positiveInt('--pickup-timeout'), 600)
    .action(async (opts: { queue?: string; model?: string; param: Record<string, string>; random?: number; seed?: number; metric?: string; lowerIsBetter?: boolean; maxTrials?: number; out?: string; project?: string; params: string; repository?: string; pickupTimeout: number }) => {
      const paramsFile = resolve(deps.cwd, opts.params);
      const dvcYaml = resolve(paramsFile, '..', 'dvc.yaml');
      if (!existsSync(paramsFile)) throw new StageUsageError(`no params file at ${paramsFile} (--params)`);
      const params = await readParamsFile(paramsFile);
      const plan = planSweep({
        params,
        paramsFile: opts.params,
        dvcYaml,
        cli: {
          ...(opts.model ? { model: opts.model } : {}),
          ...(Object.keys(opts.param).length ? { params: opts.param } : {}),
          ...(opts.random !== undefined ? { random: opts.random } : {}),
          ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
          ...(opts.metric ? { metric: opts.metric } : {}),
          ...(opts.lowerIsBetter ? { higherIsBetter: false } : {}),
          ...(opts.maxTrials !== undefined ? { maxTrials: opts.maxTrials } : {}),
        },
      });
      if (!opts.queue) throw new StageUsageError('--queue: name the queue clearml-agent workers serve (clearml-agent daemon --queue NAME); a sweep runs its trials on agents');
      const tracking = (params['tracking'] ?? {}) as { experiment?: string; clearml?: { project?: string } };
      const project = opts.project ?? tracking.clearml?.project ?? tracking.experiment ?? 'mlops-ts';
      const mlflowUri = deps.env['MLFLOW_TRACKING_URI'];
      if (!mlflowUri) deps.log('warning: MLFLOW_TRACKING_URI is not set: each trial logs to an embedded MLflow server in its agent\'s checkout (set it to a server the agents reach)');
      deps.log(`sweep of ${plan.model}: ${plan.strategy}${plan.strategy === 'random' ? ` (seed ${plan.seed})` : ''}, ${plan.points.length} trials over ${Object.keys(plan.space).join(', ')}; objective ${plan.metricKey} (${plan.objective.higherIsBetter ? 'max' : 'min'})`);
      const client = new ClearmlClient(clearmlConfigOrUsage(deps.env));
      const stop = abortOnSignals("the sweep's trials", deps.log);
      try {
        const r = await runClearmlSweep({
          client,
          plan,
          dvcYaml,
          project,
          queue: opts.queue,
          ...(opts.repository ? { repository: opts.repository } : {}),
          ...(mlflowUri ? { trialEnv: { MLFLOW_TRACKING_URI: publicUri(mlflowUri) } } : {}),
          env: deps.env,
          pickupTimeoutMs: opts.pickupTimeout * 1000,
          signal: stop.signal,
          log: deps.log,
        });
        const failed = r.trials.filter((t) => t.status !== 'completed');
        const result = {
          optimizer: r.optimizerId,
          template: r.templateId,
          url: r.webUrl,
          model: plan.model,
          metric: plan.metricKey,
          higher_is_better: plan.objective.higherIsBetter,
          best: r.best ? { task: r.best.taskId, exp: r.experiments[r.best.taskId], value: r.best.value, params: r.best.params, worker: r.best.worker } : null,
          trials: r.trials.map((t) => ({ task: t.taskId, exp: r.experiments[t.taskId], status: t.status, worker: t.worker ?? null, value: t.value ?? null, params: t.params, ...(t.reason ? { reason: t.reason } : {}) })),
        };
        if (opts.out) await writeFile(resolve(deps.cwd, opts.out), `${JSON.stringify(result, null, 2)}\n`);
        if (failed.length) deps.log(`${failed.length} of ${r.trials.length} trials did not complete: ${failed.map((t) => `${t.taskId} ${t.status}${t.reason ? ` (${t.reason})` : ''}`).join('; ')}`);
        if (!r.best) throw new Error(`no trial of the sweep completed with ${plan.metricKey} (optimizer task ${r.optimizerId})`);
        deps.out(`best: ${plan.metricKey}=${r.best.value} task ${r.best.taskId} exp ${r.experiments[r.best.taskId]} ${Object.entries(r.best.params).map(([k, v]) => `${k}=${formatSweepValue(v)}`).join(' ')}`);
        deps.log(`optimizer: ${r.webUrl}; dvc exp show lists the trials (dvc exp apply ${r.experiments[r.best.taskId]} takes the best)`);
      } catch (e) {
        const signal = stop.received();
        if (e instanceof ClearmlOptimizerAbortedError && signal) throw new StageInterruptedError(signal);
        throw e;
      } finally {
        stop.dispose();
        await client.close();
      }
    });

  program
    .command('sweep-trial')
    .description('(run by clearml-agent) one trial of a sweep: dvc exp run with this task\'s sweep hyperparameters, dvc exp push, test metrics to the task.')
    .requiredOption('--dvc <path>', 'the dvc executable')
    .option('--shared-cache <0|1>', '1: the DVC cache is the controller\'s (same machine)', '0')
    .option('--task <id>', 'the trial task (default: CLEARML_TASK_ID, set by clearml-agent)')
    .action(async (opts: { dvc: string; sharedCache: string; task?: string }) => {
      const taskId = opts.task ?? deps.env['CLEARML_TASK_ID'];
      if (!taskId) throw new StageUsageError('no trial task: clearml-agent sets CLEARML_TASK_ID (or pass --task)');
      const client = new ClearmlClient(clearmlConfigOrUsage(deps.env));
      try {
        await runSweepTrial({ client, taskId, cwd: deps.cwd, dvcBin: opts.dvc, sharedCache: opts.sharedCache === '1', env: deps.env, log: deps.out });
      } finally {
        await client.close();
      }
    });
}
