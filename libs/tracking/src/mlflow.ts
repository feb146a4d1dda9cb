import { stat } from 'node:fs/promises';
import type { MlflowClient} from '@mlops-ts/mlflow-client';
import { BufferedLogger, redactedUri, type BufferedLoggerOptions, type LoggerEvent, type Run, type SourceType } from '@mlops-ts/mlflow-client';
import type { RunEndReport, DatasetInput, LoggedModelRef, MetricPoint, RunRef, RunStatus, StartRunOptions, Tracker, TrackerRun } from './port.js';
import { StartRunOptionsSchema } from './port.js';

export const MLFLOW = 'mlflow';

export interface MlflowTrackerOptions {
  client: MlflowClient;
  /** Where the buffered logger spills metric points while the server is unreachable. */
  spillDir: string;
  /** mlflow.user */
  user?: string;
  /** mlflow.source.* tags */
  source?: { name?: string; type?: SourceType; gitCommit?: string; gitBranch?: string; gitRepoUrl?: string };
  /** Tuning of the buffered logger (flush interval, buffer sizes, ...). */
  logger?: Partial<Omit<BufferedLoggerOptions, 'client' | 'runId' | 'spillDir'>>;
  /** Progress and warnings (never credentials). */
  log?: (line: string) => void;
}

/** MLflow behind the tracking port: runs in experiments, metrics through a `BufferedLogger`, models as MLflow 3 logged models. */
export class MlflowTracker implements Tracker {
  readonly name = MLFLOW;

  constructor(private readonly options: MlflowTrackerOptions) {}

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

  private handle(run: Run): MlflowRun {
    return new MlflowRun(this.options, run);
  }
}

class MlflowRun implements TrackerRun {
  readonly tracker = MLFLOW;
  readonly runId: string;
  readonly ref: RunRef;
  readonly url: string;
  private readonly logger: BufferedLogger;
  private readonly client: MlflowClient;

  constructor(
    private readonly options: MlflowTrackerOptions,
    run: Run,
  ) {
    this.client = options.client;
    this.runId = run.info.run_id;
    this.ref = { [MLFLOW]: this.runId };
    this.url = `${this.client.trackingUri}/#/experiments/${run.info.experiment_id}/runs/${this.runId}`;
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

  logParams(params: Record<string, string | number | boolean>): Promise<void> {
    return this.client.logParams(this.runId, params);
  }

  logMetric(point: MetricPoint): void {
    this.logger.logMetric(point.key, point.value, point.step, point.timestamp ?? Date.now());
  }

  setTags(tags: Record<string, string>): Promise<void> {
    return this.client.setTags(this.runId, tags);
  }

  logInput(dataset: DatasetInput): Promise<void> {
    return this.client.logInputs(this.runId, [
      {
        name: dataset.name,
        digest: dataset.digest,
        source: dataset.source,
        sourceType: 'dvc',
        ...(dataset.context ? { context: dataset.context } : {}),
        ...(dataset.schema ? { schema: dataset.schema } : {}),
        ...(dataset.profile ? { profile: dataset.profile } : {}),
      },
    ]);
  }

  async logArtifact(localPath: string, artifactPath?: string): Promise<void> {
    if ((await stat(localPath)).isDirectory()) await this.client.logArtifacts(this.runId, localPath, artifactPath);
    else await this.client.logArtifact(this.runId, localPath, artifactPath);
  }

  /** The folder goes up twice: as run artifacts under `<name>/` (browsable with the run) and as an MLflow 3 logged model. */
  async logModel(localDir: string, options: { name: string; params?: Record<string, string>; metrics?: Record<string, number> }): Promise<LoggedModelRef> {
    await this.client.logArtifacts(this.runId, localDir, options.name);
    const model = await this.client.logModel({
      runId: this.runId,
      name: options.name,
      dir: localDir,
      modelType: 'tfjs-layers',
      ...(options.params ? { params: options.params } : {}),
    });
    return { modelId: model.info.model_id, ...(model.info.artifact_uri ? { uri: model.info.artifact_uri } : {}) };
  }

  /** Delivers every buffered metric, then ends the run. Points the server could not take are kept in spill files. */
  async end(status: RunStatus = 'FINISHED'): Promise<RunEndReport> {
    const result = await this.logger.close();
    await this.client.endRun(this.runId, status);
    if (result.spilledPoints === 0) return { tracker: MLFLOW, delivered: true };
    return {
      tracker: MLFLOW,
      delivered: false,
      pending: `${result.spilledPoints} MLflow points wait in ${result.spillFiles.join(', ')}; deliver them with \`npm run mlflow -- replay ${this.options.spillDir} --uri ${redactedUri(this.client.trackingUri)}\``,
    };
  }
}

function describeEvent(e: LoggerEvent): string {
  switch (e.type) {
    case 'unreachable':
      return `MLflow unreachable (${e.error}); ${e.pending} points buffered, retrying`;
    case 'recovered':
      return `MLflow reachable again; delivering ${e.pending} buffered points`;
    case 'spilled':
      return `MLflow: ${e.points} points spilled to ${e.file}`;
    case 'delivered-spill':
      return `MLflow: delivered ${e.points} spilled points from ${e.file}`;
    case 'rejected':
      return `MLflow refused ${e.points} points (${e.error}); kept in ${e.file}`;
  }
}
