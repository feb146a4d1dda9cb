import { ClearmlError } from '../errors.js';

/** An offline session that cannot be read: not a folder or zip, no task.json, a malformed line. `path` names the file. */
export class ClearmlOfflineSessionError extends ClearmlError {
  static override readonly brand: symbol = Symbol.for('@mlops-ts/clearml-client/ClearmlOfflineSessionError');
  override readonly code: string = 'ERR_CLEARML_OFFLINE_SESSION';
  /** The session, or the file inside it, that is wrong. */
  readonly path: string;
  /** What is wrong with it (one line). */
  readonly problem: string;
  constructor(fields: { path: string; problem: string }, cause?: unknown) {
    super(`offline session ${fields.path}: ${fields.problem}`, { cause });
    this.path = fields.path;
    this.problem = fields.problem;
  }
}
