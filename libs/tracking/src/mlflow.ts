import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import {
  BufferedLogger,
  isServerGone,
  logModelWithMlmodel,
  redactedUri,
  RunSpill,
  type BufferedLoggerOptions,
  type LoggerEvent,
  type MlflowClient,
  type ModelSignature,
  type Run,
  type SourceType,
} from '@mlops-ts/mlflow-client';
import type { DatasetInput, Figure, LoggedModelRef, LogModelOptions, MetricPoint, RunEndReport, RunRef, RunStatus, StartRunOptions, Tracker, TrackerRun } from './port.js';
import { FigureNameSchema, FigureSchema, StartRunOptionsSchema } from './port.js';
import { plotlyFigure, plotlyHtml } from './plotly.js';
import { PipelineTags } from './compare.js';

/** Options of `logModel`: the port's; the signature may use any MLflow column type. */
export type MlflowLogModelOptions = Omit<LogModelOptions, 'signature'> & { signature?: ModelSignature };

export const MLFLOW = 'mlflow';

export interface MlflowTrackerOptions {
  client: MlflowClient;
  /** Where the buffered logger spills metric points while the server is unreachable. */
  spillDir: string;
  /** mlflow.user */
  user?: string;
  /** mlflow.source.* tags */
  source?: { name?: string; type?: SourceType; gitCommit?: string; gitBranch?: string; gitRepoUrl?: string };
  /**
   * How the replay command names the server: `{ uri }` (default: the client's URI without credentials), or
   * `{ embeddedDir }` for the embedded server, which `npm run mlflow -- replay` starts from that folder itself.
   */
  replay?: { uri?: string; embeddedDir?: string };
  /** Run tag set to the logged model's id when the model reaches the server only at replay (default `mlops.logged_model_id`). */
  modelIdTag?: string;
  /** Tuning of the buffered logger (flush interval, buffer sizes, ...). */
  logger?: Partial<Omit<BufferedLoggerOptions, 'client' | 'runId' | 'spillDir'>>;
  /** Progress and warnings (never credentials). */
  log?: (line: string) => void;
}

/** MLflow behind the tracking port: runs in experiments, metrics through a `BufferedLogger`, models as MLflow 3 logged models. */
export class MlflowTracker implements Tracker {
  readonly name = MLFLOW;
  /** Runs started or resumed by this tracker and not ended yet. */
  private readonly open = new Set<MlflowRun>();

  constructor(private readonly options: MlflowTrackerOptions) {}

  /**
   * Synchronously write the metric buffers of every open run to spill files: for the app's SIGINT/SIGTERM handler
   * (the library installs none). Returns the number of runs flushed.
   */
  flushToSpill(): number {
    for (const run of this.open) run.flushToSpill();
    return this.open.size;
  }

  async startRun(options: StartRunOptions): Promise<TrackerRun> {
    const o = StartRunOptionsSchema.parse(options);
    const { client } = this.options;
    const experiment = await client.getOrCreateExperiment(o.experiment);
    const run = await client.createRun({
      experimentId: experiment.experiment_id,
      runName: o.runName,
      tags: o.tags,
      ...(this.options.user ? { user: this.options.user } : {}),
      ...(this.options.source ? { source: this.options.source } : {}),
      ...(o.parentRunId ? { parentRunId: o.parentRunId } : {}),
    });
    return this.handle(run);
  }

  async resumeRun(ref: RunRef): Promise<TrackerRun> {
    const runId = ref[MLFLOW];
    if (!runId) throw new Error('no MLflow run id recorded');
    const run = await this.options.client.getRun(runId);
    if (run.info.lifecycle_stage === 'deleted') throw new Error(`MLflow run ${runId} is deleted`);
    return this.handle(run);
  }

  /** Id of a live run in `experiment` whose tag `key` is `value`, if any. */
  async findRunByTag(experiment: string, key: string, value: string): Promise<string | undefined> {
    const exp = await this.options.client.getExperimentByName(experiment);
    if (!exp) return undefined;
    const page = await this.options.client.searchRuns({ experimentIds: [exp.experiment_id], filter: `tags.\`${key}\` = '${value.replaceAll("'", "\\'")}'`, maxResults: 1 });
    return page.items[0]?.info.run_id;
  }

  private handle(run: Run): MlflowRun {
    const handle = new MlflowRun(this.options, run, () => this.open.delete(handle));
    this.open.add(handle);
    return handle;
  }
}

class MlflowRun implements TrackerRun {
  readonly tracker = MLFLOW;
  readonly runId: string;
  readonly ref: RunRef;
  readonly url: string;
  private readonly logger: BufferedLogger;
  private readonly client: MlflowClient;
  private readonly spill: RunSpill;
  /** Set once a call found the server gone: later artifacts/models go straight to the spill folder. */
  private serverGone = false;
  private ended = false;

  constructor(
    private readonly options: MlflowTrackerOptions,
    run: Run,
    private readonly onEnd: () => void = () => undefined,
  ) {
    this.client = options.client;
    this.runId = run.info.run_id;
    this.ref = { [MLFLOW]: this.runId };
    this.url = `${this.client.trackingUri}/#/experiments/${run.info.experiment_id}/runs/${this.runId}`;
    this.spill = new RunSpill(options.spillDir, this.runId);
    const log = options.log;
    this.logger = new BufferedLogger({
      ...options.logger,
      client: this.client,
      runId: this.runId,
      spillDir: options.spillDir,
      onEvent: (e: LoggerEvent) => {
        options.logger?.onEvent?.(e);
        if (log) log(describeEvent(e));
      },
    });
  }

  /** Synchronously spill what the metric buffer holds (for the app's signal handler). */
  flushToSpill(): void {
    this.logger.flushToSpill();
  }

  /** Runs `call`; when the server is (or turns out to be) gone, runs `spill` instead. Other errors propagate. */
  private async orSpill(what: string, call: () => Promise<void>, spill: () => Promise<void> | void): Promise<void> {
    if (!this.serverGone) {
      try {
        await call();
        return;
      } catch (e) {
        if (!isServerGone(e)) throw e;
        this.serverGone = true;
        this.options.log?.(`MLflow unreachable while logging ${what} (${(e as Error).message.split('\n')[0]}); keeping the rest of run ${this.runId} in ${this.options.spillDir}`);
      }
    }
    await spill();
  }

  logParams(params: Record<string, string | number | boolean>): Promise<void> {
    // Spilled params travel with the metric buffer (delivered as soon as the server answers again).
    return this.orSpill('params', () => this.client.logParams(this.runId, params), () => this.logger.logParams(params));
  }

  /** Keys this handle logged (model metrics of the same name are not logged again: they would join the run's history). */
  private readonly metricKeys = new Set<string>();

  logMetric(point: MetricPoint): void {
    this.metricKeys.add(point.key);
    this.logger.logMetric(point.key, point.value, point.step, point.timestamp ?? Date.now());
  }

  setTags(tags: Record<string, string>): Promise<void> {
    return this.orSpill(
      'tags',
      () => this.client.setTags(this.runId, tags),
      () => {
        for (const [k, v] of Object.entries(tags)) this.logger.setTag(k, v);
      },
    );
  }

  logInput(dataset: DatasetInput): Promise<void> {
    const input = {
      name: dataset.name,
      digest: dataset.digest,
      source: dataset.source,
      sourceType: 'dvc',
      ...(dataset.context ? { context: dataset.context } : {}),
      ...(dataset.schema ? { schema: dataset.schema } : {}),
      ...(dataset.profile ? { profile: dataset.profile } : {}),
    };
    return this.orSpill('a dataset input', () => this.client.logInputs(this.runId, [input]), () => this.spill.addInputs([input]));
  }

  async logArtifact(localPath: string, artifactPath?: string): Promise<void> {
    const isDir = (await stat(localPath)).isDirectory();
    await this.orSpill(
      `artifact ${localPath}`,
      async () => {
        if (isDir) await this.client.logArtifacts(this.runId, localPath, artifactPath);
        else await this.client.logArtifact(this.runId, localPath, artifactPath);
      },
      () => this.spill.addArtifact(localPath, artifactPath),
    );
  }

  /**
   * The folder goes up twice: as run artifacts under `<name>/` (browsable with the run) and as an MLflow 3 logged
   * model with an `MLmodel` file (tfjs flavor, signature) written at log time, outside `localDir`. With the server
   * gone, a copy of the folder waits in the spill folder and the ref has no model id (replay creates the model).
   */
  async logModel(localDir: string, options: MlflowLogModelOptions): Promise<LoggedModelRef> {
    let ref: LoggedModelRef = { models: { [MLFLOW]: {} } };
    await this.orSpill(
      `model ${localDir}`,
      async () => {
        await this.client.logArtifacts(this.runId, localDir, options.name);
        const model = await logModelWithMlmodel(this.client, {
          runId: this.runId,
          name: options.name,
          dir: localDir,
          modelType: 'tfjs-layers',
          ...(options.params ? { params: options.params } : {}),
          ...(options.signature ? { signature: options.signature } : {}),
        });
        const id = model.info.model_id;
        const uri = model.info.artifact_uri;
        // The model's own metrics, linked to it (MLflow 3 shows them on the logged model's page). A model metric is
        // a run metric with a model id: one the run already logged would add a point to its history, so it is left out.
        const metrics = Object.entries(options.metrics ?? {}).filter(([k, v]) => Number.isFinite(v) && !this.metricKeys.has(k));
        if (metrics.length > 0) await this.client.logBatch(this.runId, { metrics: metrics.map(([key, value]) => ({ key, value, step: 0, modelId: id })) });
        ref = { modelId: id, ...(uri ? { uri } : {}), models: { [MLFLOW]: { modelId: id, ...(uri ? { uri } : {}) } } };
      },
      () =>
        this.spill.addModel(localDir, {
          name: options.name,
          modelType: 'tfjs-layers',
          ...(options.params ? { params: options.params } : {}),
          ...(options.signature ? { signature: options.signature } : {}),
          modelIdTag: this.options.modelIdTag ?? PipelineTags.loggedModelId,
        }),
    );
    return ref;
  }

  /**
   * `figures/<name>.html`: the Plotly figure as a page (what `mlflow.log_figure(fig, "x.html")` writes; MLflow's
   * artifact view shows it inline), and `figures/<name>.figure.json`: the tracker-neutral figure, to read back.
   */
  async logFigure(name: string, figure: Figure): Promise<void> {
    const n = FigureNameSchema.parse(name);
    const f = FigureSchema.parse(figure);
    const dir = await mkdtemp(join(tmpdir(), 'mlflow-figure-'));
    try {
      await writeFile(join(dir, `${n}.html`), plotlyHtml(plotlyFigure(f), f.title ?? n));
      await writeFile(join(dir, `${n}.figure.json`), JSON.stringify(f, null, 2) + '\n');
      await this.orSpill(`figure ${n}`, () => this.client.logArtifacts(this.runId, dir, 'figures').then(() => undefined), () => this.spill.addArtifact(dir, 'figures'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Delivers every buffered metric, then ends the run. When the server is gone, the end status joins whatever else
   * waits in the spill folder, and the report's `pending` line names the folder and the replay command.
   */
  async end(status: RunStatus = 'FINISHED'): Promise<RunEndReport> {
    if (this.ended) return { tracker: MLFLOW, delivered: true };
    this.ended = true;
    this.onEnd();
    const result = await this.logger.close();
    const endTime = Date.now();
    const spilledOps = this.spill.operations.length;
    if (result.spilledPoints === 0 && spilledOps === 0) {
      try {
        await this.client.endRun(this.runId, status, endTime);
        return { tracker: MLFLOW, delivered: true };
      } catch (e) {
        if (!isServerGone(e)) throw e;
      }
    }
    await this.spill.addEnd(status, endTime);
    const waiting = [
      ...(result.spilledPoints > 0 ? [`${result.spilledPoints} metric/param/tag points`] : []),
      ...describeOps(this.spill.operations),
    ].join(', ');
    const pending = `MLflow run ${this.runId} is incomplete on the server (${waiting} kept in ${displayPath(this.options.spillDir)}); deliver with: ${this.replayCommand()}`;
    this.options.log?.(pending);
    return { tracker: MLFLOW, delivered: false, pending };
  }

  private replayCommand(): string {
    const dir = displayPath(this.options.spillDir);
    const r = this.options.replay;
    if (r?.embeddedDir !== undefined) {
      const d = displayPath(r.embeddedDir);
      return `npm run mlflow -- replay ${dir}${d === '.mlflow' ? '' : ` --dir ${d}`}`;
    }
    return `npm run mlflow -- replay ${dir} --uri ${redactedUri(r?.uri ?? this.client.trackingUri)}`;
  }
}

function describeOps(ops: readonly { op: string }[]): string[] {
  const n = (op: string) => ops.filter((o) => o.op === op).length;
  const out: string[] = [];
  if (n('artifact')) out.push(`${n('artifact')} artifact${n('artifact') > 1 ? 's' : ''}`);
  if (n('inputs')) out.push(`${n('inputs')} dataset input${n('inputs') > 1 ? 's' : ''}`);
  if (n('model')) out.push(n('model') > 1 ? `${n('model')} models` : 'the model');
  out.push('the end status');
  return out;
}

/** A path as the user would type it from the current folder. */
function displayPath(p: string): string {
  if (!isAbsolute(p)) return p;
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
}

function describeEvent(e: LoggerEvent): string {
  switch (e.type) {
    case 'unreachable':
      return `MLflow unreachable (${e.error}); ${e.pending} points buffered, retrying`;
    case 'recovered':
      return `MLflow reachable again; delivering ${e.pending} buffered point${e.pending === 1 ? '' : 's'}`;
    case 'spilled':
      return `MLflow: ${e.points} points spilled to ${e.file}`;
    case 'delivered-spill':
      return `MLflow: delivered ${e.points} spilled points from ${e.file}`;
    case 'rejected':
      return `MLflow refused ${e.points} points (${e.error}); kept in ${e.file}`;
  }
}
