export { OfflineSession, toHyperParam, writeZip, type OfflineSessionOptions, type OfflineSessionResult, type ParamValue } from './session.js';
export { importOfflineSession, readOfflineSession, type ImportClient, type ImportOptions, type ImportResult, type ReadSession } from './import.js';
export { ClearmlOfflineSessionError } from './errors.js';
export * as offlineFormat from './format.js';
export { OfflineTaskSchema, type OfflineTask, type OfflineArtifact, type OfflineOutputModel } from './format.js';
