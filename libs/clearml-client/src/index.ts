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
export * from './events/index.js';
export * from './offline/index.js';
export * from './pipeline/index.js';
// Merge of cml-core (query.plots → PlotEvent) and cml-events (events.PlotEvent): both export a `PlotEvent`; the name
// stays the events one (what is sent); the read-back one is also `PlotReadEvent`. cml-core / cml-events: rename one.
export type { PlotEvent } from './events/index.js';
export type { PlotEvent as PlotReadEvent } from './query/queries.js';
