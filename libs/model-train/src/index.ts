export {
  activeBackend,
  defaultNativeTfDir,
  NATIVE_MIN_BATCH_SIZE,
  nativeTfDirFromEnv,
  selectBackend,
  type BackendName,
  type BackendSelection,
  type SelectBackendOptions,
} from './backend.js';
export { trainClassifier, type TrainClassifierOptions, type TrainedClassifier } from './classifier.js';
export { checkDataset, type Dataset } from './data.js';
export {
  BackendUnavailableError,
  DataShapeError,
  ModelFolderError,
  ModelTrainError,
  ParamsError,
  TrainingError,
  type ParamsProblem,
} from './errors.js';
export { evaluate, evaluatePredictions, type EvaluateOptions, type Evaluation, type RocCurvePoints } from './evaluate.js';
export {
  loadModelFolder,
  MODEL_JSON,
  MODEL_META_JSON,
  ModelMetaSchema,
  saveModelFolder,
  WEIGHTS_BIN,
  type LoadedModel,
  type ModelMeta,
  type SaveModelMeta,
} from './folder.js';
export * as metrics from './metrics.js';
export { buildModel, inputDimOf, numClassesOf, type BuildModelOptions } from './model.js';
export { autoBatchSize, classWeights, planTraining, type TrainPlan } from './plan.js';
export {
  ACTIVATIONS,
  AUTO_BATCH,
  AUTO_MIN_EPOCHS,
  BACKENDS,
  CLASS_WEIGHTS,
  formatParamsIssues,
  LogregParamsSchema,
  MlpParamsSchema,
  ModelParamsSchema,
  ModelsParamsSchema,
  OPTIMIZERS,
  parseModelParams,
  parseModelsParams,
  parseTrainParams,
  resolveTrainParams,
  TrainOverridesSchema,
  TrainParamsSchema,
  type Activation,
  type BackendPreference,
  type ClassWeightMode,
  type EarlyStoppingParams,
  type EffectiveTrainParams,
  type LogregParams,
  type MlpParams,
  type ModelParams,
  type ModelParamsInput,
  type OptimizerName,
  type ParamsSource,
  type TrainOverrides,
  type TrainParams,
  type TrainParamsInput,
} from './params.js';
export { predictProba } from './predict.js';
export { train, type EpochLog, type TrainOptions, type TrainResult } from './train.js';
