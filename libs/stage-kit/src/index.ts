export { readParamsFile, paramsSection, StageParamsError } from './params.js';
export { runStage, gitFacts, type GitFacts } from './cli.js';
