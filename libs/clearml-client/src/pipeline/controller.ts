/**
 * A ClearML pipeline controller over a DAG of steps, written the way the official SDK's `PipelineController`
 * writes one (see `dag.ts` for the `Pipeline` configuration):
 * - the controller task: type `controller`, system tag `pipeline`, in the hidden project
 *   `<project>/.pipelines/<name>` (system tags `pipeline`, `hidden`; its parent `<project>/.pipelines` `hidden`),
 *   hyperparameter section `pipeline` (`default_queue`, `add_pipeline_tags`, `target_project`), `Args` (the
 *   pipeline's arguments), `properties/version`, runtime properties `_pipeline_hash` (`<hash>:<version>`) and
 *   `version`; the configuration object `Pipeline` rewritten at every state change;
 * - one task per step, created when the step's parents are done, in the same project (the SDK's
 *   `target_project=True`), named as the step, `parent` = the controller, the step's params as hyperparameters,
 *   tag `pipe: <controller id>` when `addPipelineTags` (the SDK's `add_pipeline_tags`);
 * - after a step: its artifacts (outs, metrics, plots) uploaded to the step task.
 *
 * Modes: `local` runs each step through a callback here (independent steps concurrently, up to `concurrency`);
 * `queue` enqueues each step task (a script clearml-agent runs) and polls the statuses; steps with no dependency
 * between them are enqueued together, so two agents on the queue run them in parallel.
 * A failed step fails itself and the controller; running steps are stopped, later ones marked skipped.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { zipSync } from 'fflate';
import { z } from 'zod';
import type { ClearmlClient } from '../client.js';
import { ClearmlApiError } from '../errors.js';
import type { HyperParamSections, ScriptInfo } from '../api/tasks.js';
import type { TaskStatus } from '../api/schemas.js';
import { type NodeState, type PipelineNodeStatus, type PipelineStep, type ResolvedPipelineStep, executionFlowFigure, pipelineConfig, validateDag } from './dag.js';
import {
  ClearmlPipelineAbortedError,
  ClearmlPipelineError,
  ClearmlPipelinePickupTimeoutError,
  ClearmlPipelineQueueError,
  ClearmlPipelineStepError,
} from './errors.js';

/** What a local step run gives back. */
export interface LocalStepResult {
  /** `cached`: nothing had to run (up to date). */
  status: 'completed' | 'cached' | 'failed';
  /** The step's output lines; written to the step task's console (the last `logTailLines` of a failed step). */
  output?: string[];
  /** Why it failed (one line). */
  message?: string;
}
export interface LocalStepContext {
  taskId: string;
  /** Fires when the pipeline is aborted: stop the step's process. */
  signal: AbortSignal;
  /** A progress line (also sent to the step task's console). */
  log: (line: string) => void;
}
export type RunStep = (step: ResolvedPipelineStep, ctx: LocalStepContext) => Promise<LocalStepResult>;

export type PipelineMode =
  | { kind: 'local'; runStep: RunStep; /** Steps run at once at most (default 2). */ concurrency?: number }
  | {
      kind: 'queue';
      /** Queue name; it must exist (an unknown queue is a {@link ClearmlPipelineQueueError}). */
      queue: string;
      /** Status poll interval (default 1000 ms). */
      pollIntervalMs?: number;
      /** A step still queued after this long fails the pipeline with {@link ClearmlPipelinePickupTimeoutError} (default 10 min). */
      pickupTimeoutMs?: number;
      /** How long a stopped step may take to report `stopped` before it is forced (default 20 s). */
      stopTimeoutMs?: number;
    };

export interface RunPipelineOptions {
  client: ClearmlClient;
  /** The pipeline goes to `<project>/.pipelines/<name>`. */
  project: string;
  /** Pipeline name (the controller task's name and the pipeline's project). */
  name: string;
  steps: readonly PipelineStep[];
  mode: PipelineMode;
  /** Pipeline version (runtime `version`, `properties/version`; default `1.0.0`). */
  version?: string;
  /** The controller's `Args` section. */
  args?: Record<string, string | number | boolean | null>;
  /** Tags of the controller task. */
  tags?: string[];
  /** Tag each step task `pipe: <controller id>` (the SDK's `add_pipeline_tags`; default false, as the SDK). */
  addPipelineTags?: boolean;
  /** Where step artifact paths are relative to (default: the current directory of the caller, which must pass it). */
  artifactsRoot: string;
  /** When a step is ready: `true` (or a reason) = up to date, mark it cached without running it. */
  isUpToDate?: (step: ResolvedPipelineStep) => Promise<boolean | string>;
  /** After a step completed in queue mode or locally, before its artifacts are uploaded (e.g. bring its outputs here). */
  afterStep?: (step: ResolvedPipelineStep, ctx: { taskId: string; status: 'completed' | 'cached'; log: (line: string) => void }) => Promise<void>;
  /** Queue mode: the script of a step, asked when it is launched (default: `step.script`). */
  scriptFor?: (step: ResolvedPipelineStep) => Promise<ScriptInfo>;
  /** Abort (Ctrl-C): running steps are stopped, queued ones dequeued, the controller marked stopped. */
  signal?: AbortSignal;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Lines of a failed step's output kept in its console and its error (default 40). */
  logTailLines?: number;
}

export interface PipelineStepResult {
  name: string;
  taskId: string | undefined;
  status: PipelineNodeStatus;
  /** The agent that ran it (queue mode). */
  worker: string | undefined;
}
export interface PipelineRunResult {
  controllerId: string;
  projectId: string;
  /** The pipeline's page in the web UI (`/pipelines/<project>/experiments/<controller>`), as the SDK prints it. */
  webUrl: string;
  status: 'completed';
  steps: PipelineStepResult[];
}

const CONFIG_SECTION = 'Pipeline';
const PIPELINE_TAG = 'pipeline';
const PROJECT_SECTION = '.pipelines';
const DEFAULT_VERSION = '1.0.0';
const CONSOLE_WORKER = 'mlops-ts-pipeline';
const FINAL: ReadonlySet<string> = new Set(['completed', 'failed', 'stopped', 'closed', 'published']);

const pollTaskSchema = z.object({
  tasks: z.array(
    z
      .object({
        id: z.string(),
        status: z.string().nullish(),
        status_message: z.string().nullish(),
        status_reason: z.string().nullish(),
        last_worker: z.string().nullish(),
        started: z.string().nullish(),
        completed: z.string().nullish(),
      })
      .loose(),
  ),
});
const logEventsSchema = z.object({ events: z.array(z.object({ msg: z.string().nullish(), timestamp: z.number().nullish() }).loose()), total: z.number().nullish() }).loose();
const workersSchema = z.object({ workers: z.array(z.object({ id: z.string(), queues: z.array(z.object({ id: z.string().nullish(), name: z.string().nullish() }).loose()).nullish() }).loose()) }).loose();

/** The project a pipeline named `name` of `project` lives in (the SDK's `<project>/.pipelines/<name>`). */
export function pipelineProjectName(project: string, name: string): string {
  return `${project.replace(/\/+$/, '')}/${PROJECT_SECTION}/${name}`;
}

/** The pipeline's page in the web UI, as the SDK prints it ("ClearML pipeline page: …"). */
export function pipelineWebUrl(client: ClearmlClient, projectId: string, controllerId: string): string {
  return `${client.transport.config.webHost}/pipelines/${projectId}/experiments/${controllerId}`;
}

/** All console lines of a task, oldest first (`events.get_task_log`). */
export async function readTaskLog(client: ClearmlClient, taskId: string, opts: { maxEvents?: number } = {}): Promise<string[]> {
  const r = await client.transport.call('events.get_task_log', { task: taskId, batch_size: opts.maxEvents ?? 5000, navigate_earlier: false, order: 'asc' }, logEventsSchema);
  return r.events.flatMap((e) => (e.msg ?? '').split('\n'));
}

/** Write lines to a task's console (one `log` event, as the SDK batches stdout). */
export async function writeTaskConsole(client: ClearmlClient, taskId: string, lines: readonly string[], level: 'info' | 'error' | 'warning' = 'info'): Promise<void> {
  if (lines.length === 0) return;
  await client.transport.call(
    'events.add_batch',
    [{ type: 'log', task: taskId, timestamp: Date.now(), level, worker: CONSOLE_WORKER, msg: lines.join('\n') }],
    z.unknown(),
    { jsonLines: true },
  );
}

/**
 * Run a pipeline: create its controller and step tasks, run the steps (locally or through a queue), keep the
 * `Pipeline` configuration and the statuses current. Resolves when every step completed (or was cached); throws a
 * {@link ClearmlPipelineError} subclass (with `controllerId`) when a step failed, no agent picked one up, the queue
 * is unknown or the run was aborted — the controller task is then `failed` (aborted: `stopped`) and nothing it
 * started is left running or queued.
 */
export async function runClearmlPipeline(opts: RunPipelineOptions): Promise<PipelineRunResult> {
  const steps = validateDag(opts.steps);
  const { client } = opts;
  const log = opts.log ?? (() => {});
  const tailLines = opts.logTailLines ?? 40;
  const version = opts.version ?? DEFAULT_VERSION;
  const queueName = opts.mode.kind === 'queue' ? opts.mode.queue : undefined;

  // projects as the SDK makes them: <project>/.pipelines hidden, <project>/.pipelines/<name> pipeline + hidden
  await client.projects.getOrCreate(opts.project);
  await client.projects.getOrCreate({ name: `${opts.project.replace(/\/+$/, '')}/${PROJECT_SECTION}`, systemTags: ['hidden'] });
  const project = await client.projects.getOrCreate({ name: pipelineProjectName(opts.project, opts.name), systemTags: [PIPELINE_TAG, 'hidden'] });

  const states = new Map<string, NodeState & { worker?: string; queuedAt?: number; stopRequested?: number }>(steps.map((s) => [s.name, { status: 'pending' }]));
  const controller = await client.tasks.create({
    name: opts.name,
    projectId: project.id,
    type: 'controller',
    systemTags: [PIPELINE_TAG],
    ...(opts.tags ? { tags: opts.tags } : {}),
    hyperparams: {
      pipeline: { default_queue: queueName ?? '', add_pipeline_tags: opts.addPipelineTags ? 'True' : 'False', target_project: 'True' },
      ...(opts.args && Object.keys(opts.args).length ? { Args: opts.args } : {}),
      properties: { version },
    },
  });
  const controllerId = controller.id;
  const webUrl = pipelineWebUrl(client, project.id, controllerId);
  await client.tasks.started(controllerId);
  const dagHash = createHash('md5').update(JSON.stringify(steps.map((s) => [s.name, s.parents, s.params]))).digest('hex');
  await client.transport.call('tasks.edit', { task: controllerId, runtime: { _pipeline_hash: `${dagHash}:${version}`, version }, force: true }, z.unknown());

  let lastConfig = '';
  const writeConfig = async (): Promise<void> => {
    const text = JSON.stringify(pipelineConfig(steps, states, { queue: queueName }), null, 2);
    if (text === lastConfig) return;
    lastConfig = text;
    await client.tasks.setConfiguration(controllerId, { [CONFIG_SECTION]: { value: text, type: 'dictionary', description: `pipeline state: ${createHash('md5').update(text).digest('hex')}` } });
  };
  await writeConfig();
  log(`pipeline '${opts.name}': controller ${controllerId}, ${steps.length} steps${queueName ? ` on queue '${queueName}'` : ' run here'}`);
  log(`ClearML pipeline page: ${webUrl}`);
  await writeTaskConsole(client, controllerId, [`ClearML pipeline page: ${webUrl}`]);

  const note = (line: string): void => {
    log(line);
    consoleLines.push(line);
  };
  const consoleLines: string[] = [];
  const flushConsole = async (): Promise<void> => {
    const lines = consoleLines.splice(0);
    await writeTaskConsole(client, controllerId, lines).catch(() => {});
  };

  const finishController = async (how: 'completed' | 'failed' | 'stopped', reason?: string): Promise<void> => {
    for (const s of steps) {
      const st = states.get(s.name)!;
      if (st.status === 'pending') st.status = 'skipped';
    }
    await writeConfig().catch(() => {});
    // the SDK's execution-flow plot on the controller (Plots tab), in the final states
    await client.transport
      .call('events.add_batch', [{ type: 'plot', task: controllerId, timestamp: Date.now(), iter: 0, metric: 'Pipeline', variant: 'Execution Flow', plot_str: JSON.stringify(executionFlowFigure(steps, states)) }], z.unknown(), { jsonLines: true })
      .catch(() => {});
    await flushConsole();
    if (how === 'completed') await client.tasks.completed(controllerId, { force: true });
    else if (how === 'failed') await client.tasks.failed(controllerId, { force: true, reason: reason ?? 'Pipeline step failed', message: reason?.slice(0, 250) });
    else await client.tasks.stopped(controllerId, { force: true, message: 'Pipeline aborted' });
  };

  let queueId: string | undefined;
  if (opts.mode.kind === 'queue') {
    const q = await client.queues.byName(opts.mode.queue);
    if (!q) {
      const known = await client.transport.call('queues.get_all', { only_fields: ['name'] }, z.object({ queues: z.array(z.object({ name: z.string() }).loose()) }).loose()).then((r) => r.queues.map((x) => x.name)).catch(() => []);
      const err = new ClearmlPipelineQueueError({ queue: opts.mode.queue, server: client.server, controllerId, known });
      note(err.message);
      await finishController('failed', err.message);
      throw err;
    }
    queueId = q.id;
  }

  const nowSec = (): number => Date.now() / 1000;
  const aborter = new AbortController();
  const onAbort = (): void => aborter.abort();
  const aborted = abortPromise(aborter.signal);
  if (opts.signal?.aborted) aborter.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  /** Create the step's task (parent = controller, params, script). */
  const createStepTask = async (step: ResolvedPipelineStep, script: ScriptInfo | undefined): Promise<string> => {
    const hp: HyperParamSections = Object.keys(step.params).length ? { [step.paramsSection]: step.params } : {};
    const task = await client.tasks.create({
      name: step.name,
      projectId: project.id,
      type: step.type,
      parent: controllerId,
      ...(opts.addPipelineTags ? { tags: [`pipe: ${controllerId}`] } : {}),
      ...(step.description ? { comment: step.description } : {}),
      ...(script ? { script } : {}),
      hyperparams: hp,
    });
    return task.id;
  };

  const uploadArtifacts = async (step: ResolvedPipelineStep, taskId: string): Promise<void> => {
    for (const a of step.artifacts) {
      const abs = resolve(opts.artifactsRoot, a.path);
      const info = await stat(abs).catch(() => undefined);
      if (!info) {
        note(`step '${step.name}': ${a.kind} ${a.path} not found after the step: not uploaded`);
        continue;
      }
      const name = a.path.replace(/\//g, '_');
      if (info.isDirectory()) {
        const files: Record<string, Uint8Array> = {};
        for (const f of await listFiles(abs)) files[relative(abs, f).split('\\').join('/')] = await readFile(f);
        await client.artifacts.upload(taskId, name, { bytes: zipSync(files), filename: `${name}.zip` }, { preview: `${a.kind} ${a.path}/ (${Object.keys(files).length} files, zipped)` });
      } else {
        await client.artifacts.upload(taskId, name, { file: abs }, { preview: `${a.kind} ${a.path} - ${info.size} bytes` });
      }
    }
    if (step.artifacts.length) log(`step '${step.name}': ${step.artifacts.length} artifact${step.artifacts.length === 1 ? '' : 's'} uploaded`);
  };

  /** Mark a step cached: its task completed at once, nothing run. */
  const markCached = async (step: ResolvedPipelineStep, reason: string): Promise<void> => {
    const st = states.get(step.name)!;
    const taskId = await createStepTask(step, undefined);
    st.taskId = taskId;
    await client.tasks.started(taskId);
    await writeTaskConsole(client, taskId, [`${step.name}: ${reason}; not run again`]);
    await opts.afterStep?.(step, { taskId, status: 'cached', log: note });
    await uploadArtifacts(step, taskId);
    await client.tasks.completed(taskId, { message: 'cached' });
    await client.tasks.updateSystemTags(taskId, { add: ['cached'] }).catch(() => {});
    st.status = 'cached';
    st.executed = taskId;
    st.jobStarted = st.jobEnded = nowSec();
    note(`step '${step.name}': up to date (${reason}), cached`);
  };

  let failure: ClearmlPipelineError | undefined;
  const running = new Map<string, Promise<void>>();
  const concurrency = opts.mode.kind === 'local' ? Math.max(1, opts.mode.concurrency ?? 2) : Number.POSITIVE_INFINITY;

  const failStep = async (step: ResolvedPipelineStep, taskId: string, reason: string, output: string[], alreadyFailed: boolean): Promise<void> => {
    const st = states.get(step.name)!;
    const tail = output.slice(-tailLines);
    if (!alreadyFailed) {
      await writeTaskConsole(client, taskId, [`--- ${step.name} failed: ${reason}; last ${tail.length} lines of its output:`, ...tail], 'error').catch(() => {});
      await client.tasks.failed(taskId, { force: true, reason: reason.slice(0, 250) }).catch(() => {});
    }
    st.status = 'failed';
    st.jobEnded = nowSec();
    if (!failure) failure = new ClearmlPipelineStepError({ step: step.name, taskId, reason, logTail: tail, controllerId });
    note(`step '${step.name}' failed: ${reason}`);
  };

  /** Local mode: run one step here. */
  const runLocal = async (step: ResolvedPipelineStep, runStep: RunStep): Promise<void> => {
    const st = states.get(step.name)!;
    const taskId = await createStepTask(step, step.script);
    st.taskId = taskId;
    await client.tasks.started(taskId);
    st.status = 'running';
    st.jobStarted = nowSec();
    await writeConfig();
    note(`step '${step.name}': running (task ${taskId})`);
    const progress: string[] = [];
    let result: LocalStepResult;
    try {
      result = await runStep(step, { taskId, signal: aborter.signal, log: (l) => { progress.push(l); log(`  ${step.name}: ${l}`); } });
    } catch (e) {
      result = { status: 'failed', message: (e as Error).message, output: [] };
    }
    const output = [...progress, ...(result.output ?? [])];
    if (aborter.signal.aborted && result.status === 'failed') {
      await writeTaskConsole(client, taskId, output.slice(-tailLines)).catch(() => {});
      await client.tasks.stopped(taskId, { force: true, message: 'Pipeline aborted' }).catch(() => {});
      st.status = 'aborted';
      st.jobEnded = nowSec();
      return;
    }
    if (result.status === 'failed') return failStep(step, taskId, result.message ?? 'the step failed', output, false);
    await writeTaskConsole(client, taskId, output.length > 2000 ? [`(${output.length - 2000} earlier lines left out)`, ...output.slice(-2000)] : output);
    await opts.afterStep?.(step, { taskId, status: result.status, log: note });
    await uploadArtifacts(step, taskId);
    await client.tasks.completed(taskId, { force: true, ...(result.status === 'cached' ? { message: 'cached' } : {}) });
    st.status = result.status;
    st.executed = taskId;
    st.jobEnded = nowSec();
    note(`step '${step.name}': ${result.status}`);
  };

  /** Queue mode: create + enqueue one step. */
  const enqueueStep = async (step: ResolvedPipelineStep): Promise<void> => {
    const st = states.get(step.name)!;
    const script = opts.scriptFor ? await opts.scriptFor(step) : step.script;
    const taskId = await createStepTask(step, script);
    st.taskId = taskId;
    await client.tasks.enqueue(taskId, { id: queueId! });
    st.status = 'queued';
    st.queuedAt = Date.now();
    note(`step '${step.name}': queued on '${queueName}' (task ${taskId})`);
  };

  const stopAll = async (why: string): Promise<string[]> => {
    const stopped: string[] = [];
    for (const s of steps) {
      const st = states.get(s.name)!;
      if (!st.taskId || (st.status !== 'queued' && st.status !== 'running')) continue;
      stopped.push(s.name);
      try {
        await client.tasks.stop(st.taskId, { force: true, reason: why });
      } catch (e) {
        if (!(e instanceof ClearmlApiError)) throw e;
      }
      st.stopRequested = Date.now();
    }
    if (opts.mode.kind === 'queue') {
      // an agent-run step reports `stopped` itself (status message 'stopping' until then); force it after a while
      const deadline = Date.now() + (opts.mode.stopTimeoutMs ?? 20_000);
      for (;;) {
        const ids = stopped.map((n) => states.get(n)!.taskId!);
        if (ids.length === 0) break;
        const r = await client.transport.call('tasks.get_all', { id: ids, only_fields: ['id', 'status'], search_hidden: true }, pollTaskSchema);
        const open = r.tasks.filter((t) => !FINAL.has(t.status ?? ''));
        if (open.length === 0) break;
        if (Date.now() > deadline) {
          for (const t of open) await client.tasks.stopped(t.id, { force: true, message: why }).catch(() => {});
          break;
        }
        await sleep(500);
      }
    } else {
      await Promise.allSettled([...running.values()]);
    }
    for (const n of stopped) {
      const st = states.get(n)!;
      if (st.status === 'queued' || st.status === 'running') {
        st.status = 'aborted';
        st.jobEnded = nowSec();
      }
    }
    return stopped;
  };

  try {
    for (;;) {
      if (aborter.signal.aborted) {
        note('pipeline aborted: stopping its steps');
        const stopped = await stopAll('Pipeline aborted');
        await finishController('stopped');
        throw new ClearmlPipelineAbortedError({ stopped, controllerId });
      }
      if (failure) {
        const stopped = await stopAll('Pipeline step failed');
        if (stopped.length) note(`stopped ${stopped.join(', ')} (a step failed)`);
        await finishController('failed', failure.message);
        throw failure;
      }
      // launch what is ready
      const ready = steps.filter((s) => states.get(s.name)!.status === 'pending' && s.parents.every((p) => ['completed', 'cached'].includes(states.get(p)!.status)));
      let launched = false;
      for (const step of ready) {
        if (running.size >= concurrency) break;
        const upToDate = opts.isUpToDate ? await opts.isUpToDate(step) : false;
        if (upToDate) {
          await markCached(step, typeof upToDate === 'string' ? upToDate : 'up to date');
          launched = true;
          continue;
        }
        if (opts.mode.kind === 'local') {
          const runStep = opts.mode.runStep;
          states.get(step.name)!.status = 'running';
          const p = runLocal(step, runStep)
            .catch(async (e: unknown) => {
              const st = states.get(step.name)!;
              if (st.taskId) await failStep(step, st.taskId, (e as Error).message, [], false);
              else if (!failure) failure = e instanceof ClearmlPipelineError ? e : new ClearmlPipelineError(`step '${step.name}': ${(e as Error).message}`, { controllerId }, { cause: e });
            })
            .finally(() => running.delete(step.name));
          running.set(step.name, p);
        } else {
          await enqueueStep(step);
        }
        launched = true;
      }
      if (launched) await writeConfig();
      const active = steps.filter((s) => ['queued', 'running'].includes(states.get(s.name)!.status));
      if (active.length === 0 && running.size === 0) {
        if (launched) continue;
        break;
      }
      if (opts.mode.kind === 'local') {
        await Promise.race([...running.values(), aborted]);
      } else {
        await Promise.race([sleep(opts.mode.pollIntervalMs ?? 1000), aborted]);
        if (aborter.signal.aborted) continue;
        await pollQueue(active);
      }
      await writeConfig();
      await flushConsole();
    }
    await finishController('completed');
    log(`pipeline '${opts.name}' completed: ${steps.map((s) => `${s.name} ${states.get(s.name)!.status}`).join(', ')}`);
    return {
      controllerId,
      projectId: project.id,
      webUrl,
      status: 'completed',
      steps: steps.map((s) => ({ name: s.name, taskId: states.get(s.name)!.taskId, status: states.get(s.name)!.status, worker: states.get(s.name)!.worker })),
    };
  } catch (e) {
    if (e instanceof ClearmlPipelineError) throw e;
    // an unexpected error (server, callback): leave nothing running, fail the controller, rethrow
    await stopAll('Pipeline controller error').catch(() => {});
    await finishController('failed', (e as Error).message).catch(() => {});
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }

  async function pollQueue(active: ResolvedPipelineStep[]): Promise<void> {
    const mode = opts.mode as Extract<PipelineMode, { kind: 'queue' }>;
    const ids = active.map((s) => states.get(s.name)!.taskId!);
    const r = await client.transport.call(
      'tasks.get_all',
      { id: ids, only_fields: ['id', 'status', 'status_message', 'status_reason', 'last_worker', 'started', 'completed'], search_hidden: true },
      pollTaskSchema,
    );
    const byId = new Map(r.tasks.map((t) => [t.id, t]));
    for (const step of active) {
      const st = states.get(step.name)!;
      const t = byId.get(st.taskId!);
      if (!t) continue;
      const status = (t.status ?? 'unknown') as TaskStatus;
      if (t.last_worker) st.worker = t.last_worker;
      if (status === 'in_progress' && st.status === 'queued') {
        st.status = 'running';
        st.jobStarted = t.started ? Date.parse(t.started) / 1000 : nowSec();
        note(`step '${step.name}': running on ${t.last_worker ?? 'an agent'}`);
      } else if (status === 'queued' && st.queuedAt !== undefined && Date.now() - st.queuedAt > (mode.pickupTimeoutMs ?? 600_000)) {
        const waitedMs = Date.now() - st.queuedAt;
        const workers = await queueWorkers();
        await client.tasks.dequeue(st.taskId!, { force: true }).catch(() => {});
        const err = new ClearmlPipelinePickupTimeoutError({ queue: mode.queue, step: step.name, taskId: st.taskId!, waitedMs, workers, controllerId });
        await writeTaskConsole(client, st.taskId!, [err.message], 'error').catch(() => {});
        await client.tasks.failed(st.taskId!, { force: true, reason: 'not picked up', message: `no agent picked it up from queue '${mode.queue}'` }).catch(() => {});
        st.status = 'failed';
        st.jobEnded = nowSec();
        note(err.message);
        failure ??= err;
      } else if (status === 'completed' || status === 'published' || status === 'closed') {
        st.jobEnded = t.completed ? Date.parse(t.completed) / 1000 : nowSec();
        st.jobStarted ??= st.jobEnded;
        try {
          await opts.afterStep?.(step, { taskId: st.taskId!, status: 'completed', log: note });
          if (step.artifacts.length) {
            // the server takes artifacts only on a created/running task: reopen the completed step for the upload
            // (its `started` becomes now; the DAG keeps the agent's start and end), then complete it again
            await client.tasks.started(st.taskId!, { force: true });
            await uploadArtifacts(step, st.taskId!);
            await client.tasks.completed(st.taskId!, { force: true, message: 'completed; artifacts uploaded by the pipeline controller' });
          }
        } catch (e) {
          await failStep(step, st.taskId!, `after the agent completed it: ${(e as Error).message}`, [], false);
          continue;
        }
        st.status = 'completed';
        st.executed = st.taskId;
        note(`step '${step.name}': completed${st.worker ? ` on ${st.worker}` : ''}`);
      } else if (status === 'failed' || status === 'stopped') {
        const lines = await readTaskLog(client, st.taskId!).catch(() => [] as string[]);
        const reason = status === 'stopped' ? `stopped (${t.status_message || t.status_reason || 'by someone else'})` : t.status_reason || t.status_message || 'the agent marked it failed';
        await failStep(step, st.taskId!, reason, lines, true);
      }
    }
  }

  async function queueWorkers(): Promise<string[]> {
    const r = await client.transport.call('workers.get_all', {}, workersSchema).catch(() => ({ workers: [] }));
    const name = queueName;
    return r.workers.filter((w) => (w.queues ?? []).some((q) => q.id === queueId || q.name === name)).map((w) => w.id);
  }
}

/** Poll a task until its status is final (or the timeout), e.g. to watch a step from outside. */
export async function waitForTaskStatus(client: ClearmlClient, taskId: string, opts: { timeoutMs?: number; pollMs?: number } = {}): Promise<string> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const t = await client.tasks.get(taskId);
    if (FINAL.has(t.status ?? '') || Date.now() > deadline) return t.status ?? 'unknown';
    await sleep(opts.pollMs ?? 500);
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function abortPromise(signal: AbortSignal): Promise<void> {
  return new Promise((r) => {
    if (signal.aborted) r();
    else signal.addEventListener('abort', () => r(), { once: true });
  });
}
