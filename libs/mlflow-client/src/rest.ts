/**
 * The thin REST layer: one function per MLflow endpoint, request fields exactly as in the protos (snake_case),
 * responses parsed with zod. No policy here (no paging loops, no chunking): that lives in {@link MlflowClient}.
 * `idempotent` marks what the transport may resend after a 5xx/429/lost connection.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { type LoggedModelStatus, Responses, type RunStatus } from './schemas.js';
import type { Transport } from './transport.js';

const API = '/api/2.0/mlflow';
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';

export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
export interface KeyValue {
  key: string;
  value: string;
}
export interface MetricIn {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  dataset_name?: string;
  dataset_digest?: string;
  model_id?: string;
}
export interface CallOptions {
  maxRetries?: number;
  signal?: AbortSignal;
}

// ---------- experiments ----------
export const createExperiment = (t: Transport, body: { name: string; artifact_location?: string; tags?: KeyValue[] }, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/experiments/create`, body, idempotent: false, schema: Responses.createExperiment, ...o });
export const getExperiment = (t: Transport, experiment_id: string, o?: CallOptions) =>
  t.json({ method: 'GET', path: `${API}/experiments/get`, query: { experiment_id }, idempotent: true, schema: Responses.getExperiment, ...o });
export const getExperimentByName = (t: Transport, experiment_name: string, o?: CallOptions) =>
  t.json({ method: 'GET', path: `${API}/experiments/get-by-name`, query: { experiment_name }, idempotent: true, schema: Responses.getExperiment, ...o });
export const searchExperiments = (
  t: Transport,
  body: { max_results?: number; page_token?: string; filter?: string; order_by?: string[]; view_type?: ViewType },
  o?: CallOptions,
) => t.json({ method: 'POST', path: `${API}/experiments/search`, body, idempotent: true, schema: Responses.searchExperiments, ...o });
export const deleteExperiment = (t: Transport, experiment_id: string, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/experiments/delete`, body: { experiment_id }, idempotent: true, schema: Responses.empty, ...o });
export const restoreExperiment = (t: Transport, experiment_id: string, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/experiments/restore`, body: { experiment_id }, idempotent: true, schema: Responses.empty, ...o });
export const updateExperiment = (t: Transport, body: { experiment_id: string; new_name: string }, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/experiments/update`, body, idempotent: true, schema: Responses.empty, ...o });
export const setExperimentTag = (t: Transport, body: { experiment_id: string; key: string; value: string }, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/experiments/set-experiment-tag`, body, idempotent: true, schema: Responses.empty, ...o });
export const deleteExperimentTag = (t: Transport, body: { experiment_id: string; key: string }, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/experiments/delete-experiment-tag`, body, idempotent: true, schema: Responses.empty, ...o });

// ---------- runs ----------
export const createRun = (
  t: Transport,
  body: { experiment_id: string; user_id?: string; run_name?: string; start_time?: number; tags?: KeyValue[] },
  o?: CallOptions,
) => t.json({ method: 'POST', path: `${API}/runs/create`, body, idempotent: false, schema: Responses.run, ...o });
export const getRun = (t: Transport, run_id: string, o?: CallOptions) =>
  t.json({ method: 'GET', path: `${API}/runs/get`, query: { run_id }, idempotent: true, schema: Responses.run, ...o });
export const updateRun = (t: Transport, body: { run_id: string; status?: RunStatus; end_time?: number; run_name?: string }, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/runs/update`, body, idempotent: true, schema: Responses.updateRun, ...o });
export const deleteRun = (t: Transport, run_id: string, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/runs/delete`, body: { run_id }, idempotent: true, schema: Responses.empty, ...o });
export const restoreRun = (t: Transport, run_id: string, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/runs/restore`, body: { run_id }, idempotent: true, schema: Responses.empty, ...o });
export const searchRuns = (
  t: Transport,
  body: { experiment_ids: string[]; filter?: string; run_view_type?: ViewType; max_results?: number; order_by?: string[]; page_token?: string },
  o?: CallOptions,
) => t.json({ method: 'POST', path: `${API}/runs/search`, body, idempotent: true, schema: Responses.searchRuns, ...o });
/** Metrics are deduplicated by the server on (key, timestamp, step, value) and params accept the same value again: resending is safe. */
export const logBatch = (t: Transport, body: { run_id: string; metrics?: MetricIn[]; params?: KeyValue[]; tags?: KeyValue[] }, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/runs/log-batch`, body, idempotent: true, schema: Responses.empty, ...o });
export const logMetric = (t: Transport, body: MetricIn & { run_id: string }, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/runs/log-metric`, body, idempotent: true, schema: Responses.empty, ...o });
export const logParam = (t: Transport, body: { run_id: string; key: string; value: string }, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/runs/log-parameter`, body, idempotent: true, schema: Responses.empty, ...o });
export const setTag = (t: Transport, body: { run_id: string; key: string; value: string }, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/runs/set-tag`, body, idempotent: true, schema: Responses.empty, ...o });
export const deleteTag = (t: Transport, body: { run_id: string; key: string }, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/runs/delete-tag`, body, idempotent: true, schema: Responses.empty, ...o });
export interface DatasetIn {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema?: string;
  profile?: string;
}
export const logInputs = (
  t: Transport,
  body: { run_id: string; datasets?: { tags?: KeyValue[]; dataset: DatasetIn }[]; models?: { model_id: string }[] },
  o?: CallOptions,
) => t.json({ method: 'POST', path: `${API}/runs/log-inputs`, body, idempotent: true, schema: Responses.empty, ...o });
export const logOutputs = (t: Transport, body: { run_id: string; models: { model_id: string; step: number }[] }, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/runs/outputs`, body, idempotent: true, schema: Responses.empty, ...o });

// ---------- metrics ----------
export const getMetricHistory = (
  t: Transport,
  q: { run_id: string; metric_key: string; max_results?: number; page_token?: string },
  o?: CallOptions,
) => t.json({ method: 'GET', path: `${API}/metrics/get-history`, query: q, idempotent: true, schema: Responses.metricHistory, ...o });
export const getMetricHistoryBulkInterval = (
  t: Transport,
  q: { run_ids: string[]; metric_key: string; start_step?: number; end_step?: number; max_results?: number },
  o?: CallOptions,
) =>
  t.json({
    method: 'GET',
    path: `${API}/metrics/get-history-bulk-interval`,
    query: q,
    idempotent: true,
    schema: Responses.metricHistoryBulk,
    ...o,
  });

// ---------- artifacts (tracking API listing + the artifact proxy) ----------
export const listArtifacts = (t: Transport, q: { run_id: string; path?: string; page_token?: string }, o?: CallOptions) =>
  t.json({ method: 'GET', path: `${API}/artifacts/list`, query: q, idempotent: true, schema: Responses.listArtifacts, ...o });

function encodePath(p: string): string {
  return p
    .split('/')
    .filter((s) => s !== '')
    .map(encodeURIComponent)
    .join('/');
}
/** PUT /mlflow-artifacts/artifacts/<path>: `path` is relative to the server's artifact root (e.g. `1/<run>/artifacts/x.txt`). */
export const uploadArtifact = async (
  t: Transport,
  path: string,
  body: Buffer | (() => Readable),
  o?: CallOptions & { contentType?: string },
): Promise<void> => {
  const res = await t.raw({
    method: 'PUT',
    path: `${ARTIFACTS}/${encodePath(path)}`,
    body,
    headers: { 'content-type': o?.contentType ?? 'application/octet-stream' },
    idempotent: true,
    ...(o?.maxRetries !== undefined ? { maxRetries: o.maxRetries } : {}),
    ...(o?.signal ? { signal: o.signal } : {}),
  });
  await res.body.dump();
};
/** GET /mlflow-artifacts/artifacts?path=<dir>: direct children of a directory (names only). */
export const proxyListArtifacts = (t: Transport, path: string, o?: CallOptions) =>
  t.json({ method: 'GET', path: ARTIFACTS, query: { path }, idempotent: true, schema: Responses.proxyListArtifacts, ...o });
/** GET /mlflow-artifacts/artifacts/<path>: the file's bytes as a stream (caller must consume or dump it). */
export const downloadArtifact = (t: Transport, path: string, o?: CallOptions): Promise<Dispatcher.ResponseData<unknown>> =>
  t.raw({ method: 'GET', path: `${ARTIFACTS}/${encodePath(path)}`, idempotent: true, headers: { accept: '*/*' }, ...o });
export const deleteArtifact = async (t: Transport, path: string, o?: CallOptions): Promise<void> => {
  const res = await t.raw({ method: 'DELETE', path: `${ARTIFACTS}/${encodePath(path)}`, idempotent: true, ...o });
  await res.body.dump();
};

// ---------- logged models (MLflow 3) ----------
export const createLoggedModel = (
  t: Transport,
  body: { experiment_id: string; name?: string; model_type?: string; source_run_id?: string; params?: KeyValue[]; tags?: KeyValue[] },
  o?: CallOptions,
) => t.json({ method: 'POST', path: `${API}/logged-models`, body, idempotent: false, schema: Responses.loggedModel, ...o });
export const getLoggedModel = (t: Transport, model_id: string, o?: CallOptions) =>
  t.json({ method: 'GET', path: `${API}/logged-models/${encodeURIComponent(model_id)}`, idempotent: true, schema: Responses.loggedModel, ...o });
export const finalizeLoggedModel = (t: Transport, model_id: string, status: LoggedModelStatus, o?: CallOptions) =>
  t.json({
    method: 'PATCH',
    path: `${API}/logged-models/${encodeURIComponent(model_id)}`,
    body: { model_id, status },
    idempotent: true,
    schema: Responses.loggedModel,
    ...o,
  });
export const deleteLoggedModel = (t: Transport, model_id: string, o?: CallOptions) =>
  t.json({ method: 'DELETE', path: `${API}/logged-models/${encodeURIComponent(model_id)}`, idempotent: true, schema: Responses.empty, ...o });
export const setLoggedModelTags = (t: Transport, model_id: string, tags: KeyValue[], o?: CallOptions) =>
  t.json({
    method: 'PATCH',
    path: `${API}/logged-models/${encodeURIComponent(model_id)}/tags`,
    body: { model_id, tags },
    idempotent: true,
    schema: Responses.empty,
    ...o,
  });
export const logLoggedModelParams = (t: Transport, model_id: string, params: KeyValue[], o?: CallOptions) =>
  t.json({
    method: 'POST',
    path: `${API}/logged-models/${encodeURIComponent(model_id)}/params`,
    body: { model_id, params },
    idempotent: true,
    schema: Responses.empty,
    ...o,
  });
export const searchLoggedModels = (
  t: Transport,
  body: {
    experiment_ids: string[];
    filter?: string;
    datasets?: { dataset_name: string; dataset_digest?: string }[];
    max_results?: number;
    order_by?: { field_name: string; ascending?: boolean; dataset_name?: string; dataset_digest?: string }[];
    page_token?: string;
  },
  o?: CallOptions,
) => t.json({ method: 'POST', path: `${API}/logged-models/search`, body, idempotent: true, schema: Responses.searchLoggedModels, ...o });

// ---------- model registry ----------
export const createRegisteredModel = (t: Transport, body: { name: string; tags?: KeyValue[]; description?: string }, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/registered-models/create`, body, idempotent: false, schema: Responses.registeredModel, ...o });
export const getRegisteredModel = (t: Transport, name: string, o?: CallOptions) =>
  t.json({ method: 'GET', path: `${API}/registered-models/get`, query: { name }, idempotent: true, schema: Responses.registeredModel, ...o });
export const renameRegisteredModel = (t: Transport, body: { name: string; new_name: string }, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/registered-models/rename`, body, idempotent: false, schema: Responses.registeredModel, ...o });
export const updateRegisteredModel = (t: Transport, body: { name: string; description: string }, o?: CallOptions) =>
  t.json({ method: 'PATCH', path: `${API}/registered-models/update`, body, idempotent: true, schema: Responses.registeredModel, ...o });
export const deleteRegisteredModel = (t: Transport, name: string, o?: CallOptions) =>
  t.json({ method: 'DELETE', path: `${API}/registered-models/delete`, body: { name }, idempotent: true, schema: Responses.empty, ...o });
export const searchRegisteredModels = (
  t: Transport,
  q: { filter?: string; max_results?: number; order_by?: string[]; page_token?: string },
  o?: CallOptions,
) => t.json({ method: 'GET', path: `${API}/registered-models/search`, query: q, idempotent: true, schema: Responses.searchRegisteredModels, ...o });
export const setRegisteredModelTag = (t: Transport, body: { name: string; key: string; value: string }, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/registered-models/set-tag`, body, idempotent: true, schema: Responses.empty, ...o });
export const deleteRegisteredModelTag = (t: Transport, body: { name: string; key: string }, o?: CallOptions) =>
  t.json({ method: 'DELETE', path: `${API}/registered-models/delete-tag`, body, idempotent: true, schema: Responses.empty, ...o });
export const setRegisteredModelAlias = (t: Transport, body: { name: string; alias: string; version: string }, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/registered-models/alias`, body, idempotent: true, schema: Responses.empty, ...o });
export const deleteRegisteredModelAlias = (t: Transport, body: { name: string; alias: string }, o?: CallOptions) =>
  t.json({ method: 'DELETE', path: `${API}/registered-models/alias`, body, idempotent: true, schema: Responses.empty, ...o });
export const getModelVersionByAlias = (t: Transport, q: { name: string; alias: string }, o?: CallOptions) =>
  t.json({ method: 'GET', path: `${API}/registered-models/alias`, query: q, idempotent: true, schema: Responses.modelVersion, ...o });
export const createModelVersion = (
  t: Transport,
  body: { name: string; source: string; run_id?: string; tags?: KeyValue[]; run_link?: string; description?: string; model_id?: string },
  o?: CallOptions,
) => t.json({ method: 'POST', path: `${API}/model-versions/create`, body, idempotent: false, schema: Responses.modelVersion, ...o });
export const getModelVersion = (t: Transport, q: { name: string; version: string }, o?: CallOptions) =>
  t.json({ method: 'GET', path: `${API}/model-versions/get`, query: q, idempotent: true, schema: Responses.modelVersion, ...o });
export const updateModelVersion = (t: Transport, body: { name: string; version: string; description: string }, o?: CallOptions) =>
  t.json({ method: 'PATCH', path: `${API}/model-versions/update`, body, idempotent: true, schema: Responses.modelVersion, ...o });
export const deleteModelVersion = (t: Transport, body: { name: string; version: string }, o?: CallOptions) =>
  t.json({ method: 'DELETE', path: `${API}/model-versions/delete`, body, idempotent: true, schema: Responses.empty, ...o });
export const searchModelVersions = (
  t: Transport,
  q: { filter?: string; max_results?: number; order_by?: string[]; page_token?: string },
  o?: CallOptions,
) => t.json({ method: 'GET', path: `${API}/model-versions/search`, query: q, idempotent: true, schema: Responses.searchModelVersions, ...o });
export const setModelVersionTag = (t: Transport, body: { name: string; version: string; key: string; value: string }, o?: CallOptions) =>
  t.json({ method: 'POST', path: `${API}/model-versions/set-tag`, body, idempotent: true, schema: Responses.empty, ...o });
export const deleteModelVersionTag = (t: Transport, body: { name: string; version: string; key: string }, o?: CallOptions) =>
  t.json({ method: 'DELETE', path: `${API}/model-versions/delete-tag`, body, idempotent: true, schema: Responses.empty, ...o });
export const getModelVersionDownloadUri = (t: Transport, q: { name: string; version: string }, o?: CallOptions) =>
  t.json({ method: 'GET', path: `${API}/model-versions/get-download-uri`, query: q, idempotent: true, schema: Responses.downloadUri, ...o });
