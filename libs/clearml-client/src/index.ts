// Public surface of @mlops-ts/clearml-client (filled in by the modules below as they land).
export * from './errors.js';
export * from './hocon.js';
export * from './config.js';
export * from './transport.js';
export * from './files.js';
export * from './client.js';
export * from './api/schemas.js';
export * from './api/names.js';
export * from './api/projects.js';
export * from './api/queues.js';
export * from './api/tasks.js';
export * from './api/models.js';
export * from './api/artifacts.js';
export * from './query/summaries.js';
export * from './query/compare.js';
export * from './query/queries.js';
export * from './pipeline/index.js';
