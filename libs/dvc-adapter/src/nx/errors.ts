import { DvcError } from '../errors.js';

/** dvc.yaml (or a params/vars file it reads) cannot be turned into stages: names the place and the key. */
export class DvcYamlError extends DvcError {
  static override readonly brand: symbol = Symbol.for('@mlops-ts/dvc-adapter/DvcYamlError');
  override readonly code = 'ERR_DVC_YAML';
  /** Where in dvc.yaml, e.g. `dvc.yaml: stages.train.foreach` (file relative to the workspace when known). */
  readonly where: string;
  /** The missing or bad key, when there is one. */
  readonly key: string | undefined;
  constructor(message: string, fields: { where: string; key?: string }, options?: { cause?: unknown }) {
    super(message, options);
    this.where = fields.where;
    this.key = fields.key;
  }
}

/** Running a stage for Nx, or merging its cached dvc.lock entry back, failed. */
export class DvcNxStageError extends DvcError {
  static override readonly brand: symbol = Symbol.for('@mlops-ts/dvc-adapter/DvcNxStageError');
  override readonly code = 'ERR_DVC_NX_STAGE';
  readonly stage: string;
  readonly dvcYaml: string;
  constructor(message: string, fields: { stage: string; dvcYaml: string }, options?: { cause?: unknown }) {
    super(`${fields.dvcYaml}:${fields.stage}: ${message}`, options);
    this.stage = fields.stage;
    this.dvcYaml = fields.dvcYaml;
  }
}
