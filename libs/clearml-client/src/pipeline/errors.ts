/**
 * Errors of the pipeline controller. Each is one line that names the pipeline, the step, the queue or the task
 * it is about; `code` is stable, and `instanceof` works across copies of the package (Symbol.for brands, as every
 * error of this library).
 */
import { ClearmlError } from '../errors.js';

const brandOf = (className: string): symbol => Symbol.for(`@mlops-ts/clearml-client/${className}`);

/** Base class of the pipeline controller's errors. */
export class ClearmlPipelineError extends ClearmlError {
  static override readonly brand: symbol = brandOf('ClearmlPipelineError');
  override readonly code: string = 'ERR_CLEARML_PIPELINE';
  /** The controller task, when it had been created. */
  readonly controllerId: string | undefined;
  constructor(message: string, fields: { controllerId?: string | undefined } = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.controllerId = fields.controllerId;
  }
}

/** The DAG itself is wrong: a duplicate or empty step name, an unknown parent, a cycle. Nothing was created. */
export class ClearmlPipelineDagError extends ClearmlPipelineError {
  static override readonly brand: symbol = brandOf('ClearmlPipelineDagError');
  override readonly code: string = 'ERR_CLEARML_PIPELINE_DAG';
  /** The step the problem is at, when there is one. */
  readonly step: string | undefined;
  constructor(message: string, step?: string) {
    super(message);
    this.step = step;
  }
}

/** The queue named for the steps does not exist on the server. */
export class ClearmlPipelineQueueError extends ClearmlPipelineError {
  static override readonly brand: symbol = brandOf('ClearmlPipelineQueueError');
  override readonly code: string = 'ERR_CLEARML_PIPELINE_QUEUE';
  readonly queue: string;
  constructor(fields: { queue: string; server: string; controllerId?: string | undefined; known: string[] }) {
    super(
      `ClearML queue '${fields.queue}' does not exist on ${fields.server}${fields.known.length ? ` (queues there: ${fields.known.slice(0, 10).join(', ')}${fields.known.length > 10 ? ', …' : ''})` : ''}: create it (clearml-agent daemon --queue ${fields.queue} --create-queue) or pass another --queue`,
      fields,
    );
    this.queue = fields.queue;
  }
}

/** No agent took a step out of its queue in time. The step was dequeued and marked failed. */
export class ClearmlPipelinePickupTimeoutError extends ClearmlPipelineError {
  static override readonly brand: symbol = brandOf('ClearmlPipelinePickupTimeoutError');
  override readonly code: string = 'ERR_CLEARML_PIPELINE_PICKUP_TIMEOUT';
  readonly queue: string;
  readonly step: string;
  readonly taskId: string;
  readonly waitedMs: number;
  /** Workers the server knew listening to the queue when the wait ended. */
  readonly workers: string[];
  constructor(fields: { queue: string; step: string; taskId: string; waitedMs: number; workers: string[]; controllerId?: string | undefined }) {
    super(
      `no clearml-agent picked up step '${fields.step}' (task ${fields.taskId}) from queue '${fields.queue}' within ${Math.round(fields.waitedMs / 1000)} s (${fields.workers.length === 0 ? 'no worker listens to that queue' : `workers on it: ${fields.workers.join(', ')}`}); start one: clearml-agent daemon --queue ${fields.queue}`,
      fields,
    );
    this.queue = fields.queue;
    this.step = fields.step;
    this.taskId = fields.taskId;
    this.waitedMs = fields.waitedMs;
    this.workers = fields.workers;
  }
}

/** A step ended failed (its command failed, or the agent failed it). Later steps were not run. */
export class ClearmlPipelineStepError extends ClearmlPipelineError {
  static override readonly brand: symbol = brandOf('ClearmlPipelineStepError');
  override readonly code: string = 'ERR_CLEARML_PIPELINE_STEP';
  readonly step: string;
  readonly taskId: string;
  /** The last lines of the step's output (also in the step task's console). */
  readonly logTail: string[];
  constructor(fields: { step: string; taskId: string; reason: string; logTail: string[]; controllerId?: string | undefined }) {
    const last = fields.logTail.filter((l) => l.trim()).slice(-1)[0]?.trim();
    super(`pipeline step '${fields.step}' failed (task ${fields.taskId}): ${fields.reason}${last && !fields.reason.includes(last) ? ` — last output: ${last.slice(0, 300)}` : ''}`, fields);
    this.step = fields.step;
    this.taskId = fields.taskId;
    this.logTail = fields.logTail;
  }
}

/** The run was aborted (the AbortSignal fired, e.g. Ctrl-C): running steps were stopped, queued ones dequeued. */
export class ClearmlPipelineAbortedError extends ClearmlPipelineError {
  static override readonly brand: symbol = brandOf('ClearmlPipelineAbortedError');
  override readonly code: string = 'ERR_CLEARML_PIPELINE_ABORTED';
  /** Steps that were running or queued and got stopped. */
  readonly stopped: string[];
  constructor(fields: { stopped: string[]; controllerId?: string | undefined }) {
    super(`pipeline aborted${fields.stopped.length ? `: stopped ${fields.stopped.join(', ')}` : ''}`, fields);
    this.stopped = fields.stopped;
  }
}

export const ClearmlPipelineErrorCodes = {
  ClearmlPipelineError: 'ERR_CLEARML_PIPELINE',
  ClearmlPipelineDagError: 'ERR_CLEARML_PIPELINE_DAG',
  ClearmlPipelineQueueError: 'ERR_CLEARML_PIPELINE_QUEUE',
  ClearmlPipelinePickupTimeoutError: 'ERR_CLEARML_PIPELINE_PICKUP_TIMEOUT',
  ClearmlPipelineStepError: 'ERR_CLEARML_PIPELINE_STEP',
  ClearmlPipelineAbortedError: 'ERR_CLEARML_PIPELINE_ABORTED',
} as const;
