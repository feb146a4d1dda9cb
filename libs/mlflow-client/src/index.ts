export { MlflowClient, SystemTags, dvcMd5, collect } from './client.js';
export type { ClientOptions, CreateRunOptions, DatasetInput, MetricPoint, Page, SearchRunsOptions, SourceType } from './client.js';
export {
  DEFAULT_RETRY_STATUS_CODES,
  MlflowConfigSchema,
  RetryConfigSchema,
  S3ConfigSchema,
  TimeoutConfigSchema,
  TlsConfigSchema,
  mlflowConfigFromEnv,
  parseMlflowConfig,
  redactedUri,
} from './config.js';
export type { CredentialsProvider, MlflowConfig, MlflowConfigInput, MlflowCredentials } from './config.js';
export { getArtifactRepository, LocalArtifactRepository, ProxiedArtifactRepository, S3ArtifactRepository } from './artifact-repos.js';
export type { ArtifactRepository } from './artifact-repos.js';
export {
  MlflowAlreadyExistsError,
  MlflowApiError,
  MlflowArtifactStoreError,
  MlflowAuthError,
  MlflowConnectionError,
  MlflowCredentialsError,
  MlflowError,
  MlflowErrorCodes,
  MlflowInvalidRequestError,
  MlflowModelVersionNotReadyError,
  MlflowNotFoundError,
  MlflowReplayError,
  MlflowResponseError,
  MlflowServerError,
  MlflowTlsError,
  MlflowValidationError,
} from './errors.js';
export type { MlflowErrorCode } from './errors.js';
export { LOG_BATCH_LIMITS, splitLogBatch } from './batch.js';
export type { LogBatchChunk, LogBatchLimits } from './batch.js';
export { encodeDouble, toMlflowJson } from './json.js';
export { BufferedLogger } from './logger.js';
export type { BufferedLoggerOptions, LoggerCloseResult, LoggerEvent } from './logger.js';
export { listSpillFiles, readSpillFile, replaySpill, SpillRecordSchema } from './spill.js';
export type { ReplayResult, SpillRecord } from './spill.js';
export { ensureLocalMlflowServer, findMlflowBin, findRunningLocalServer, freePort, resolveTrackingServer, startLocalMlflowServer } from './server.js';
export type { LocalMlflowServer, LocalServerOptions } from './server.js';
export { Transport } from './transport.js';
export type { HttpMethod, TransportEvents } from './transport.js';
export * as rest from './rest.js';
export type { Experiment, FileInfo, LoggedModel, LoggedModelStatus, Metric, ModelVersion, RegisteredModel, Run, RunInfo, RunStatus } from './schemas.js';
export { buildMlmodel, logModelWithMlmodel, ModelSignatureSchema, parseSignature, serverMlflowVersion, tfjsFlavor } from './mlmodel.js';
export type { LogModelWithMlmodelOptions, MlmodelInput, ModelSignature } from './mlmodel.js';
export { isServerGone, listRunSpills, readRunSpill, replayRunSpill, RunSpill, RunSpillFileSchema, RUN_SPILL_SUFFIX } from './run-spill.js';
export type { RunReplayResult, RunSpillFile, RunSpillOp } from './run-spill.js';
