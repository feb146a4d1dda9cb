export * from './errors.js';
export * from './params.js';
export { loadTable, readTableSchema, resolveFormat, type TableFormat, type TableSchema } from './load.js';
export { validateSchema, checkTableSchema, frameSchema, selectColumns, usedColumns, ROLE_KEYS, type ColumnRole } from './schema.js';
export { cleanTable, type CleanOptions, type CleanResult } from './clean.js';
export { conditionExpr, describeCondition, resolveClasses, labelExpr, classCounts, checkClasses } from './target.js';
export { createRng, sampleMask, shuffleInPlace } from './random.js';
export { assignSplits, splitFrame, SPLITS, type SplitName } from './split.js';
export {
  fitFeaturizer,
  applyFeaturizer,
  featurizerExprs,
  fitScaler,
  applicableDateParts,
  checkDateParts,
  TIME_PARTS,
  topK,
  MISSING_CATEGORY,
  OTHER_CATEGORY,
  type Featurizer,
  type FeaturizeOptions,
} from './featurize.js';
export * from './meta.js';
export { loadFeatureSplit, loadFeatureMeta, type FeatureSplit } from './feature-split.js';
export { writeFileAtomic, writeJsonAtomic, writeDirAtomic, md5File } from './io.js';
export {
  runPrepare,
  runFeaturize,
  loadPrepared,
  PreparedManifestSchema,
  LABEL_COLUMN,
  type PrepareOptions,
  type FeaturizeStageOptions,
  type DataQuality,
  type PreparedManifest,
  type Progress,
} from './pipeline.js';
