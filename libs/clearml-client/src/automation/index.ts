export * from './space.js';
export * from './optimizer.js';
