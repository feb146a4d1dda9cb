import { randomUUID } from 'node:crypto';
import { FigureNameSchema, FigureSchema, StartRunOptionsSchema } from './port.js';
import type { ParsedFigure, ModelSignature, DatasetInput, LoggedModelRef, MetricPoint, RunRef, RunStatus, StartRunOptions, Tracker, TrackerRun } from './port.js';

/** Everything one run received, as plain data. */
export interface RecordedRun {
  runId: string;
  options: ReturnType<typeof StartRunOptionsSchema.parse>;
  params: Record<string, string>;
  metrics: Required<MetricPoint>[];
  tags: Record<string, string>;
  inputs: DatasetInput[];
  artifacts: { localPath: string; artifactPath?: string }[];
  models: { localDir: string; name: string; signature?: ModelSignature; metrics?: Record<string, number>; labels?: string[] }[];
  /** Figures by name (a second figure of the same name replaces the first, as in the trackers). */
  figures: Record<string, ParsedFigure>;
  status?: RunStatus;
}

/**
 * A tracker that keeps runs in memory: for dry runs (`--no-tracking`), and to see what a stage would send.
 * Each instance holds its own runs; there is no global state.
 */
export class MemoryTracker implements Tracker {
  readonly name: string;
  readonly runs: RecordedRun[] = [];

  readonly #runUrl: ((runId: string) => string) | undefined;

  /** `runUrl`: the web page each run reports as its `url` (none by default), to stand in for a server's run. */
  constructor(name = 'memory', options: { runUrl?: (runId: string) => string } = {}) {
    this.name = name;
    this.#runUrl = options.runUrl;
  }

  async startRun(options: StartRunOptions): Promise<TrackerRun> {
    const record: RecordedRun = {
      runId: randomUUID().replaceAll('-', ''),
      options: StartRunOptionsSchema.parse(options),
      params: {},
      metrics: [],
      tags: {},
      inputs: [],
      artifacts: [],
      models: [],
      figures: {},
    };
    this.runs.push(record);
    return this.handle(record);
  }

  async resumeRun(ref: RunRef): Promise<TrackerRun> {
    const record = this.runs.find((r) => r.runId === ref[this.name]);
    if (!record) throw new Error(`${this.name}: no run ${ref[this.name] ?? '(no id given)'}`);
    delete record.status;
    return this.handle(record);
  }

  private handle(record: RecordedRun): TrackerRun {
    const tracker = this.name;
    return {
      tracker,
      runId: record.runId,
      ref: { [tracker]: record.runId },
      ...(this.#runUrl ? { url: this.#runUrl(record.runId) } : {}),
      async logParams(params) {
        for (const [k, v] of Object.entries(params)) record.params[k] = String(v);
      },
      logMetric(point) {
        if (record.status) throw new Error(`run ${record.runId} has ended`);
        record.metrics.push({ ...point, timestamp: point.timestamp ?? Date.now() });
      },
      async setTags(tags) {
        Object.assign(record.tags, tags);
      },
      async logInput(dataset) {
        record.inputs.push(dataset);
      },
      async logArtifact(localPath, artifactPath) {
        record.artifacts.push(artifactPath === undefined ? { localPath } : { localPath, artifactPath });
      },
      async logModel(localDir, options): Promise<LoggedModelRef> {
        record.models.push({
          localDir,
          name: options.name,
          ...(options.signature ? { signature: options.signature } : {}),
          ...(options.metrics ? { metrics: { ...options.metrics } } : {}),
          ...(options.labels ? { labels: [...options.labels] } : {}),
        });
        const modelId = `${record.runId}/${options.name}`;
        return { modelId, models: { [tracker]: { modelId } } };
      },
      async logFigure(name, figure) {
        record.figures[FigureNameSchema.parse(name)] = FigureSchema.parse(figure);
      },
      async end(status = 'FINISHED') {
        record.status = status;
        return { tracker, delivered: true };
      },
    };
  }
}
