/**
 * MlflowClient: the friendly layer over {@link ./rest.ts}. Camel-case options, paging loops, log-batch chunking,
 * system tags, artifact upload/download (through the server's proxy, or straight to S3 or a local folder, picked from
 * the artifact URI's scheme), MLflow 3 logged models and the registry.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import mime from 'mime-types';
import pLimit from 'p-limit';
import type { Dispatcher } from 'undici';
import { type ArtifactRepository, createS3Client, getArtifactRepository } from './artifact-repos.js';
import { joinArtifactPath } from './artifacts.js';
import { type LogBatchLimits, LOG_BATCH_LIMITS, splitLogBatch, validateMetric, validateParam, validateTag } from './batch.js';
import { type MlflowConfig, type MlflowConfigInput, parseMlflowConfig } from './config.js';
import { MlflowAlreadyExistsError, MlflowModelVersionNotReadyError, MlflowNotFoundError, MlflowValidationError } from './errors.js';
import * as rest from './rest.js';
import type { CallOptions, KeyValue, MetricIn, ViewType } from './rest.js';
import type { Experiment, FileInfo, LoggedModel, LoggedModelStatus, Metric, ModelVersion, RegisteredModel, Run, RunInfo, RunStatus } from './schemas.js';
import { Transport, type TransportEvents } from './transport.js';

/** System tags MLflow's own clients set (mlflow/utils/mlflow_tags.py). */
export const SystemTags = {
  runName: 'mlflow.runName',
  user: 'mlflow.user',
  sourceName: 'mlflow.source.name',
  sourceType: 'mlflow.source.type',
  gitCommit: 'mlflow.source.git.commit',
  gitBranch: 'mlflow.source.git.branch',
  gitRepoUrl: 'mlflow.source.git.repoURL',
  parentRunId: 'mlflow.parentRunId',
  note: 'mlflow.note.content',
  datasetContext: 'mlflow.data.context',
} as const;

export type SourceType = 'NOTEBOOK' | 'JOB' | 'PROJECT' | 'LOCAL' | 'UNKNOWN';

export interface MetricPoint {
  key: string;
  value: number;
  /** Default 0. */
  step?: number;
  /** Milliseconds since the epoch; default now. */
  timestamp?: number;
  datasetName?: string;
  datasetDigest?: string;
  modelId?: string;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string | undefined;
}

export interface CreateRunOptions {
  experimentId: string;
  runName?: string;
  /** Milliseconds since the epoch; default now. */
  startTime?: number;
  tags?: Record<string, string>;
  /** Sets `user_id` and the `mlflow.user` tag. */
  user?: string;
  source?: { name?: string; type?: SourceType; gitCommit?: string; gitBranch?: string; gitRepoUrl?: string };
  /** Makes this a nested run (`mlflow.parentRunId`). */
  parentRunId?: string;
  description?: string;
}

export interface SearchRunsOptions {
  experimentIds: string[];
  filter?: string;
  orderBy?: string[];
  viewType?: ViewType;
  /** Page size (server maximum 50,000; default 1000). */
  maxResults?: number;
  pageToken?: string;
}

export interface DatasetInput {
  name: string;
  /** Content digest; use {@link dvcMd5} of the data so it matches the DVC pointer (≤36 characters). */
  digest: string;
  source: string;
  /** e.g. "local", "dvc", "s3", "http". */
  sourceType: string;
  schema?: string;
  profile?: string;
  /** `mlflow.data.context` tag: "training", "validation", "test", … */
  context?: string;
  tags?: Record<string, string>;
}

export interface ClientOptions extends TransportEvents {
  /** Share an undici dispatcher (the client then does not close it). */
  dispatcher?: Dispatcher;
  /** Parallel file transfers for directory upload/download (default 4). */
  transferConcurrency?: number;
}

const toKv = (r: Record<string, string> | undefined): KeyValue[] => Object.entries(r ?? {}).map(([key, value]) => ({ key, value: String(value) }));

export class MlflowClient {
  readonly config: MlflowConfig;
  /** The low-level transport, for {@link rest} functions not wrapped here. */
  readonly transport: Transport;
  private readonly artifactRoots = new Map<string, string>();
  private readonly repos = new Map<string, ArtifactRepository>();
  private readonly concurrency: number;
  private s3: S3Client | undefined;

  constructor(config: MlflowConfigInput | MlflowConfig, options: ClientOptions = {}) {
    this.config = parseMlflowConfig(config);
    this.transport = new Transport(this.config, options, options.dispatcher);
    this.concurrency = Math.max(1, options.transferConcurrency ?? 4);
  }

  /**
   * The artifact repository for an artifact URI (as the server reports it for a run or a logged model), chosen by
   * scheme like MLflow's `get_artifact_repository`: `mlflow-artifacts:` through the server, `s3://` with the config's
   * `s3` section, `file://` or a plain path on this machine.
   */
  artifactRepository(artifactUri: string): ArtifactRepository {
    let repo = this.repos.get(artifactUri);
    if (!repo) {
      const s3 = this.config.s3;
      repo = getArtifactRepository(artifactUri, {
        transport: this.transport,
        s3Client: () => (this.s3 ??= createS3Client(s3)),
        s3Secrets: [s3?.secretAccessKey, s3?.sessionToken].filter((x): x is string => !!x),
      });
      this.repos.set(artifactUri, repo);
    }
    return repo;
  }

  /** Tracking URI without credentials. */
  get trackingUri(): string {
    return this.transport.server;
  }

  async close(): Promise<void> {
    this.s3?.destroy();
    this.s3 = undefined;
    await this.transport.close();
  }

  // ------------------------------------------------------------------ experiments
  /**
   * Create an experiment. When one of the same name exists in the deleted state it is restored and its id returned;
   * when an active one exists, {@link MlflowAlreadyExistsError} (use {@link getOrCreateExperiment} to accept it).
   */
  async createExperiment(name: string, opts: { artifactLocation?: string; tags?: Record<string, string> } = {}): Promise<string> {
    const existing = await this.getExperimentByName(name);
    if (existing?.lifecycle_stage === 'deleted') {
      await rest.restoreExperiment(this.transport, existing.experiment_id);
      for (const t of toKv(opts.tags)) await rest.setExperimentTag(this.transport, { experiment_id: existing.experiment_id, ...t });
      return existing.experiment_id;
    }
    const r = await rest.createExperiment(this.transport, {
      name,
      ...(opts.artifactLocation ? { artifact_location: opts.artifactLocation } : {}),
      tags: toKv(opts.tags),
    });
    return r.experiment_id;
  }

  /** The experiment of that name (restored if deleted), created when missing. Safe against a concurrent create. */
  async getOrCreateExperiment(name: string, opts: { artifactLocation?: string; tags?: Record<string, string> } = {}): Promise<Experiment> {
    const existing = await this.getExperimentByName(name);
    if (existing) {
      if (existing.lifecycle_stage === 'deleted') await rest.restoreExperiment(this.transport, existing.experiment_id);
      for (const t of toKv(opts.tags)) await rest.setExperimentTag(this.transport, { experiment_id: existing.experiment_id, ...t });
      return existing.lifecycle_stage === 'deleted' || opts.tags ? this.getExperiment(existing.experiment_id) : existing;
    }
    try {
      const id = await this.createExperiment(name, opts);
      return await this.getExperiment(id);
    } catch (e) {
      if (e instanceof MlflowAlreadyExistsError) {
        const again = await this.getExperimentByName(name);
        if (again) return again;
      }
      throw e;
    }
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    return (await rest.getExperiment(this.transport, experimentId)).experiment;
  }

  /** The experiment of that name (active or deleted), or undefined. */
  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    try {
      return (await rest.getExperimentByName(this.transport, name)).experiment;
    } catch (e) {
      if (e instanceof MlflowNotFoundError) return undefined;
      throw e;
    }
  }

  async searchExperiments(opts: { filter?: string; orderBy?: string[]; viewType?: ViewType; maxResults?: number; pageToken?: string } = {}): Promise<Page<Experiment>> {
    const r = await rest.searchExperiments(this.transport, {
      max_results: opts.maxResults ?? 1000,
      ...(opts.filter ? { filter: opts.filter } : {}),
      ...(opts.orderBy ? { order_by: opts.orderBy } : {}),
      ...(opts.viewType ? { view_type: opts.viewType } : {}),
      ...(opts.pageToken ? { page_token: opts.pageToken } : {}),
    });
    return { items: r.experiments, nextPageToken: r.next_page_token || undefined };
  }

  /** Every matching experiment, page after page. */
  iterateExperiments(opts: { filter?: string; orderBy?: string[]; viewType?: ViewType; maxResults?: number } = {}): AsyncGenerator<Experiment> {
    return paginate((pageToken) => this.searchExperiments({ ...opts, ...(pageToken ? { pageToken } : {}) }));
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    await rest.setExperimentTag(this.transport, { experiment_id: experimentId, key, value });
  }
  async deleteExperimentTag(experimentId: string, key: string): Promise<void> {
    await rest.deleteExperimentTag(this.transport, { experiment_id: experimentId, key });
  }
  async deleteExperiment(experimentId: string): Promise<void> {
    await rest.deleteExperiment(this.transport, experimentId);
  }
  async restoreExperiment(experimentId: string): Promise<void> {
    await rest.restoreExperiment(this.transport, experimentId);
  }
  async renameExperiment(experimentId: string, newName: string): Promise<void> {
    await rest.updateExperiment(this.transport, { experiment_id: experimentId, new_name: newName });
  }

  // ------------------------------------------------------------------ runs
  /** Create a run with MLflow's system tags (run name, user, source, git commit, parent run for nesting). */
  async createRun(opts: CreateRunOptions): Promise<Run> {
    const tags: Record<string, string> = { ...(opts.tags ?? {}) };
    if (opts.runName) tags[SystemTags.runName] = opts.runName;
    if (opts.user) tags[SystemTags.user] = opts.user;
    if (opts.source?.name) tags[SystemTags.sourceName] = opts.source.name;
    if (opts.source?.type) tags[SystemTags.sourceType] = opts.source.type;
    if (opts.source?.gitCommit) tags[SystemTags.gitCommit] = opts.source.gitCommit;
    if (opts.source?.gitBranch) tags[SystemTags.gitBranch] = opts.source.gitBranch;
    if (opts.source?.gitRepoUrl) tags[SystemTags.gitRepoUrl] = opts.source.gitRepoUrl;
    if (opts.parentRunId) tags[SystemTags.parentRunId] = opts.parentRunId;
    if (opts.description) tags[SystemTags.note] = opts.description;
    const kv = toKv(tags);
    kv.forEach(validateTag);
    const r = await rest.createRun(this.transport, {
      experiment_id: opts.experimentId,
      start_time: opts.startTime ?? Date.now(),
      ...(opts.runName ? { run_name: opts.runName } : {}),
      ...(opts.user ? { user_id: opts.user } : {}),
      tags: kv,
    });
    this.artifactRoots.set(r.run.info.run_id, r.run.info.artifact_uri);
    return r.run;
  }

  async getRun(runId: string): Promise<Run> {
    const r = (await rest.getRun(this.transport, runId)).run;
    this.artifactRoots.set(runId, r.info.artifact_uri);
    return r;
  }

  async updateRun(runId: string, opts: { status?: RunStatus; endTime?: number; runName?: string }): Promise<RunInfo> {
    const r = await rest.updateRun(this.transport, {
      run_id: runId,
      ...(opts.status ? { status: opts.status } : {}),
      ...(opts.endTime !== undefined ? { end_time: opts.endTime } : {}),
      ...(opts.runName ? { run_name: opts.runName } : {}),
    });
    return r.run_info;
  }

  /** Set the terminal status (default FINISHED) and the end time (default now). */
  async endRun(runId: string, status: Exclude<RunStatus, 'RUNNING' | 'SCHEDULED'> = 'FINISHED', endTime = Date.now()): Promise<RunInfo> {
    return this.updateRun(runId, { status, endTime });
  }

  async deleteRun(runId: string): Promise<void> {
    await rest.deleteRun(this.transport, runId);
  }
  async restoreRun(runId: string): Promise<void> {
    await rest.restoreRun(this.transport, runId);
  }

  async searchRuns(opts: SearchRunsOptions): Promise<Page<Run>> {
    const r = await rest.searchRuns(this.transport, {
      experiment_ids: opts.experimentIds,
      max_results: opts.maxResults ?? 1000,
      ...(opts.filter ? { filter: opts.filter } : {}),
      ...(opts.orderBy ? { order_by: opts.orderBy } : {}),
      ...(opts.viewType ? { run_view_type: opts.viewType } : {}),
      ...(opts.pageToken ? { page_token: opts.pageToken } : {}),
    });
    return { items: r.runs, nextPageToken: r.next_page_token || undefined };
  }

  /** Every matching run across all pages. */
  iterateRuns(opts: Omit<SearchRunsOptions, 'pageToken'>): AsyncGenerator<Run> {
    return paginate((pageToken) => this.searchRuns({ ...opts, ...(pageToken ? { pageToken } : {}) }));
  }

  async searchAllRuns(opts: Omit<SearchRunsOptions, 'pageToken'>): Promise<Run[]> {
    return collect(this.iterateRuns(opts));
  }

  /**
   * Log any number of metrics, params and tags: validated like the server does, then split into requests within
   * the server's limits (≤1000 metrics, ≤100 params, ≤100 tags, ≤1000 entities, ≤1 MB) and sent in order.
   * Returns the number of requests made.
   */
  async logBatch(
    runId: string,
    input: { metrics?: readonly MetricPoint[]; params?: Record<string, unknown> | readonly KeyValue[]; tags?: Record<string, string> | readonly KeyValue[] },
    opts: CallOptions & { limits?: LogBatchLimits } = {},
  ): Promise<number> {
    const now = Date.now();
    const metrics: MetricIn[] = (input.metrics ?? []).map((m) => toMetricIn(m, now));
    const params = normalizeKv(input.params);
    const tags = normalizeKv(input.tags);
    const keys = new Set<string>();
    for (const m of metrics) validateMetric(m, keys);
    params.forEach(validateParam);
    tags.forEach(validateTag);
    const chunks = splitLogBatch({ metrics, params, tags }, opts.limits ?? LOG_BATCH_LIMITS);
    const call: CallOptions = {};
    if (opts.maxRetries !== undefined) call.maxRetries = opts.maxRetries;
    if (opts.signal) call.signal = opts.signal;
    for (const c of chunks) {
      await rest.logBatch(
        this.transport,
        {
          run_id: runId,
          ...(c.metrics.length ? { metrics: c.metrics } : {}),
          ...(c.params.length ? { params: c.params } : {}),
          ...(c.tags.length ? { tags: c.tags } : {}),
        },
        call,
      );
    }
    return chunks.length;
  }

  async logMetric(runId: string, key: string, value: number, opts: { step?: number; timestamp?: number } = {}): Promise<void> {
    const m = toMetricIn({ key, value, ...opts }, Date.now());
    validateMetric(m);
    await rest.logMetric(this.transport, { run_id: runId, ...m });
  }
  async logParam(runId: string, key: string, value: unknown): Promise<void> {
    const p = { key, value: stringifyParam(value) };
    validateParam(p);
    await rest.logParam(this.transport, { run_id: runId, ...p });
  }
  async logParams(runId: string, params: Record<string, unknown>): Promise<void> {
    await this.logBatch(runId, { params });
  }
  async setTag(runId: string, key: string, value: string): Promise<void> {
    validateTag({ key, value });
    await rest.setTag(this.transport, { run_id: runId, key, value });
  }
  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    await this.logBatch(runId, { tags });
  }
  async deleteTag(runId: string, key: string): Promise<void> {
    await rest.deleteTag(this.transport, { run_id: runId, key });
  }

  /** The full history of one metric (every page). */
  async getMetricHistory(runId: string, key: string, opts: { pageSize?: number } = {}): Promise<Metric[]> {
    const out: Metric[] = [];
    let pageToken: string | undefined;
    do {
      const r = await rest.getMetricHistory(this.transport, {
        run_id: runId,
        metric_key: key,
        max_results: opts.pageSize ?? 25_000,
        ...(pageToken ? { page_token: pageToken } : {}),
      });
      out.push(...r.metrics);
      pageToken = r.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  /** Sampled history of one metric for several runs (the UI's chart endpoint). */
  async getMetricHistoryBulkInterval(
    runIds: string[],
    key: string,
    opts: { startStep?: number; endStep?: number; maxResults?: number } = {},
  ): Promise<(Metric & { run_id: string })[]> {
    const r = await rest.getMetricHistoryBulkInterval(this.transport, {
      run_ids: runIds,
      metric_key: key,
      ...(opts.startStep !== undefined ? { start_step: opts.startStep } : {}),
      ...(opts.endStep !== undefined ? { end_step: opts.endStep } : {}),
      ...(opts.maxResults !== undefined ? { max_results: opts.maxResults } : {}),
    });
    return r.metrics;
  }

  /** Record datasets used by the run (MLflow's run inputs), e.g. with the DVC md5 as digest. */
  async logInputs(runId: string, datasets: DatasetInput[], models: string[] = []): Promise<void> {
    for (const d of datasets) {
      if (!d.name) throw new MlflowValidationError('dataset name', 'must not be empty');
      if (!d.digest || d.digest.length > 36) throw new MlflowValidationError(`dataset "${d.name}" digest`, 'must be 1..36 characters (an md5 is 32)');
    }
    await rest.logInputs(this.transport, {
      run_id: runId,
      datasets: datasets.map((d) => ({
        tags: toKv({ ...(d.tags ?? {}), ...(d.context ? { [SystemTags.datasetContext]: d.context } : {}) }),
        dataset: {
          name: d.name,
          digest: d.digest,
          source_type: d.sourceType,
          source: d.source,
          ...(d.schema !== undefined ? { schema: d.schema } : {}),
          ...(d.profile !== undefined ? { profile: d.profile } : {}),
        },
      })),
      ...(models.length ? { models: models.map((model_id) => ({ model_id })) } : {}),
    });
  }

  // ------------------------------------------------------------------ artifacts
  private async runRepo(runId: string): Promise<ArtifactRepository> {
    let uri = this.artifactRoots.get(runId);
    if (!uri) uri = (await this.getRun(runId)).info.artifact_uri;
    return this.artifactRepository(uri);
  }

  /** Upload one file as `<artifactPath>/<basename>` of the run. */
  async logArtifact(runId: string, localFile: string, artifactPath?: string): Promise<string> {
    return this.uploadFileTo(await this.runRepo(runId), localFile, artifactPath);
  }

  /** Upload a directory tree under `artifactPath` (default the artifact root), files in parallel. Returns the artifact paths. */
  async logArtifacts(runId: string, localDir: string, artifactPath?: string): Promise<string[]> {
    return this.uploadDirTo(await this.runRepo(runId), localDir, artifactPath);
  }

  /** Upload bytes or text as an artifact file at `artifactFile` (e.g. "reports/summary.json"). */
  async logArtifactContent(runId: string, content: Buffer | string, artifactFile: string): Promise<void> {
    const repo = await this.runRepo(runId);
    await repo.uploadBytes(Buffer.from(content), joinArtifactPath(artifactFile), guessContentType(artifactFile));
  }

  /** List a run's artifacts under `path`; with `recursive`, every file below it (directories omitted). */
  async listArtifacts(runId: string, path?: string, opts: { recursive?: boolean } = {}): Promise<FileInfo[]> {
    return this.listUnder(await this.runRepo(runId), path, opts.recursive ?? false);
  }

  /**
   * Download a run artifact (file or directory) into `destDir`, keeping its relative path. Each file is written to a
   * temporary name and renamed, so no half-written file is left. Returns the local path of `path`.
   */
  async downloadArtifacts(runId: string, path: string, destDir: string): Promise<string> {
    return this.downloadFrom(await this.runRepo(runId), path, destDir);
  }

  /** Read one artifact file into memory. */
  async readArtifact(runId: string, path: string): Promise<Buffer> {
    return (await this.runRepo(runId)).read(joinArtifactPath(path));
  }

  private async uploadFileTo(repo: ArtifactRepository, localFile: string, artifactPath?: string): Promise<string> {
    const st = await stat(localFile).catch(() => undefined);
    if (!st?.isFile()) throw new MlflowValidationError(`artifact file ${localFile}`, 'does not exist or is not a file');
    const rel = joinArtifactPath(artifactPath, basename(localFile));
    await repo.uploadFile(localFile, rel, guessContentType(localFile));
    return rel;
  }

  private async uploadDirTo(repo: ArtifactRepository, localDir: string, artifactPath?: string): Promise<string[]> {
    const st = await stat(localDir).catch(() => undefined);
    if (!st?.isDirectory()) throw new MlflowValidationError(`artifact directory ${localDir}`, 'does not exist or is not a directory');
    const files = await walkFiles(localDir);
    const rels = files.map((f) => joinArtifactPath(artifactPath, relative(localDir, dirname(f)).split(sep).join('/')));
    const limit = pLimit(this.concurrency);
    await Promise.all(files.map((f, i) => limit(() => this.uploadFileTo(repo, f, rels[i]))));
    return files.map((f, i) => joinArtifactPath(rels[i], basename(f)));
  }

  private async listUnder(repo: ArtifactRepository, path: string | undefined, recursive: boolean): Promise<FileInfo[]> {
    const out: FileInfo[] = [];
    for (const f of await repo.list(joinArtifactPath(path))) {
      if (f.is_dir && recursive) out.push(...(await this.listUnder(repo, f.path, true)));
      else out.push(f);
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private async downloadFrom(repo: ArtifactRepository, path: string, destDir: string): Promise<string> {
    const rel = joinArtifactPath(path);
    const listing = await this.listUnder(repo, rel, true);
    if (listing.length === 0 && rel) {
      // A single file (or nothing: the read then fails with MlflowNotFoundError).
      const local = join(destDir, ...rel.split('/'));
      await repo.downloadFile(rel, local);
      return local;
    }
    const limit = pLimit(this.concurrency);
    await Promise.all(listing.map((f) => limit(() => repo.downloadFile(f.path, join(destDir, ...f.path.split('/'))))));
    return rel ? join(destDir, ...rel.split('/')) : destDir;
  }

  // ------------------------------------------------------------------ logged models (MLflow 3)
  async createLoggedModel(opts: {
    experimentId: string;
    name?: string;
    modelType?: string;
    sourceRunId?: string;
    params?: Record<string, unknown>;
    tags?: Record<string, string>;
  }): Promise<LoggedModel> {
    const r = await rest.createLoggedModel(this.transport, {
      experiment_id: opts.experimentId,
      ...(opts.name ? { name: opts.name } : {}),
      ...(opts.modelType ? { model_type: opts.modelType } : {}),
      ...(opts.sourceRunId ? { source_run_id: opts.sourceRunId } : {}),
      params: normalizeKv(opts.params),
      tags: toKv(opts.tags),
    });
    return r.model;
  }
  async getLoggedModel(modelId: string): Promise<LoggedModel> {
    return (await rest.getLoggedModel(this.transport, modelId)).model;
  }
  async finalizeLoggedModel(modelId: string, status: LoggedModelStatus = 'LOGGED_MODEL_READY'): Promise<LoggedModel> {
    return (await rest.finalizeLoggedModel(this.transport, modelId, status)).model;
  }
  async setLoggedModelTags(modelId: string, tags: Record<string, string>): Promise<void> {
    await rest.setLoggedModelTags(this.transport, modelId, toKv(tags));
  }
  async deleteLoggedModel(modelId: string): Promise<void> {
    await rest.deleteLoggedModel(this.transport, modelId);
  }
  /** Upload a directory as the logged model's artifacts (model.json, weights, MLmodel…). */
  async logLoggedModelArtifacts(modelId: string, localDir: string, artifactPath?: string): Promise<string[]> {
    const m = await this.getLoggedModel(modelId);
    return this.uploadDirTo(this.artifactRepository(m.info.artifact_uri), localDir, artifactPath);
  }
  async listLoggedModelArtifacts(modelId: string, path?: string): Promise<FileInfo[]> {
    const m = await this.getLoggedModel(modelId);
    return this.listUnder(this.artifactRepository(m.info.artifact_uri), path, true);
  }
  async downloadLoggedModelArtifacts(modelId: string, destDir: string, path = ''): Promise<string> {
    const m = await this.getLoggedModel(modelId);
    return this.downloadFrom(this.artifactRepository(m.info.artifact_uri), path, destDir);
  }
  /** Record the model as an output of the run (what `mlflow.<flavor>.log_model` does). */
  async linkModelToRun(runId: string, modelId: string, step = 0): Promise<void> {
    await rest.logOutputs(this.transport, { run_id: runId, models: [{ model_id: modelId, step }] });
  }

  /**
   * The whole MLflow 3 "log model" flow: create the logged model (source run = runId, in the run's experiment),
   * link it as the run's output, upload `dir`, finalize as READY (UPLOAD_FAILED and rethrow on error).
   * `beforeFinalize` adds what depends on the new model's id (e.g. an `MLmodel` file) before it is marked READY.
   */
  async logModel(opts: {
    runId: string;
    name: string;
    dir: string;
    modelType?: string;
    params?: Record<string, unknown>;
    tags?: Record<string, string>;
    step?: number;
    beforeFinalize?: (model: LoggedModel) => Promise<void>;
  }): Promise<LoggedModel> {
    const run = await this.getRun(opts.runId);
    const model = await this.createLoggedModel({
      experimentId: run.info.experiment_id,
      name: opts.name,
      sourceRunId: opts.runId,
      ...(opts.modelType ? { modelType: opts.modelType } : {}),
      ...(opts.params ? { params: opts.params } : {}),
      ...(opts.tags ? { tags: opts.tags } : {}),
    });
    const id = model.info.model_id;
    try {
      await this.linkModelToRun(opts.runId, id, opts.step ?? 0);
      await this.uploadDirTo(this.artifactRepository(model.info.artifact_uri), opts.dir);
      await opts.beforeFinalize?.(model);
    } catch (e) {
      await rest.finalizeLoggedModel(this.transport, id, 'LOGGED_MODEL_UPLOAD_FAILED').catch(() => undefined);
      throw e;
    }
    return this.finalizeLoggedModel(id, 'LOGGED_MODEL_READY');
  }

  async searchLoggedModels(opts: {
    experimentIds: string[];
    filter?: string;
    orderBy?: { fieldName: string; ascending?: boolean }[];
    datasets?: { datasetName: string; datasetDigest?: string }[];
    maxResults?: number;
    pageToken?: string;
  }): Promise<Page<LoggedModel>> {
    const r = await rest.searchLoggedModels(this.transport, {
      experiment_ids: opts.experimentIds,
      ...(opts.filter ? { filter: opts.filter } : {}),
      ...(opts.orderBy ? { order_by: opts.orderBy.map((o) => ({ field_name: o.fieldName, ascending: o.ascending ?? true })) } : {}),
      ...(opts.datasets
        ? { datasets: opts.datasets.map((d) => ({ dataset_name: d.datasetName, ...(d.datasetDigest ? { dataset_digest: d.datasetDigest } : {}) })) }
        : {}),
      max_results: opts.maxResults ?? 100,
      ...(opts.pageToken ? { page_token: opts.pageToken } : {}),
    });
    return { items: r.models, nextPageToken: r.next_page_token || undefined };
  }
  iterateLoggedModels(opts: Omit<Parameters<MlflowClient['searchLoggedModels']>[0], 'pageToken'>): AsyncGenerator<LoggedModel> {
    return paginate((pageToken) => this.searchLoggedModels({ ...opts, ...(pageToken ? { pageToken } : {}) }));
  }

  // ------------------------------------------------------------------ model registry
  /** Create a registered model; with `ifExists: 'return'` an existing one is returned instead of an error. */
  async createRegisteredModel(
    name: string,
    opts: { tags?: Record<string, string>; description?: string; ifExists?: 'error' | 'return' } = {},
  ): Promise<RegisteredModel> {
    try {
      return (
        await rest.createRegisteredModel(this.transport, { name, tags: toKv(opts.tags), ...(opts.description ? { description: opts.description } : {}) })
      ).registered_model;
    } catch (e) {
      if (e instanceof MlflowAlreadyExistsError && opts.ifExists === 'return') return this.getRegisteredModel(name);
      throw e;
    }
  }
  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    return (await rest.getRegisteredModel(this.transport, name)).registered_model;
  }
  async deleteRegisteredModel(name: string): Promise<void> {
    await rest.deleteRegisteredModel(this.transport, name);
  }
  async updateRegisteredModel(name: string, description: string): Promise<RegisteredModel> {
    return (await rest.updateRegisteredModel(this.transport, { name, description })).registered_model;
  }
  async renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel> {
    return (await rest.renameRegisteredModel(this.transport, { name, new_name: newName })).registered_model;
  }
  async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    await rest.setRegisteredModelTag(this.transport, { name, key, value });
  }
  async searchRegisteredModels(opts: { filter?: string; orderBy?: string[]; maxResults?: number; pageToken?: string } = {}): Promise<Page<RegisteredModel>> {
    const r = await rest.searchRegisteredModels(this.transport, {
      max_results: opts.maxResults ?? 100,
      ...(opts.filter ? { filter: opts.filter } : {}),
      ...(opts.orderBy ? { order_by: opts.orderBy } : {}),
      ...(opts.pageToken ? { page_token: opts.pageToken } : {}),
    });
    return { items: r.registered_models, nextPageToken: r.next_page_token || undefined };
  }
  iterateRegisteredModels(opts: { filter?: string; orderBy?: string[]; maxResults?: number } = {}): AsyncGenerator<RegisteredModel> {
    return paginate((pageToken) => this.searchRegisteredModels({ ...opts, ...(pageToken ? { pageToken } : {}) }));
  }

  /**
   * Create a model version and wait until the registry reports it READY: polls with back-off (0.25 s growing to
   * `maxPollMs`, default 5 s) until `awaitReadyMs` (default 300 s, as MLflow's `await_registration_for`). A version
   * that fails to register, or is still pending at the deadline, is never returned: that throws
   * {@link MlflowModelVersionNotReadyError} naming the model, the version and the status.
   */
  async createModelVersion(opts: {
    name: string;
    source: string;
    runId?: string;
    modelId?: string;
    tags?: Record<string, string>;
    description?: string;
    awaitReadyMs?: number;
    maxPollMs?: number;
    signal?: AbortSignal;
  }): Promise<ModelVersion> {
    const started = Date.now();
    const mv = (
      await rest.createModelVersion(this.transport, {
        name: opts.name,
        source: opts.source,
        ...(opts.runId ? { run_id: opts.runId } : {}),
        ...(opts.modelId ? { model_id: opts.modelId } : {}),
        tags: toKv(opts.tags),
        ...(opts.description ? { description: opts.description } : {}),
      })
    ).model_version;
    return this.waitForModelVersion(mv, {
      deadline: started + (opts.awaitReadyMs ?? 300_000),
      started,
      maxPollMs: opts.maxPollMs ?? 5_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  private async waitForModelVersion(
    first: ModelVersion,
    o: { deadline: number; started: number; maxPollMs: number; signal?: AbortSignal },
  ): Promise<ModelVersion> {
    let mv = first;
    let pollMs = 250;
    for (;;) {
      const status = mv.status ?? 'READY';
      if (status === 'READY') return mv;
      if (status === 'FAILED_REGISTRATION' || Date.now() >= o.deadline) {
        throw new MlflowModelVersionNotReadyError({
          modelName: mv.name,
          version: mv.version,
          status,
          statusMessage: mv.status_message ?? undefined,
          waitedMs: Date.now() - o.started,
        });
      }
      await sleep(Math.max(0, Math.min(pollMs, o.deadline - Date.now())), undefined, o.signal ? { signal: o.signal } : undefined);
      pollMs = Math.min(o.maxPollMs, Math.round(pollMs * 1.6));
      mv = await this.getModelVersion(mv.name, mv.version);
    }
  }

  /**
   * Register a logged model (MLflow 3: source `models:/<model_id>`) or any source URI under `name`, creating the
   * registered model when missing; optionally point `alias` at the new version.
   */
  async registerModel(opts: {
    name: string;
    modelId?: string;
    source?: string;
    runId?: string;
    tags?: Record<string, string>;
    description?: string;
    alias?: string;
    /** How long to wait for the new version to be READY before the alias is set (default 300 s). */
    awaitReadyMs?: number;
  }): Promise<ModelVersion> {
    if (!opts.modelId && !opts.source) throw new MlflowValidationError('registerModel', 'give modelId (a logged model) or source');
    await this.createRegisteredModel(opts.name, { ifExists: 'return' });
    let runId = opts.runId;
    if (opts.modelId && !runId) runId = (await this.getLoggedModel(opts.modelId)).info.source_run_id || undefined;
    const mv = await this.createModelVersion({
      name: opts.name,
      source: opts.source ?? `models:/${opts.modelId}`,
      ...(runId ? { runId } : {}),
      ...(opts.modelId ? { modelId: opts.modelId } : {}),
      ...(opts.tags ? { tags: opts.tags } : {}),
      ...(opts.description ? { description: opts.description } : {}),
      ...(opts.awaitReadyMs !== undefined ? { awaitReadyMs: opts.awaitReadyMs } : {}),
    });
    if (opts.alias) {
      await this.setRegisteredModelAlias(opts.name, opts.alias, mv.version);
      return this.getModelVersion(opts.name, mv.version);
    }
    return mv;
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    return (await rest.getModelVersion(this.transport, { name, version })).model_version;
  }
  async updateModelVersion(name: string, version: string, description: string): Promise<ModelVersion> {
    return (await rest.updateModelVersion(this.transport, { name, version, description })).model_version;
  }
  async deleteModelVersion(name: string, version: string): Promise<void> {
    await rest.deleteModelVersion(this.transport, { name, version });
  }
  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await rest.setModelVersionTag(this.transport, { name, version, key, value });
  }
  async searchModelVersions(opts: { filter?: string; orderBy?: string[]; maxResults?: number; pageToken?: string } = {}): Promise<Page<ModelVersion>> {
    const r = await rest.searchModelVersions(this.transport, {
      max_results: opts.maxResults ?? 1000,
      ...(opts.filter ? { filter: opts.filter } : {}),
      ...(opts.orderBy ? { order_by: opts.orderBy } : {}),
      ...(opts.pageToken ? { page_token: opts.pageToken } : {}),
    });
    return { items: r.model_versions, nextPageToken: r.next_page_token || undefined };
  }
  iterateModelVersions(opts: { filter?: string; orderBy?: string[]; maxResults?: number } = {}): AsyncGenerator<ModelVersion> {
    return paginate((pageToken) => this.searchModelVersions({ ...opts, ...(pageToken ? { pageToken } : {}) }));
  }
  async setRegisteredModelAlias(name: string, alias: string, version: string): Promise<void> {
    await rest.setRegisteredModelAlias(this.transport, { name, alias, version });
  }
  async deleteRegisteredModelAlias(name: string, alias: string): Promise<void> {
    await rest.deleteRegisteredModelAlias(this.transport, { name, alias });
  }
  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return (await rest.getModelVersionByAlias(this.transport, { name, alias })).model_version;
  }
  async getModelVersionDownloadUri(name: string, version: string): Promise<string> {
    return (await rest.getModelVersionDownloadUri(this.transport, { name, version })).artifact_uri;
  }
}

// ------------------------------------------------------------------ helpers
export function toMetricIn(m: MetricPoint, now: number): MetricIn {
  return {
    key: m.key,
    value: m.value,
    timestamp: m.timestamp ?? now,
    step: m.step ?? 0,
    ...(m.datasetName !== undefined ? { dataset_name: m.datasetName } : {}),
    ...(m.datasetDigest !== undefined ? { dataset_digest: m.datasetDigest } : {}),
    ...(m.modelId !== undefined ? { model_id: m.modelId } : {}),
  };
}

/** The inverse of {@link toMetricIn}: a wire metric back to the client's point (for re-sending buffered points). */
export function fromMetricIn(m: MetricIn): MetricPoint {
  return {
    key: m.key,
    value: m.value,
    step: m.step,
    timestamp: m.timestamp,
    ...(m.dataset_name !== undefined ? { datasetName: m.dataset_name } : {}),
    ...(m.dataset_digest !== undefined ? { datasetDigest: m.dataset_digest } : {}),
    ...(m.model_id !== undefined ? { modelId: m.model_id } : {}),
  };
}

function stringifyParam(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function normalizeKv(input: Record<string, unknown> | readonly KeyValue[] | undefined): KeyValue[] {
  if (!input) return [];
  if (Array.isArray(input)) return (input as readonly KeyValue[]).map((p) => ({ key: p.key, value: stringifyParam(p.value) }));
  return Object.entries(input as Record<string, unknown>).map(([key, value]) => ({ key, value: stringifyParam(value) }));
}

async function* paginate<T>(fetchPage: (token: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    yield* page.items;
    token = page.nextPageToken;
  } while (token);
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function walkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walkFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function guessContentType(file: string): string {
  return mime.lookup(file) || 'application/octet-stream';
}

/**
 * The md5 DVC records for a file (`outs[].md5` in a .dvc file / dvc.lock): the md5 of its bytes. Use it as the
 * dataset digest so a run's input can be traced to the DVC-tracked data.
 */
export async function dvcMd5(file: string): Promise<string> {
  const h = createHash('md5');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}
