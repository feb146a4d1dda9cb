/**
 * A hyperparameter sweep of one model through ClearML, each trial also a DVC experiment and an MLflow run.
 *
 * Controller side (`planSweep`, `runClearmlSweep`): the `sweep:` section of params.yaml and the command line give
 * the model, the space (params.yaml keys → values or ranges), grid or seeded random, the objective. Every point is
 * checked before anything is created on a server: its keys must be params the trial's stages (train@<model>,
 * evaluate@<model> and the stages before them in dvc.yaml) read, and params.yaml with the point applied must pass
 * the stages' own schemas (STAGE_PARAMS). Then a template task (a bash task clearml-agent runs in its checkout of
 * this repository at HEAD; hyperparameter section `sweep` = the keys with their current values, `Args` = model and
 * stages) is cloned per point by `runHyperParameterOptimizer` of `@mlops-ts/clearml-client` (the SDK's
 * HyperParameterOptimizer behaviour: clones edited, enqueued, polled, objective from `last_metrics`, an `optimizer`
 * task with the summary table).
 *
 * Agent side (`sweepTrialScript` + `runSweepTrial`): the script takes dvc and node_modules from this machine when
 * the agent runs here (else `tools/setup.sh`), then `runSweepTrial` (through `npm run clearml -- sweep-trial`) reads
 * its task's hyperparameters, runs `dvc exp run --name <exp> -S key=value … train@<model> evaluate@<model>` with
 * `MLOPS_PIPELINE_RUN_ID=<its task id>` (so the MLflow run is tagged `mlops.pipeline_run_id` = the trial's task id),
 * `dvc exp push origin <exp>` (the exp row shows in the workspace's `dvc exp show`), and reports the test metrics of
 * `metrics/eval/<model>.json` as scalars (`<metric>` / `test`) of its own task: the `last_metrics` the optimizer reads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  formatSweepValue,
  gridPoints,
  randomPoints,
  runHyperParameterOptimizer,
  type ClearmlClient,
  type OptimizerResult,
  type ParamRange,
  type SearchSpace,
  type SweepPoint,
  type SweepValue,
} from '@mlops-ts/clearml-client';
import { resolveDvcBinary } from '@mlops-ts/dvc-adapter';
import { resolveDvcYaml } from '@mlops-ts/dvc-adapter/nx-plugin';
import { StageParamsError, StageUsageError, validateSections, type ParamsProblem } from '@mlops-ts/stage-kit';
import { clearmlScalarOf } from '@mlops-ts/tracking';
import { METRIC_NAMES } from './evaluate.js';
import { allParamsSections } from './stages.js';
import { SweepParamsSchema } from './sweep-params.js';

export { SweepParamsSchema, type SweepParams } from './sweep-params.js';

/** What the command line may override. `params`: key → raw text (`0.1,0.2`, `[32],[64,32]`, `1e-4..1e-2:log`). */
export interface SweepCliOptions {
  model?: string;
  params?: Record<string, string>;
  /** Random search with this many trials. */
  random?: number;
  seed?: number;
  metric?: string;
  higherIsBetter?: boolean;
  maxTrials?: number;
}

export interface SweepPlan {
  model: string;
  strategy: 'grid' | 'random';
  seed: number;
  space: SearchSpace;
  points: SweepPoint[];
  /** `test_roc_auc` → `{ metric: 'roc_auc', variant: 'test' }` (how the trial reports it to ClearML). */
  metricKey: string;
  objective: { metric: string; variant: string; higherIsBetter: boolean };
  /** The stages a trial runs. */
  stages: string[];
  /** key → its value in params.yaml now (undefined when the key is new, e.g. a per-model train override). */
  current: Record<string, SweepValue | undefined>;
}

/** Split on commas outside brackets/quotes: `[32],[64,32]` → `[32]`, `[64,32]`. */
function splitTop(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let cur = '';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

/** One `--param key=…` value: a list (YAML scalars/flow lists), or `min..max[:log]`. */
export function parseParamSpec(key: string, text: string): ParamRange {
  const range = /^\s*(-?[\d.eE+-]+)\s*\.\.\s*(-?[\d.eE+-]+)\s*(:log)?\s*$/.exec(text);
  if (range) {
    const min = Number(range[1]);
    const max = Number(range[2]);
    if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) throw new StageUsageError(`--param ${key}=${text}: not a range min..max`);
    if (range[3] && min <= 0) throw new StageUsageError(`--param ${key}=${text}: a log range needs min > 0`);
    return { min, max, log: Boolean(range[3]) };
  }
  const parts = splitTop(text);
  if (parts.some((p) => p === '')) throw new StageUsageError(`--param ${key}=${text}: an empty value (values are separated by commas)`);
  const values = parts.map((p) => {
    try {
      return parseYaml(p) as SweepValue;
    } catch {
      throw new StageUsageError(`--param ${key}=${text}: '${p}' is not a YAML value`);
    }
  });
  return { values };
}

function lookup(doc: unknown, key: string): unknown {
  let cur: unknown = doc;
  for (const part of key.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function withValue(doc: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(doc);
  const parts = key.split('.');
  let cur: Record<string, unknown> = copy;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts.at(-1)!] = value;
  return copy;
}

/** The stages a trial of `model` runs and every stage before them (dvc.yaml's deps ↔ outs), with the params keys they read. */
function trialStages(dvcYamlPath: string, model: string): { targets: string[]; paramKeys: string[] } {
  const dir = resolve(dvcYamlPath, '..');
  const read = (rel: string): string | undefined => (existsSync(join(dir, rel)) ? readFileSync(join(dir, rel), 'utf8') : undefined);
  const text = read('dvc.yaml');
  if (text === undefined) throw new StageUsageError(`no dvc.yaml at ${dvcYamlPath}`);
  const stages = resolveDvcYaml(text, { file: dvcYamlPath, readFile: read });
  const targets = [`train@${model}`, `evaluate@${model}`];
  for (const t of targets) if (!stages.some((s) => s.name === t)) throw new StageUsageError(`dvc.yaml has no stage ${t}`);
  const overlaps = (a: string, b: string): boolean => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
  const needed = new Set(targets);
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of stages) {
      if (!needed.has(s.name)) continue;
      for (const o of stages) {
        if (needed.has(o.name) || !s.deps.some((d) => o.outs.some((out) => overlaps(d, out.path)))) continue;
        needed.add(o.name);
        grew = true;
      }
    }
  }
  const paramKeys = stages.filter((s) => needed.has(s.name)).flatMap((s) => s.params.filter((p) => p.file === 'params.yaml').flatMap((p) => p.keys ?? ['']));
  return { targets, paramKeys };
}

/**
 * The sweep's points from the `sweep` section and the command line, every one checked (keys the trial's stages read,
 * values the stages' schemas accept). Throws `StageUsageError` / `StageParamsError` (exit 2) — before any server is
 * asked anything.
 */
export function planSweep(o: { params: Record<string, unknown>; paramsFile?: string; dvcYaml: string; cli?: SweepCliOptions }): SweepPlan {
  const file = o.paramsFile ?? 'params.yaml';
  const cli = o.cli ?? {};
  const section = SweepParamsSchema.safeParse(o.params['sweep'] ?? {});
  if (!section.success) throw new StageParamsError(file, section.error.issues.map((i) => ({ key: ['sweep', ...i.path.map(String)].join('.'), message: i.message })));
  const s = section.data;
  const model = cli.model ?? s.model;
  const models = (o.params['models'] ?? {}) as Record<string, unknown>;
  if (!(model in models)) throw new StageUsageError(`model '${model}' is not in ${file} (models are: ${Object.keys(models).join(', ')})`);
  const metricKey = cli.metric ?? s.metric;
  const name = metricKey.startsWith('test_') ? metricKey.slice(5) : '';
  if (!(METRIC_NAMES as readonly string[]).includes(name)) throw new StageUsageError(`metric '${metricKey}' is not a test metric evaluate logs (${METRIC_NAMES.map((m) => `test_${m}`).join(', ')})`);
  const { metric, variant } = clearmlScalarOf(metricKey);
  // a metric named on the command line brings its own direction unless told (log_loss is minimised)
  const higherIsBetter = cli.higherIsBetter ?? (cli.metric ? undefined : s.higher_is_better) ?? name !== 'log_loss';

  // the space: the section's, with the command line's keys replacing (any --param replaces the whole section space)
  const space: SearchSpace = {};
  const fromCli = Object.entries(cli.params ?? {});
  if (fromCli.length) for (const [k, text] of fromCli) space[k] = parseParamSpec(k, text);
  else for (const [k, r] of Object.entries(s.space)) space[k] = Array.isArray(r) ? { values: r as SweepValue[] } : r;
  if (Object.keys(space).length === 0) throw new StageUsageError(`nothing to sweep: give --param key=v1,v2 or a sweep.space in ${file}`);

  const { targets, paramKeys } = trialStages(o.dvcYaml, model);
  for (const key of Object.keys(space)) {
    const read = paramKeys.some((p) => p === '' || key === p || key.startsWith(`${p}.`));
    if (!read) throw new StageUsageError(`param '${key}' is not read by ${targets.join(' / ')} or the stages before them (they read: ${[...new Set(paramKeys)].join(', ')})`);
    if (key.startsWith('models.') && key.split('.')[1] !== model) throw new StageUsageError(`param '${key}' belongs to another model than '${model}' (use models.${model}.…)`);
  }

  const strategy = cli.random !== undefined ? 'random' : s.strategy;
  const seed = cli.seed ?? s.seed;
  let points: SweepPoint[];
  try {
    points = strategy === 'random' ? randomPoints(space, cli.random ?? (s.trials || 10), seed) : gridPoints(space);
  } catch (e) {
    throw new StageUsageError((e as Error).message, { cause: e });
  }
  const cap = cli.maxTrials ?? (strategy === 'grid' ? s.trials : 0);
  if (cap && cap > 0) points = points.slice(0, cap);

  // every point must give params the stages accept
  const sections = allParamsSections();
  for (const p of points) {
    let doc = o.params;
    for (const [k, v] of Object.entries(p)) doc = withValue(doc, k, v);
    const touched = [...new Set(Object.keys(p).map((k) => k.split('.')[0]!))];
    const schemas = Object.fromEntries(touched.filter((t) => t in sections).map((t) => [t, sections[t]!]));
    try {
      validateSections(doc, schemas, file);
    } catch (e) {
      if (!(e instanceof StageParamsError)) throw e;
      const at = Object.entries(p).map(([k, v]) => `${k}=${formatSweepValue(v)}`).join(' ');
      throw new StageUsageError(`sweep point ${at}: ${e.problems.map((x: ParamsProblem) => `${x.key}: ${x.message}`).join('; ')}`, { cause: e });
    }
  }
  const current = Object.fromEntries(Object.keys(space).map((k) => [k, lookup(o.params, k) as SweepValue | undefined]));
  return { model, strategy, seed, space, points, metricKey, objective: { metric, variant, higherIsBetter }, stages: targets, current };
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
export const SWEEP_SECTION = 'sweep';
const TRIAL_SCRIPT = '.mlops-ts-sweep-trial.sh';

/**
 * The bash script of the template task (what each clone runs in the agent's checkout). `env` are exported for the
 * trial (e.g. `MLFLOW_TRACKING_URI` without credentials: an agent elsewhere brings its own).
 */
export function sweepTrialScript(o: { dvcDir: string; localDvcBin: string; cacheDir: string; nodeModules: string; env?: Record<string, string> }): string {
  return [
    '#!/usr/bin/env bash',
    '# mlops-ts: one trial of a ClearML sweep (dvc exp run of train + evaluate), run by clearml-agent in its checkout',
    'set -euo pipefail',
    'root="$(git rev-parse --show-toplevel)"',
    'gitdir="$(git rev-parse --absolute-git-dir)"',
    `cd "$root"/${shq(o.dvcDir || '.')}`,
    `printf '%s\\n' node_modules ${TRIAL_SCRIPT} >> "$gitdir/info/exclude"`,
    `if [ -x ${shq(o.localDvcBin)} ] && [ -d ${shq(o.nodeModules)} ]; then`,
    `  dvc=${shq(o.localDvcBin)}`,
    // node_modules of this machine's workspace, but the workspace packages (@mlops-ts/*) from this checkout
    `  if [ ! -e "$root/node_modules" ]; then mkdir "$root/node_modules"; for e in ${shq(o.nodeModules)}/* ${shq(o.nodeModules)}/.bin; do if [ "$(basename "$e")" != @mlops-ts ] && [ -e "$e" ]; then ln -s "$e" "$root/node_modules/"; fi; done`,
    '    mkdir "$root/node_modules/@mlops-ts"; for p in "$root"/libs/*/package.json "$root"/apps/*/package.json; do n="$(sed -n \'s/^ *"name": *"@mlops-ts\\/\\([^"]*\\)".*/\\1/p\' "$p" | head -1)"; if [ -n "$n" ]; then ln -s "$(dirname "$p")" "$root/node_modules/@mlops-ts/$n"; fi; done',
    // packages with their own node_modules (a dependency version the root does not hoist)
    `    for d in ${shq(dirname(o.nodeModules))}/libs/*/node_modules ${shq(dirname(o.nodeModules))}/apps/*/node_modules; do rel="\${d#${dirname(o.nodeModules).replace(/["$`\\]/g, '')}/}"; if [ -d "$d" ] && [ -d "$root/$(dirname "$rel")" ] && [ ! -e "$root/$rel" ]; then ln -s "$d" "$root/$rel"; fi; done; fi`,
    'elif [ -f "$root/tools/setup.sh" ]; then MLOPS_SKIP_DATA=1 bash "$root/tools/setup.sh" >&2; dvc="$root/.venv/bin/dvc"',
    'else dvc="$(command -v dvc)"; fi',
    'echo "dvc: $dvc, node $(node --version)"',
    `shared=0; if [ -d ${shq(o.cacheDir)} ]; then "$dvc" config --local cache.dir ${shq(o.cacheDir)}; shared=1; fi`,
    'git config user.email >/dev/null || git config user.email "sweep@mlops-ts.invalid"',
    'git config user.name >/dev/null || git config user.name "mlops-ts sweep"',
    ...Object.entries(o.env ?? {}).map(([k, v]) => `export ${k}=${shq(v)}`),
    `exec node --conditions=@mlops-ts/source --import tsx "$root/apps/clearml/src/main.ts" sweep-trial --dvc "$dvc" --shared-cache "$shared"`,
    '',
  ].join('\n');
}

async function git(cwd: string, args: string[]): Promise<string> {
  const r = await execa('git', args, { cwd, reject: false, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new StageUsageError(`git ${args.join(' ')} in ${cwd} failed: ${String(r.stderr).trim().split('\n').pop() ?? ''}`);
  return String(r.stdout).trim();
}

export interface ClearmlSweepOptions {
  client: ClearmlClient;
  plan: SweepPlan;
  dvcYaml: string;
  /** ClearML project of the template, the optimizer and the trials. */
  project: string;
  queue: string;
  /** What agents clone (default: this repository's path, which agents on this machine can clone). */
  repository?: string;
  /** Exported in each trial (no credentials: e.g. `MLFLOW_TRACKING_URI` stripped of user:password). */
  trialEnv?: Record<string, string>;
  dvcBin?: string;
  env?: Record<string, string | undefined>;
  pollIntervalMs?: number;
  pickupTimeoutMs?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface ClearmlSweepResult extends OptimizerResult {
  templateId: string;
  /** trial task id → its dvc experiment name. */
  experiments: Record<string, string>;
}

/** Run the plan on `queue`: the template task, then the optimizer over its clones. Nothing is created when the queue is unknown. */
export async function runClearmlSweep(o: ClearmlSweepOptions): Promise<ClearmlSweepResult> {
  const log = o.log ?? (() => {});
  const { client, plan } = o;
  if (!(await client.queues.byName(o.queue))) throw new StageUsageError(`ClearML queue '${o.queue}' does not exist on ${client.server} (start an agent with clearml-agent daemon --queue ${o.queue} --create-queue)`);
  const dvcYaml = resolve(o.dvcYaml);
  const dvcDir = resolve(dvcYaml, '..');
  const env = o.env ?? {};
  const dvcBin = await resolveDvcBinary({ cwd: dvcDir, ...(o.dvcBin ? { dvcBin: o.dvcBin } : {}), ...(env['PATH'] !== undefined ? { pathEnv: env['PATH'] } : {}) });
  const dvcBinAbs = isAbsolute(dvcBin) ? dvcBin : resolve(dvcDir, dvcBin);
  const root = await git(dvcDir, ['rev-parse', '--show-toplevel']);
  const commit = await git(root, ['rev-parse', 'HEAD']);
  const branch = await git(root, ['rev-parse', '--abbrev-ref', 'HEAD']);
  const dirty = (await git(root, ['status', '--porcelain', '--untracked-files=no'])).split('\n').filter((l) => l.trim());
  if (dirty.length) log(`warning: uncommitted changes (${dirty.map((l) => l.slice(3)).join(', ')}): the trials run commit ${commit.slice(0, 10)} without them`);
  const cacheOut = await execa(dvcBin, ['cache', 'dir'], { cwd: dvcDir, reject: false, stdin: 'ignore' });
  const cacheDir = String(cacheOut.stdout).trim().split('\n').pop() || join(dvcDir, '.dvc', 'cache');
  await mkdir(cacheDir, { recursive: true });
  const repository = o.repository ?? root;
  const rel = relative(root, dvcDir).split('\\').join('/');
  const script = sweepTrialScript({ dvcDir: rel, localDvcBin: dvcBinAbs, cacheDir, nodeModules: join(root, 'node_modules'), ...(o.trialEnv ? { env: o.trialEnv } : {}) });

  const defaults = Object.fromEntries(Object.entries(plan.current).map(([k, v]) => [k, v === undefined ? '' : formatSweepValue(v)]));
  const template = await client.tasks.create({
    name: `sweep ${plan.model}`,
    project: o.project,
    type: 'training',
    tags: ['sweep-template'],
    comment: `template of a sweep: dvc exp run ${plan.stages.join(' ')} with the ${SWEEP_SECTION} hyperparameters as -S key=value`,
    script: { binary: '/bin/bash', repository, ...(branch !== 'HEAD' ? { branch } : {}), commit, workingDir: rel || '.', entryPoint: TRIAL_SCRIPT, diff: script },
    hyperparams: { [SWEEP_SECTION]: defaults, Args: { model: plan.model, stages: plan.stages.join(' '), metric: plan.metricKey, git_remote: 'origin' } },
  });
  log(`template task ${template.id} (sweep ${plan.model}); agents check out ${repository} at ${commit.slice(0, 10)}`);
  const experiments: Record<string, string> = {};
  const result = await runHyperParameterOptimizer({
    client,
    templateId: template.id,
    points: plan.points,
    section: SWEEP_SECTION,
    objective: plan.objective,
    queue: o.queue,
    general: { strategy: plan.strategy, seed: plan.seed, model: plan.model, metric: plan.metricKey },
    extraHyperparams: (index, _name, optimizerId) => ({ Args: { model: plan.model, stages: plan.stages.join(' '), metric: plan.metricKey, git_remote: 'origin', exp_name: `sweep-${optimizerId.slice(0, 8)}-${index + 1}` } }),
    onTrialCreated: (trial, hp) => {
      experiments[trial] = String(hp['Args']?.['exp_name'] ?? '');
    },
    ...(o.pollIntervalMs !== undefined ? { pollIntervalMs: o.pollIntervalMs } : {}),
    ...(o.pickupTimeoutMs !== undefined ? { pickupTimeoutMs: o.pickupTimeoutMs } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    log,
  });
  return { ...result, templateId: template.id, experiments };
}

const argsSchema = z.object({ model: z.string().min(1), stages: z.string().min(1), exp_name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/), git_remote: z.string().default('origin') }).loose();

export interface SweepTrialOptions {
  client: ClearmlClient;
  /** The trial's task (clearml-agent sets CLEARML_TASK_ID). */
  taskId: string;
  /** The folder of dvc.yaml in the agent's checkout. */
  cwd: string;
  dvcBin: string;
  /** The DVC cache is the controller's (same machine): `dvc checkout` / `exp push --no-cache`; else `dvc pull` / push the cache. */
  sharedCache: boolean;
  env: Record<string, string | undefined>;
  log?: (line: string) => void;
}

/** Agent side: run this trial's `dvc exp run`, push it, report its test metrics to its task. Returns the metrics. */
export async function runSweepTrial(o: SweepTrialOptions): Promise<{ exp: string; metrics: Record<string, number> }> {
  const log = o.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const hp = await o.client.tasks.getHyperParams(o.taskId);
  const args = argsSchema.parse(hp['Args'] ?? {});
  const point = hp[SWEEP_SECTION] ?? {};
  const env = { ...Object.fromEntries(Object.entries(o.env).filter((e): e is [string, string] => e[1] !== undefined)), MLOPS_PIPELINE_RUN_ID: o.taskId, MLOPS_DVC_BIN: o.dvcBin };
  const dvc = async (argv: string[]): Promise<void> => {
    log(`$ dvc ${argv.join(' ')}`);
    const r = await execa(o.dvcBin, argv, { cwd: o.cwd, env, reject: false, stdin: 'ignore', stdout: 'inherit', stderr: 'inherit' });
    if (r.exitCode !== 0) throw new Error(`dvc ${argv[0]} ${argv[1] ?? ''} exited ${r.exitCode ?? 'on a signal'}`);
  };
  if (o.sharedCache) await dvc(['checkout', '--allow-missing']).catch(() => log('dvc checkout: some outputs are not in the cache (the trial reproduces them)'));
  else await dvc(['pull', '--allow-missing']).catch(() => log('dvc pull: some outputs are not in the remote (the trial reproduces them)'));
  const sets = Object.entries(point).flatMap(([k, v]) => ['-S', `${k}=${v}`]);
  await dvc(['exp', 'run', '--name', args.exp_name, ...sets, ...args.stages.split(/\s+/)]);
  await dvc(['exp', 'push', ...(o.sharedCache ? ['--no-cache'] : []), args.git_remote, args.exp_name]);
  const file = join(o.cwd, 'metrics', 'eval', `${args.model}.json`);
  const doc = z.record(z.string(), z.unknown()).parse(JSON.parse(await readFile(file, 'utf8')));
  const metrics: Record<string, number> = {};
  for (const m of METRIC_NAMES) if (typeof doc[m] === 'number') metrics[m] = doc[m];
  const events = Object.entries(metrics).map(([metric, value]) => ({ type: 'training_stats_scalar', task: o.taskId, timestamp: Date.now(), iter: 0, metric, variant: 'test', value }));
  await o.client.transport.call('events.add_batch', events, z.unknown(), { jsonLines: true });
  log(`trial ${o.taskId}: dvc exp ${args.exp_name} pushed to ${args.git_remote}; ${Object.entries(metrics).map(([k, v]) => `test_${k}=${v.toFixed(4)}`).join(' ')}`);
  return { exp: args.exp_name, metrics };
}
