import { TrackingError } from './errors.js';
import type { RunEndReport, DatasetInput, Figure, LoggedModelRef, MetricPoint, RunRef, RunStatus, StartRunOptions, Tracker, TrackerRun } from './port.js';

async function settleAll<T>(operation: string, runs: readonly { tracker: string }[], call: (i: number) => Promise<T>): Promise<T[]> {
  const results = await Promise.allSettled(runs.map((_, i) => call(i)));
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [{ tracker: runs[i]!.tracker, error: r.reason as unknown }] : []));
  if (failures.length > 0) throw new TrackingError(operation, failures);
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** A run that writes everything to several trackers at once. */
export class FanOutRun implements TrackerRun {
  readonly tracker: string;
  readonly runId: string;
  readonly url?: string;
  readonly ref: RunRef;

  /**
   * What the caller should know but is no error, e.g. a resumed run that a tracker has no id for (the model was
   * trained before that tracker was configured): it is logged to the others.
   */
  readonly notices: string[];

  constructor(
    readonly runs: readonly TrackerRun[],
    notices: readonly string[] = [],
  ) {
    this.notices = [...notices];
    this.tracker = runs.map((r) => r.tracker).join('+');
    this.runId = runs.map((r) => r.runId).join('+');
    this.ref = Object.assign({}, ...runs.map((r) => r.ref)) as RunRef;
    this.url = runs.find((r) => r.url)?.url;
  }

  /** The run of one tracker, e.g. `run.of('mlflow')?.runId`. */
  of(tracker: string): TrackerRun | undefined {
    return this.runs.find((r) => r.tracker === tracker);
  }

  logParams(params: Record<string, string | number | boolean>): Promise<void> {
    return settleAll('logParams', this.runs, (i) => this.runs[i]!.logParams(params)).then(() => undefined);
  }

  logMetric(point: MetricPoint): void {
    const failures: { tracker: string; error: unknown }[] = [];
    for (const run of this.runs) {
      try {
        run.logMetric(point);
      } catch (error) {
        failures.push({ tracker: run.tracker, error });
      }
    }
    if (failures.length > 0) throw new TrackingError('logMetric', failures);
  }

  setTags(tags: Record<string, string>): Promise<void> {
    return settleAll('setTags', this.runs, (i) => this.runs[i]!.setTags(tags)).then(() => undefined);
  }

  logInput(dataset: DatasetInput): Promise<void> {
    return settleAll('logInput', this.runs, (i) => this.runs[i]!.logInput(dataset)).then(() => undefined);
  }

  logArtifact(localPath: string, artifactPath?: string): Promise<void> {
    return settleAll('logArtifact', this.runs, (i) => this.runs[i]!.logArtifact(localPath, artifactPath)).then(() => undefined);
  }

  /** Each tracker's model in `models`; `modelId`/`uri` are the first tracker's that has a model id. */
  async logModel(localDir: string, options: Parameters<TrackerRun['logModel']>[1]): Promise<LoggedModelRef> {
    const refs = await settleAll('logModel', this.runs, (i) => this.runs[i]!.logModel(localDir, options));
    const models = Object.assign({}, ...refs.map((r) => r.models)) as LoggedModelRef['models'];
    const first = refs.find((r) => r.modelId);
    return { ...(first?.modelId ? { modelId: first.modelId } : {}), ...(first?.uri ? { uri: first.uri } : {}), models };
  }

  logFigure(name: string, figure: Figure): Promise<void> {
    return settleAll('logFigure', this.runs, (i) => this.runs[i]!.logFigure(name, figure)).then(() => undefined);
  }

  /** Each tracker's end report, in the order of the trackers (after `end`). */
  reports: RunEndReport[] = [];

  /**
   * Ends every run, even when some fail, and then reports the failures. The report is delivered only when every
   * tracker delivered; `pending` joins the trackers' pending lines.
   */
  async end(status?: RunStatus): Promise<RunEndReport> {
    this.reports = await settleAll('end', this.runs, (i) => this.runs[i]!.end(status));
    const pending = this.reports.flatMap((r) => (r.pending ? [r.pending] : []));
    const offline = this.reports.flatMap((r) => r.offline ?? []);
    return {
      tracker: this.tracker,
      delivered: this.reports.every((r) => r.delivered),
      ...(pending.length > 0 ? { pending: pending.join('; ') } : {}),
      ...(offline.length > 0 ? { offline } : {}),
    };
  }
}

/**
 * A tracker that starts a run in each of `trackers`. If one fails to start, the runs already started are ended as
 * FAILED and the error names the tracker.
 */
export interface FanOutTracker extends Tracker {
  startRun(options: StartRunOptions): Promise<FanOutRun>;
  resumeRun(ref: RunRef): Promise<FanOutRun>;
}

export interface FanOutOptions {
  /** Notices (not errors): e.g. a resumed run that one tracker has no id for. */
  log?: (line: string) => void;
}

export function fanOut(trackers: readonly Tracker[], opts: FanOutOptions = {}): FanOutTracker {
  if (trackers.length === 0) throw new TypeError('fanOut needs at least one tracker');
  return {
    name: trackers.map((t) => t.name).join('+'),
    async startRun(options: StartRunOptions): Promise<FanOutRun> {
      const started = await Promise.allSettled(trackers.map((t) => t.startRun(options)));
      const runs = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const failures = started.flatMap((r, i) => (r.status === 'rejected' ? [{ tracker: trackers[i]!.name, error: r.reason as unknown }] : []));
      if (failures.length > 0) {
        await Promise.allSettled(runs.map((r) => r.end('FAILED')));
        throw new TrackingError('startRun', failures);
      }
      return new FanOutRun(runs);
    },
    /**
     * Resumes the run in every tracker the ref has an id for. A tracker without one (the run was started before it
     * was configured) is left out with a notice, not an error; with no tracker left, it is an error naming them.
     */
    async resumeRun(ref: RunRef): Promise<FanOutRun> {
      const present = trackers.filter((t) => ref[t.name]);
      const missing = trackers.filter((t) => !ref[t.name]).map((t) => t.name);
      if (present.length === 0) throw new TrackingError('resumeRun', missing.map((tracker) => ({ tracker, error: new Error('no run id recorded for this tracker') })));
      const notices = missing.map(
        (t) => `${t}: no run id recorded for this run (${Object.entries(ref).map(([k, v]) => `${k} ${v}`).join(', ')}; it was started before ${t} was configured): logging to ${present.map((p) => p.name).join(', ')} only`,
      );
      for (const n of notices) opts.log?.(n);
      return new FanOutRun(await settleAll('resumeRun', present.map((t) => ({ tracker: t.name })), (i) => present[i]!.resumeRun(ref)), notices);
    },
  };
}
