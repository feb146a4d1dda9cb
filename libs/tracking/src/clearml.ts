/**
 * ClearML behind the tracking port: a task per run (type `training`, `qc` for a comparison run; project =
 * experiment), params as hyper-parameter sections, metrics as scalars (metric/variant: `loss`/`train`), dataset
 * inputs as configuration objects, artifacts and the model on the fileserver (the model as an output model with
 * design and labels), figures as Plotly plots.
 * Online through `@mlops-ts/clearml-client` (REST + `EventsLogger`); with no server, or what an outage leaves, in
 * an offline session in the official SDK's format (`npm run clearml -- import <zip>` delivers it).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, isAbsolute, join, relative } from 'node:path';
import { z } from 'zod';
import { confusionFigure, lineFigure, type PlotlyFigure } from '@mlops-ts/clearml-client';
import {
  FigureNameSchema,
  FigureSchema,
  StartRunOptionsSchema,
  type DatasetInput,
  type Figure,
  type LoggedModelRef,
  type LogModelOptions,
  type MetricPoint,
  type RunEndReport,
  type RunRef,
  type RunStatus,
  type StartRunOptions,
  type Tracker,
  type TrackerRun,
} from './port.js';
import { clearmlScalarOf } from './scalars.js';
import { zipFolder } from './zip.js';

export const CLEARML = 'clearml';

/** The part of `ClearmlClient` the sink uses (REST calls with zod-checked answers, fileserver uploads, web links). */
export interface ClearmlSinkClient {
  transport: { call<S extends z.ZodType>(endpoint: string, body: unknown, schema: S): Promise<z.output<S>> };
  files: { upload(localPath: string, remoteKey: string): Promise<string> };
  webUrl?(taskId: string, projectId?: string): string | undefined;
}

/** The part of cml-events' `EventsLogger` the sink uses. */
export interface ClearmlEventsSink {
  scalar(metric: string, variant: string, iter: number, value: number): void;
  plot(metric: string, variant: string, iter: number, figure: PlotlyFigure): void;
  /** Delivers what is buffered; `pending`: the one line saying where the rest waits and the command that delivers it. */
  close(): Promise<{ delivered: boolean; pending?: string }>;
}

/** The part of cml-events' `OfflineSession` the sink uses. */
export interface ClearmlOfflineSession {
  readonly id: string;
  readonly folder: string;
  setParameters(sections: Record<string, Record<string, string>>): unknown;
  setConfiguration(name: string, value: string, opts?: { type?: string; description?: string }): unknown;
  scalar(metric: string, variant: string, iter: number, value: number): unknown;
  plot(metric: string, variant: string, iter: number, figure: PlotlyFigure): unknown;
  addArtifact(key: string, localPath: string, opts?: { contentType?: string; preview?: string; type?: string }): Promise<unknown>;
  addModel(name: string, localPath: string, opts?: { framework?: string; tags?: string[]; comment?: string; labels?: Record<string, number>; configText?: string }): Promise<{ id: string }>;
  setStatus(status: 'completed' | 'failed' | 'stopped', reason?: string): unknown;
  close(): Promise<{ id: string; folder: string; zip: string }>;
}

export interface ClearmlOfflineSessionOptions {
  dir: string;
  project: string;
  name: string;
  type?: string;
  tags?: string[];
  comment?: string;
  previousTaskId?: string;
  script?: Record<string, unknown>;
}

export interface ClearmlTrackerOptions {
  /** The server; absent: every run is an offline session under `offlineDir`. */
  client?: ClearmlSinkClient;
  /** Starts the events logger of a task (cml-events' `EventsLogger`); required with `client`. */
  events?: (taskId: string) => ClearmlEventsSink;
  /** Creates an offline session (cml-events' `OfflineSession.create`). */
  offlineSession: (opts: ClearmlOfflineSessionOptions) => Promise<ClearmlOfflineSession>;
  /** Where offline sessions go (no server, or what an outage left). */
  offlineDir: string;
  /** Project of the tasks; default: the run's experiment. */
  project?: string;
  /** Tags every task gets. */
  tags?: string[];
  /** The task's script section (repository, branch, version_num, entry_point, working_dir, diff). */
  script?: { repository?: string; branch?: string; versionNum?: string; entryPoint?: string; workingDir?: string; diff?: string };
  /** The exact command that imports a session, given its zip (default `npm run clearml -- import <zip>`). */
  importCommand?: (zip: string) => string;
  /** Is this error the server being gone (delivery moves to an offline session) rather than a refusal? */
  isServerGone?: (error: unknown) => boolean;
  log?: (line: string) => void;
}

/** Hyper-parameter section of a flat key: `model.layers` → model/layers, `seed` → General/seed. */
export function hyperParamOf(key: string): { section: string; name: string } {
  const dot = key.indexOf('.');
  return dot > 0 && dot < key.length - 1 ? { section: key.slice(0, dot), name: key.slice(dot + 1) } : { section: 'General', name: key };
}

/** Section of the run's key/value tags (the SDK's user properties). */
export const PROPERTIES_SECTION = 'properties';

const IdSchema = z.looseObject({ id: z.string() });
const AnySchema = z.unknown();
const ProjectsSchema = z.looseObject({ projects: z.array(z.looseObject({ id: z.string(), name: z.string() })) });
const TaskSchema = z.looseObject({ id: z.string(), name: z.string(), project: z.string().nullish(), status: z.string().optional(), tags: z.array(z.string()).nullish() });
const TasksSchema = z.looseObject({ tasks: z.array(TaskSchema) });

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const pad3 = (s: string) => (s.length >= 3 ? s : `${s}${'_'.repeat(3 - s.length)}`); // ClearML names have >= 3 characters

/** Id of project `name`, created when missing. */
export async function clearmlProjectId(client: ClearmlSinkClient, name: string): Promise<string> {
  const found = await client.transport.call('projects.get_all', { name: `^${escapeRegex(name)}$`, only_fields: ['id', 'name'] }, ProjectsSchema);
  const exact = found.projects.find((p) => p.name === name);
  if (exact) return exact.id;
  const created = await client.transport.call('projects.create', { name, description: 'created by @mlops-ts/tracking' }, IdSchema);
  return created.id;
}

export class ClearmlTracker implements Tracker {
  readonly name = CLEARML;
  constructor(private readonly options: ClearmlTrackerOptions) {}

  /** True when runs go to a server (else to offline sessions). */
  get online(): boolean {
    return this.options.client !== undefined;
  }

  async startRun(options: StartRunOptions): Promise<TrackerRun> {
    const o = StartRunOptionsSchema.parse(options);
    const project = this.options.project ?? o.experiment;
    const name = pad3(o.runName);
    const type = o.role === 'comparison' ? 'qc' : 'training';
    const tags = [...(this.options.tags ?? []), ...(o.tags['mlops.model'] ? [`model:${o.tags['mlops.model']}`] : []), ...(o.role === 'comparison' ? ['comparison'] : [])];
    const client = this.options.client;
    if (!client) {
      const session = await this.options.offlineSession({ dir: this.options.offlineDir, project, name, type, tags, script: this.scriptSection() });
      const run = new ClearmlRun(this.options, { taskId: session.id, project, name, resumed: false, type }, undefined, session);
      await run.setTags(o.tags);
      return run;
    }
    const projectId = await clearmlProjectId(client, project);
    const created = await client.transport.call(
      'tasks.create',
      { name, project: projectId, type, tags, system_tags: ['mlops-ts'], comment: `${o.runName} (${o.tags['mlops.dvc_stage'] ?? 'mlops-ts'})`, script: this.scriptSection(), ...(o.parentRunId ? { parent: o.parentRunId } : {}) },
      IdSchema,
    );
    await client.transport.call('tasks.started', { task: created.id }, AnySchema);
    const run = new ClearmlRun(this.options, { taskId: created.id, project, projectId, name, resumed: false, type }, client);
    await run.setTags(o.tags);
    return run;
  }

  /**
   * Continues a task (the evaluate stage adding test metrics, ROC and confusion plots): its status stays as the
   * training run ended it. An offline session cannot be reopened: a new session records the task it continues.
   */
  async resumeRun(ref: RunRef): Promise<TrackerRun> {
    const taskId = ref[CLEARML];
    if (!taskId) throw new Error('no ClearML task id recorded');
    const client = this.options.client;
    if (!client || taskId.startsWith('offline-')) {
      const project = this.options.project ?? 'mlops-ts';
      const session = await this.options.offlineSession({ dir: this.options.offlineDir, project, name: `continues ${taskId}`, type: 'training', previousTaskId: taskId, script: this.scriptSection() });
      if (client && taskId.startsWith('offline-')) this.options.log?.(`ClearML: the recorded task ${taskId} is an offline session not imported yet; this run goes to offline session ${session.id} (import both)`);
      return new ClearmlRun(this.options, { taskId: session.id, project, name: session.id, resumed: true, continues: taskId }, undefined, session);
    }
    const found = await client.transport.call('tasks.get_all', { id: [taskId], only_fields: ['id', 'name', 'project', 'status', 'tags'] }, TasksSchema);
    const task = found.tasks[0];
    if (!task) throw new Error(`ClearML task ${taskId} not found`);
    const projectId = task.project ?? undefined;
    return new ClearmlRun(this.options, { taskId, project: this.options.project ?? '', ...(projectId ? { projectId } : {}), name: task.name, resumed: true, ...(task.status ? { status: task.status } : {}) }, client);
  }

  private scriptSection(): Record<string, unknown> {
    const s = this.options.script ?? {};
    return {
      binary: 'bash',
      repository: s.repository ?? '',
      branch: s.branch ?? '',
      version_num: s.versionNum ?? '',
      entry_point: s.entryPoint ?? '',
      working_dir: s.workingDir ?? '.',
      diff: s.diff ?? '',
    };
  }
}

interface TaskInfo {
  taskId: string;
  project: string;
  projectId?: string;
  name: string;
  resumed: boolean;
  /** Offline continuation: the task this session continues. */
  continues?: string;
  /** The status of a resumed task when it was resumed (restored at the end if an edit had to reopen it). */
  status?: string;
  /** The task type (`training`, or `qc` for a comparison); an outage's offline session keeps it. */
  type?: string;
}

const CONTENT_TYPES: Record<string, string> = { '.json': 'application/json', '.csv': 'text/csv', '.html': 'text/html', '.md': 'text/markdown', '.png': 'image/png', '.txt': 'text/plain', '.zip': 'application/zip', '.parquet': 'application/octet-stream' };

class ClearmlRun implements TrackerRun {
  readonly tracker = CLEARML;
  readonly runId: string;
  readonly ref: RunRef;
  readonly url?: string;
  private readonly events?: ClearmlEventsSink;
  private ended = false;
  /** Set when a resumed task that had ended was put back in progress for an edit (its status is restored at the end). */
  private reopened = false;
  /** Where what the server could not take goes (created on the first outage, or from the start offline). */
  private session?: ClearmlOfflineSession;
  private sessionPromise?: Promise<ClearmlOfflineSession>;

  constructor(
    private readonly options: ClearmlTrackerOptions,
    private readonly task: TaskInfo,
    private readonly client?: ClearmlSinkClient,
    session?: ClearmlOfflineSession,
  ) {
    this.runId = task.continues ?? task.taskId;
    this.ref = { [CLEARML]: this.runId };
    if (session) this.session = session;
    if (client) {
      if (!options.events) throw new TypeError('ClearmlTracker: `events` is required with a client');
      this.events = options.events(task.taskId);
      const url = client.webUrl?.(task.taskId, task.projectId);
      if (url) this.url = url;
    }
  }

  private gone(error: unknown): boolean {
    if (this.options.isServerGone) return this.options.isServerGone(error);
    const code = (error as { code?: unknown } | null)?.code;
    return code === 'ERR_CLEARML_UNREACHABLE';
  }

  /** The offline session of this run: created on the first outage, continuing the online task. */
  private async offline(): Promise<ClearmlOfflineSession> {
    if (this.session) return this.session;
    this.sessionPromise ??= this.options.offlineSession({
      dir: this.options.offlineDir,
      project: this.task.project || 'mlops-ts',
      name: this.task.name,
      type: this.task.type ?? 'training',
      previousTaskId: this.task.taskId,
    });
    this.session = await this.sessionPromise;
    return this.session;
  }

  /** `online()` while the server answers; the offline session once it is gone (or from the start). */
  private async deliver(what: string, online: (client: ClearmlSinkClient) => Promise<void>, offline: (s: ClearmlOfflineSession) => Promise<unknown> | unknown): Promise<void> {
    if (this.client && !this.session) {
      try {
        await online(this.client);
        return;
      } catch (error) {
        if (!this.gone(error)) throw error;
        this.options.log?.(`ClearML unreachable while logging ${what} (${(error as Error).message.split('\n')[0]}); the rest of task ${this.task.taskId} goes to an offline session`);
      }
    }
    await offline(await this.offline());
  }

  logParams(params: Record<string, string | number | boolean>): Promise<void> {
    const sections: Record<string, Record<string, string>> = {};
    for (const [k, v] of Object.entries(params)) {
      const { section, name } = hyperParamOf(k);
      (sections[section] ??= {})[name] = String(v);
    }
    return this.setSections('params', sections);
  }

  /**
   * The server edits hyper-parameters and configuration of a task only while it is created or running: a resumed
   * task that had ended goes back to in_progress first (as the SDK's `mark_started(force=True)`), and its status is
   * put back at the end.
   */
  private async editable(c: ClearmlSinkClient): Promise<void> {
    if (!this.task.resumed || this.reopened || !this.task.status || ['created', 'in_progress', 'queued'].includes(this.task.status)) return;
    await c.transport.call('tasks.started', { task: this.task.taskId, force: true, status_reason: 'resumed by @mlops-ts/tracking' }, AnySchema);
    this.reopened = true;
  }

  private setSections(what: string, sections: Record<string, Record<string, string>>): Promise<void> {
    const hyperparams = Object.entries(sections).flatMap(([section, ps]) => Object.entries(ps).map(([name, value]) => ({ section, name, value, type: 'str' })));
    if (hyperparams.length === 0) return Promise.resolve();
    return this.deliver(
      what,
      async (c) => {
        await this.editable(c);
        await c.transport.call('tasks.edit_hyper_params', { task: this.task.taskId, hyperparams, replace_hyperparams: 'none', force: true }, AnySchema);
      },
      (s) => s.setParameters(sections),
    );
  }

  logMetric(point: MetricPoint): void {
    if (this.ended) throw new Error(`ClearML task ${this.task.taskId} has ended`);
    const { metric, variant } = clearmlScalarOf(point.key);
    if (this.events && !this.session) this.events.scalar(metric, variant, point.step, point.value);
    else if (this.session) this.session.scalar(metric, variant, point.step, point.value);
    else void this.offline().then((s) => s.scalar(metric, variant, point.step, point.value));
  }

  /** Key/value tags as the task's user properties (ClearML tags are plain labels). */
  setTags(tags: Record<string, string>): Promise<void> {
    return this.setSections('tags', Object.keys(tags).length ? { [PROPERTIES_SECTION]: { ...tags } } : {});
  }

  /** A configuration object per dataset (`Dataset <name>`): digest, source, role, schema, profile as JSON. */
  logInput(dataset: DatasetInput): Promise<void> {
    const value = JSON.stringify({ ...dataset, ...(dataset.profile ? { profile: safeJson(dataset.profile) } : {}), ...(dataset.schema ? { schema: safeJson(dataset.schema) } : {}) }, null, 2);
    const name = `Dataset ${dataset.name}`;
    return this.deliver(
      `dataset input ${dataset.name}`,
      async (c) => {
        await this.editable(c);
        await c.transport.call(
          'tasks.edit_configuration',
          { task: this.task.taskId, configuration: [{ name, value, type: 'JSON', description: `input dataset (${dataset.context ?? 'input'}), digest ${dataset.digest}` }], replace_configuration: false, force: true },
          AnySchema,
        );
      },
      (s) => s.setConfiguration(name, value, { type: 'JSON', description: `input dataset (${dataset.context ?? 'input'}), digest ${dataset.digest}` }),
    );
  }

  /** A file or a folder (zipped, type `archive`) on the fileserver, registered as an output artifact. */
  async logArtifact(localPath: string, artifactPath?: string): Promise<void> {
    const key = artifactPath ? `${artifactPath.replace(/\/+$/, '')}/${basename(localPath)}` : basename(localPath);
    const isDir = (await stat(localPath)).isDirectory();
    const tmp = isDir ? await mkdtemp(join(tmpdir(), 'clearml-artifact-')) : undefined;
    try {
      const file = tmp ? join(tmp, `${basename(localPath)}.zip`) : localPath;
      if (tmp) await zipFolder(localPath, file);
      const type = isDir ? 'archive' : 'custom';
      const contentType = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
      await this.deliver(
        `artifact ${localPath}`,
        async (c) => {
          const bytes = await readFile(file);
          const uri = await c.files.upload(file, `${this.remotePrefix()}/artifacts/${key}/${basename(file)}`);
          const preview = contentType.startsWith('text/') || contentType === 'application/json' ? bytes.subarray(0, 512).toString('utf8') : `${basename(file)}, ${bytes.byteLength} bytes`;
          await c.transport.call(
            'tasks.add_or_update_artifacts',
            {
              task: this.task.taskId,
              artifacts: [{ key, type, mode: 'output', uri, content_size: bytes.byteLength, hash: createHash('sha256').update(bytes).digest('hex'), timestamp: Math.floor(Date.now() / 1000), type_data: { content_type: contentType, preview } }],
              force: true,
            },
            AnySchema,
          );
        },
        (s) => s.addArtifact(key, file, { contentType, type }),
      );
    } finally {
      if (tmp) await rm(tmp, { recursive: true, force: true });
    }
  }

  /**
   * The folder zipped to the fileserver as an output model of the task: framework TensorFlow.js, design = the
   * model's topology (model.json) with the signature, labels = class → index, metrics as the model's metadata.
   */
  async logModel(localDir: string, options: LogModelOptions): Promise<LoggedModelRef> {
    const tmp = await mkdtemp(join(tmpdir(), 'clearml-model-'));
    try {
      const zip = join(tmp, `${options.name}.zip`);
      await zipFolder(localDir, zip);
      const design = await modelDesign(localDir, options);
      const labels = Object.fromEntries((options.labels ?? []).map((l, i) => [l, i]));
      const modelName = `${this.task.name} ${options.name}`;
      let modelId: string | undefined;
      let uri: string | undefined;
      await this.deliver(
        `model ${localDir}`,
        async (c) => {
          uri = await c.files.upload(zip, `${this.remotePrefix()}/models/${basename(zip)}`);
          const created = await c.transport.call(
            'models.create',
            {
              uri,
              name: pad3(modelName),
              comment: `${options.name} of ${this.task.name}`,
              tags: [],
              framework: 'TensorFlow.js',
              design: { design },
              labels,
              ready: false,
              ...(this.task.projectId ? { project: this.task.projectId } : {}),
              task: this.task.taskId,
            },
            IdSchema,
          );
          modelId = created.id;
          const metadata = [
            ...Object.entries(options.metrics ?? {}).filter(([, v]) => Number.isFinite(v)).map(([key, v]) => ({ key, type: 'float', value: String(v) })),
            ...Object.entries(options.params ?? {}).map(([key, value]) => ({ key, type: 'str', value })),
          ];
          if (metadata.length > 0) await c.transport.call('models.add_or_update_metadata', { model: created.id, metadata }, AnySchema);
          await c.transport.call('tasks.add_or_update_model', { task: this.task.taskId, name: options.name, model: created.id, type: 'output' }, AnySchema);
        },
        async (s) => {
          const m = await s.addModel(modelName, zip, { framework: 'TensorFlow.js', labels, configText: design, comment: `${options.name} of ${this.task.name}` });
          // The offline model's id is the session's own: it gets a server id at import.
          this.options.log?.(`ClearML: model ${options.name} kept in offline session ${s.id} (${m.id})`);
        },
      );
      const models = { [CLEARML]: { ...(modelId ? { modelId } : {}), ...(uri ? { uri } : {}) } };
      return { ...(modelId ? { modelId } : {}), ...(uri ? { uri } : {}), models };
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** A Plotly plot shaped as the SDK sends it (metric = variant = the figure's name), at iteration 0. */
  async logFigure(name: string, figure: Figure): Promise<void> {
    const n = FigureNameSchema.parse(name);
    const plot = clearmlPlot(figure);
    if (this.events && !this.session) this.events.plot(n, n, 0, plot);
    else (await this.offline()).plot(n, n, 0, plot);
  }

  /**
   * Delivers the events, then sets the status (FINISHED → completed, FAILED → failed, KILLED → stopped; a resumed
   * task keeps the status its training run gave it). Anything that could not reach the server is in an offline
   * session: `pending` names its zip and the import command.
   */
  async end(status: RunStatus = 'FINISHED'): Promise<RunEndReport> {
    if (this.ended) return { tracker: CLEARML, delivered: true };
    this.ended = true;
    const pendingLines: string[] = [];
    let delivered = true;
    if (this.events) {
      const closed = await this.events.close();
      if (!closed.delivered) {
        delivered = false;
        if (closed.pending) pendingLines.push(closed.pending);
      }
    }
    if (this.task.resumed && this.reopened && this.client && !this.session) {
      const restore = { completed: 'tasks.completed', failed: 'tasks.failed', stopped: 'tasks.stopped', published: 'tasks.completed' }[this.task.status ?? 'completed'] ?? 'tasks.completed';
      await this.deliver('the status', async (c) => {
        await c.transport.call(restore, { task: this.task.taskId, force: true, status_reason: 'resumed run ended' }, AnySchema);
      }, () => undefined);
    }
    if (this.task.resumed && this.task.continues !== undefined && this.session) {
      // An offline continuation: the importer sets this status on the task it continues.
      this.session.setStatus(status === 'FINISHED' ? 'completed' : status === 'FAILED' ? 'failed' : 'stopped', `resumed run ended ${status}`);
    }
    if (!this.task.resumed) {
      const clearmlStatus = status === 'FINISHED' ? 'completed' : status === 'FAILED' ? 'failed' : 'stopped';
      await this.deliver(
        'the end status',
        async (c) => {
          const endpoint = `tasks.${clearmlStatus === 'completed' ? 'completed' : clearmlStatus}`;
          await c.transport.call(endpoint, { task: this.task.taskId, force: true, status_reason: `run ended ${status}` }, AnySchema);
        },
        (s) => s.setStatus(clearmlStatus, `run ended ${status}`),
      );
    }
    if (this.session) {
      const result = await this.session.close();
      const zip = displayPath(result.zip);
      const cmd = (this.options.importCommand ?? ((z: string) => `npm run clearml -- import ${z}`))(zip);
      if (this.client) {
        delivered = false;
        pendingLines.push(`ClearML task ${this.task.taskId} is incomplete on the server (the rest is in offline session ${zip}); deliver with: ${cmd}`);
      } else {
        // No server configured: the session is where the run was meant to go, not a failure.
        const continues = this.task.continues;
        const offline = !continues
          ? `ClearML offline session ${zip}; send it to a server with: ${cmd}`
          : continues.startsWith('offline-')
            ? `ClearML offline session ${zip} (continues task ${continues}); send it to a server after ${continues}.zip with: ${cmd} --task <the task id that import printed>`
            : `ClearML offline session ${zip} (continues task ${continues}); send it to a server with: ${cmd}`;
        return { tracker: CLEARML, delivered, offline: [offline], ...(pendingLines.length ? { pending: pendingLines.join('; ') } : {}) };
      }
    }
    const pending = pendingLines.join('; ');
    if (pending) this.options.log?.(pending);
    return { tracker: CLEARML, delivered, ...(pending ? { pending } : {}) };
  }

  /** The SDK's fileserver layout: `<project>/<task name>.<task id>`. */
  private remotePrefix(): string {
    const safe = (s: string) => s.replace(/[\\/:*?"<>|%\s]+/g, '_');
    return `${safe(this.task.project || 'mlops-ts')}/${safe(this.task.name)}.${this.task.taskId}`;
  }
}

/**
 * The figure as the official SDK would report it (cml-events' builders: `report_line_plot` scatter traces,
 * `report_confusion_matrix` heatmap), which is what the web UI's Plots tab draws.
 */
export function clearmlPlot(input: Figure): PlotlyFigure {
  const f = FigureSchema.parse(input);
  switch (f.kind) {
    case 'learning_curves':
      return lineFigure({ title: f.title ?? 'Learning curves', xaxis: f.xLabel, yaxis: 'value', mode: 'lines+markers', series: f.series.map((s) => ({ name: `${s.metric}/${s.variant}`, x: s.x, y: s.y })) });
    case 'roc': {
      const fig = lineFigure({
        title: f.title ?? 'ROC curve',
        xaxis: 'false positive rate',
        yaxis: 'true positive rate',
        series: [...f.curves.map((c) => ({ name: c.auc === undefined ? c.label : `${c.label} (AUC ${c.auc.toFixed(4)})`, x: c.fpr, y: c.tpr })), { name: 'chance', x: [0, 1], y: [0, 1] }],
      });
      (fig.data[fig.data.length - 1] as Record<string, unknown>)['line'] = { dash: 'dash' };
      return fig;
    }
    case 'confusion_matrix':
      return confusionFigure({ title: f.title ?? 'Confusion matrix', matrix: f.counts, labels: f.labels, xaxis: 'predicted', yaxis: 'actual', yaxisReversed: true });
    case 'line':
      return lineFigure({ title: f.title ?? 'line', ...(f.xLabel ? { xaxis: f.xLabel } : {}), ...(f.yLabel ? { yaxis: f.yLabel } : {}), mode: 'lines+markers', series: f.series.map((s) => ({ name: s.name, x: s.x.map(Number), y: s.y })) });
    case 'bar':
      return { data: f.series.map((s) => ({ type: 'bar', name: s.name, x: s.x, y: s.y })), layout: { title: f.title ?? 'bar', xaxis: { title: f.xLabel ?? null }, yaxis: { title: f.yLabel ?? null } } };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The model's design text: the topology of model.json (when there is one) and the signature. */
async function modelDesign(dir: string, options: LogModelOptions): Promise<string> {
  let topology: unknown;
  try {
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { modelTopology?: unknown; format?: unknown };
    topology = json.modelTopology ?? json;
  } catch {
    topology = undefined;
  }
  return JSON.stringify({ ...(topology !== undefined ? { modelTopology: topology } : {}), ...(options.signature ? { signature: options.signature } : {}), ...(options.params ? { params: options.params } : {}) }, null, 2);
}

/** A path as the user would type it from the current folder. */
function displayPath(p: string): string {
  if (!isAbsolute(p)) return p;
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
}
