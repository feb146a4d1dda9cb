export * from './errors.js';
export * from './dag.js';
export * from './controller.js';
