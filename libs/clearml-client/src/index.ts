// Public surface of @mlops-ts/clearml-client (filled in by the modules below as they land).
export * from './errors.js';
export * from './hocon.js';
export * from './config.js';
export * from './transport.js';
export * from './events/index.js';
export * from './offline/index.js';
