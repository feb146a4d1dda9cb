/**
 * zod schemas of the MLflow REST responses (service.proto, model_registry.proto, mlflow_artifacts.proto, as served
 * by MLflow 3.x in protobuf-JSON with snake_case names). Protobuf-JSON omits empty fields, so strings and lists
 * get defaults; unknown fields are dropped.
 */
import { z } from 'zod';
import { DoubleSchema, Int64Schema } from './json.js';

const str = z.string().default('');
const opt = z.string().optional();
const i64opt = Int64Schema.optional();
const kvList = z.array(z.object({ key: z.string(), value: str })).default([]);

export const ExperimentSchema = z.object({
  experiment_id: z.string(),
  name: z.string(),
  artifact_location: str,
  lifecycle_stage: z.string().default('active'),
  last_update_time: i64opt,
  creation_time: i64opt,
  tags: kvList,
});
export type Experiment = z.output<typeof ExperimentSchema>;

export const RunStatusSchema = z.enum(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']);
export type RunStatus = z.output<typeof RunStatusSchema>;

export const MetricSchema = z.object({
  key: z.string(),
  value: DoubleSchema,
  timestamp: Int64Schema.default(0),
  step: Int64Schema.default(0),
  dataset_name: opt,
  dataset_digest: opt,
  model_id: opt,
  run_id: opt,
});
export type Metric = z.output<typeof MetricSchema>;

export const RunInfoSchema = z.object({
  run_id: z.string(),
  run_name: str,
  experiment_id: z.string(),
  user_id: str,
  status: RunStatusSchema.default('RUNNING'),
  start_time: i64opt,
  end_time: i64opt,
  artifact_uri: str,
  lifecycle_stage: z.string().default('active'),
});
export type RunInfo = z.output<typeof RunInfoSchema>;

export const DatasetSchema = z.object({
  name: z.string(),
  digest: z.string(),
  source_type: str,
  source: str,
  schema: opt,
  profile: opt,
});
export const DatasetInputSchema = z.object({ tags: kvList, dataset: DatasetSchema });

export const RunSchema = z.object({
  info: RunInfoSchema,
  data: z
    .object({
      metrics: z.array(MetricSchema).default([]),
      params: kvList,
      tags: kvList,
    })
    .default({ metrics: [], params: [], tags: [] }),
  inputs: z
    .object({
      dataset_inputs: z.array(DatasetInputSchema).default([]),
      model_inputs: z.array(z.object({ model_id: z.string() })).default([]),
    })
    .default({ dataset_inputs: [], model_inputs: [] }),
  outputs: z
    .object({ model_outputs: z.array(z.object({ model_id: z.string(), step: Int64Schema.default(0) })).default([]) })
    .default({ model_outputs: [] }),
});
export type Run = z.output<typeof RunSchema>;

export const FileInfoSchema = z.object({ path: z.string(), is_dir: z.boolean().default(false), file_size: i64opt });
export type FileInfo = z.output<typeof FileInfoSchema>;

export const LoggedModelStatusSchema = z.enum([
  'LOGGED_MODEL_STATUS_UNSPECIFIED',
  'LOGGED_MODEL_PENDING',
  'LOGGED_MODEL_READY',
  'LOGGED_MODEL_UPLOAD_FAILED',
]);
export type LoggedModelStatus = z.output<typeof LoggedModelStatusSchema>;

export const LoggedModelSchema = z.object({
  info: z.object({
    model_id: z.string(),
    experiment_id: z.string(),
    name: z.string(),
    creation_timestamp_ms: i64opt,
    last_updated_timestamp_ms: i64opt,
    artifact_uri: str,
    status: LoggedModelStatusSchema.default('LOGGED_MODEL_STATUS_UNSPECIFIED'),
    model_type: opt,
    source_run_id: opt,
    status_message: opt,
    tags: kvList,
    registrations: z.array(z.object({ name: z.string(), version: z.string() })).default([]),
  }),
  data: z
    .object({ params: kvList, metrics: z.array(MetricSchema).default([]) })
    .default({ params: [], metrics: [] }),
});
export type LoggedModel = z.output<typeof LoggedModelSchema>;

export const ModelVersionStatusSchema = z.enum(['PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY']);

export const ModelVersionSchema = z.object({
  name: z.string(),
  version: z.string(),
  creation_timestamp: i64opt,
  last_updated_timestamp: i64opt,
  user_id: opt,
  current_stage: opt,
  description: opt,
  source: str,
  run_id: opt,
  status: ModelVersionStatusSchema.default('READY'),
  status_message: opt,
  tags: kvList,
  run_link: opt,
  aliases: z.array(z.string()).default([]),
  model_id: opt,
});
export type ModelVersion = z.output<typeof ModelVersionSchema>;

export const RegisteredModelSchema = z.object({
  name: z.string(),
  creation_timestamp: i64opt,
  last_updated_timestamp: i64opt,
  user_id: opt,
  description: opt,
  latest_versions: z.array(ModelVersionSchema).default([]),
  tags: kvList,
  aliases: z.array(z.object({ alias: z.string(), version: z.string() })).default([]),
});
export type RegisteredModel = z.output<typeof RegisteredModelSchema>;

const page = { next_page_token: opt };
export const Responses = {
  empty: z.object({}).passthrough(),
  createExperiment: z.object({ experiment_id: z.string() }),
  getExperiment: z.object({ experiment: ExperimentSchema }),
  searchExperiments: z.object({ experiments: z.array(ExperimentSchema).default([]), ...page }),
  run: z.object({ run: RunSchema }),
  updateRun: z.object({ run_info: RunInfoSchema }),
  searchRuns: z.object({ runs: z.array(RunSchema).default([]), ...page }),
  metricHistory: z.object({ metrics: z.array(MetricSchema).default([]), ...page }),
  metricHistoryBulk: z.object({ metrics: z.array(MetricSchema.extend({ run_id: z.string() })).default([]) }),
  listArtifacts: z.object({ root_uri: opt, files: z.array(FileInfoSchema).default([]), ...page }),
  proxyListArtifacts: z.object({ files: z.array(FileInfoSchema).default([]) }),
  loggedModel: z.object({ model: LoggedModelSchema }),
  searchLoggedModels: z.object({ models: z.array(LoggedModelSchema).default([]), ...page }),
  registeredModel: z.object({ registered_model: RegisteredModelSchema }),
  searchRegisteredModels: z.object({ registered_models: z.array(RegisteredModelSchema).default([]), ...page }),
  modelVersion: z.object({ model_version: ModelVersionSchema }),
  searchModelVersions: z.object({ model_versions: z.array(ModelVersionSchema).default([]), ...page }),
  downloadUri: z.object({ artifact_uri: z.string() }),
};
