export { readParamsFile, paramsSection, StageParamsError } from './params.js';
export { runStage, gitFacts, type GitFacts } from './cli.js';
export { writeFileAtomic, writeJsonAtomic } from './write.js';
