export { StageError, StageParamsError, StageUsageError, StageInputError, StageInterruptedError, type ParamsProblem } from './errors.js';
export { EXIT, exitCodeOf } from './exit-codes.js';
export { readParamsFile, paramsSection, validateSections, problemsOf, type ParamsSections, type ParamsOf } from './params.js';
export { defineStage, type Stage, type StageContext, type StageSpec, type StageIo } from './stage.js';
export { runStage, gitFacts, type GitFacts } from './cli.js';
export { writeFileAtomic, writeJsonAtomic, writeDirAtomic, jsonText, OutputSet } from './write.js';
