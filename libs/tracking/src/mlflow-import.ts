/**
 * Import a run kept on disk (`tracking.offline_fallback` writes a {@link RecordedRun} to models/<m>/offline-run.json)
 * into MLflow: a new run with the recorded options, params, metrics (steps and timestamps), tags, dataset inputs,
 * artifacts, model and end status — through the same {@link MlflowTracker} the stages use.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import type { RecordedRun } from './memory.js';
import type { MlflowTracker } from './mlflow.js';
import { FigureSchema, RunStatusSchema, StartRunOptionsSchema } from './port.js';

const BRAND = Symbol.for('@mlops-ts/tracking/RecordedRunError');

/** A recorded run that cannot be imported (unreadable file, wrong shape, files it names are gone). Names the file. */
export class RecordedRunError extends Error {
  override readonly name = 'RecordedRunError';
  readonly code = 'ERR_TRACKING_RECORDED_RUN';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    Object.defineProperty(this, BRAND, { value: true });
  }
  static override [Symbol.hasInstance](x: unknown): boolean {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** Tag naming the offline run an MLflow run was imported from (a second import finds it and stops). */
export const IMPORTED_FROM_TAG = 'mlops.offline_run_id';

const ColumnSchema = z.object({ name: z.string().min(1), type: z.literal('float') });

/** The JSON of a {@link RecordedRun} (MemoryTracker's record), as offline-run.json holds it. */
export const RecordedRunSchema = z.object({
  runId: z.string().min(1),
  options: StartRunOptionsSchema,
  params: z.record(z.string(), z.string()),
  metrics: z.array(z.object({ key: z.string(), value: z.number(), step: z.number().int(), timestamp: z.number().int() })),
  tags: z.record(z.string(), z.string()),
  inputs: z.array(
    z.object({
      name: z.string(),
      digest: z.string(),
      source: z.string(),
      context: z.string().optional(),
      schema: z.string().optional(),
      profile: z.string().optional(),
    }),
  ),
  artifacts: z.array(z.object({ localPath: z.string(), artifactPath: z.string().optional() })),
  models: z.array(
    z.object({
      localDir: z.string(),
      name: z.string(),
      signature: z.object({ inputs: z.array(ColumnSchema).min(1), outputs: z.array(ColumnSchema).min(1) }).optional(),
      metrics: z.record(z.string(), z.number()).optional(),
      labels: z.array(z.string()).optional(),
    }),
  ),
  /** Absent in records written before figures existed. */
  figures: z.record(z.string(), FigureSchema).default({}),
  status: RunStatusSchema.optional(),
}) satisfies z.ZodType<RecordedRun>;

/** Read and check an offline-run.json; errors name the file and the key. */
export async function readRecordedRun(file: string): Promise<RecordedRun> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new RecordedRunError(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not JSON');
  }
  const r = RecordedRunSchema.safeParse(json);
  if (!r.success) {
    const problems = r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new RecordedRunError(file, `not a recorded run: ${problems.join('; ')}`);
  }
  return r.data as RecordedRun;
}

/**
 * Where a recorded path is now. The record may name the folder the stage wrote before renaming it into place
 * (`models/<m>.partial-<pid>/…`), or a machine's absolute path; the run's own folder (the record's folder) is
 * the anchor then.
 */
export function locateRecordedPath(recorded: string, recordDir: string, cwd = process.cwd()): string | undefined {
  const abs = isAbsolute(recorded) ? recorded : resolve(cwd, recorded);
  const candidates = [abs, abs.replace(/\.partial-\d+(?=$|[/\\])/, '')];
  const staging = abs.match(/^(.*?\.partial-\d+)(?:[/\\](.*))?$/);
  if (staging) candidates.push(staging[2] ? join(recordDir, staging[2]) : recordDir);
  candidates.push(join(recordDir, basename(abs)));
  return candidates.find((c) => existsSync(c));
}

export interface ImportResult {
  runId: string;
  url?: string;
  /** Set when the run had been imported before (nothing was sent). */
  alreadyImported?: boolean;
  metrics: number;
  artifacts: number;
  models: number;
  /** True when everything reached the server (else `pending` says what waits in the spill folder). */
  delivered: boolean;
  pending?: string;
}

/** Send a recorded run to MLflow as a new run. `recordFile` anchors relative and moved paths. */
export async function importRecordedRun(opts: {
  tracker: MlflowTracker;
  recorded: RecordedRun;
  recordFile: string;
  log?: (line: string) => void;
}): Promise<ImportResult> {
  const { tracker, recorded } = opts;
  const recordDir = dirname(resolve(opts.recordFile));
  // Every path first: a missing file stops the import before anything is sent.
  const missing: string[] = [];
  const where = (p: string) => {
    const found = locateRecordedPath(p, recordDir);
    if (!found) missing.push(p);
    return found ?? p;
  };
  const artifacts = recorded.artifacts.map((a) => ({ ...a, localPath: where(a.localPath) }));
  const models = recorded.models.map((m) => ({ ...m, localDir: where(m.localDir) }));
  if (missing.length > 0) throw new RecordedRunError(opts.recordFile, `recorded files not found: ${missing.join(', ')}`);

  const previous = await tracker.findRunByTag(recorded.options.experiment, IMPORTED_FROM_TAG, recorded.runId);
  if (previous) {
    opts.log?.(`${opts.recordFile} was imported before as MLflow run ${previous}: nothing sent`);
    return { runId: previous, alreadyImported: true, metrics: 0, artifacts: 0, models: 0, delivered: true };
  }
  const run = await tracker.startRun({
    ...recorded.options,
    tags: { ...recorded.options.tags, [IMPORTED_FROM_TAG]: recorded.runId, 'mlops.imported_from': relative(process.cwd(), resolve(opts.recordFile)).split(sep).join('/') },
  });
  try {
    if (Object.keys(recorded.params).length) await run.logParams(recorded.params);
    if (Object.keys(recorded.tags).length) await run.setTags(recorded.tags);
    for (const input of recorded.inputs) await run.logInput(input);
    for (const m of recorded.metrics) run.logMetric(m);
    for (const a of artifacts) await run.logArtifact(a.localPath, a.artifactPath);
    for (const m of models) {
      await run.logModel(m.localDir, { name: m.name, ...(m.signature ? { signature: m.signature } : {}), ...(m.metrics ? { metrics: m.metrics } : {}), ...(m.labels ? { labels: m.labels } : {}) });
    }
    for (const [name, figure] of Object.entries(recorded.figures)) await run.logFigure(name, figure);
  } catch (e) {
    await run.end('FAILED').catch(() => undefined);
    throw e;
  }
  const report = await run.end(recorded.status ?? 'FINISHED');
  return {
    runId: run.runId,
    ...(run.url ? { url: run.url } : {}),
    metrics: recorded.metrics.length,
    artifacts: artifacts.length,
    models: models.length,
    delivered: report.delivered,
    ...(report.pending ? { pending: report.pending } : {}),
  };
}
