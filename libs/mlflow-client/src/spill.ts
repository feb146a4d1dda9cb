/**
 * Spill files: what a {@link BufferedLogger} could not deliver, one JSON record per line
 * (`{"v":1,"runId":…,"metrics":[…],"params":[…],"tags":[…]}`, NaN/±Infinity as MLflow's strings). Files are written
 * to a temporary name and renamed, so a reader never sees half a file. {@link replaySpill} delivers them later.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LOG_BATCH_LIMITS } from './batch.js';
import { fromMetricIn, type MlflowClient } from './client.js';
import { MlflowReplayError } from './errors.js';
import { listRunSpills, replayRunSpill, RUN_SPILL_SUFFIX, type RunReplayResult } from './run-spill.js';
import { DoubleSchema, Int64Schema, toMlflowJson } from './json.js';
import type { KeyValue, MetricIn } from './rest.js';

export const SPILL_SUFFIX = '.spill.jsonl';
export const REJECTED_SUFFIX = '.rejected.jsonl';

export const SpillRecordSchema = z.object({
  v: z.literal(1),
  runId: z.string().min(1),
  metrics: z
    .array(
      z.object({
        key: z.string(),
        value: DoubleSchema,
        timestamp: Int64Schema,
        step: Int64Schema,
        dataset_name: z.string().optional(),
        dataset_digest: z.string().optional(),
        model_id: z.string().optional(),
      }),
    )
    .default([]),
  params: z.array(z.object({ key: z.string(), value: z.string() })).default([]),
  tags: z.array(z.object({ key: z.string(), value: z.string() })).default([]),
  /** Present in rejected files: why the server refused the record. */
  error: z.string().optional(),
});
export type SpillRecord = z.output<typeof SpillRecordSchema>;

export interface SpillContent {
  metrics: MetricIn[];
  params: KeyValue[];
  tags: KeyValue[];
}

/** Synchronously write a spill file (usable from a process 'exit' handler). Returns its path, or undefined if empty. */
export function writeSpillFileSync(dir: string, runId: string, content: SpillContent, opts: { suffix?: string; error?: string } = {}): string | undefined {
  const total = content.metrics.length + content.params.length + content.tags.length;
  if (total === 0) return undefined;
  mkdirSync(dir, { recursive: true });
  const name = `${runId}.${Date.now()}-${process.pid}-${randomBytes(4).toString('hex')}${opts.suffix ?? SPILL_SUFFIX}`;
  const final = join(dir, name);
  const tmp = `${final}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    const per = LOG_BATCH_LIMITS.maxMetrics;
    const lines: string[] = [];
    if (content.params.length || content.tags.length) {
      lines.push(toMlflowJson({ v: 1, runId, metrics: [], params: content.params, tags: content.tags, ...(opts.error ? { error: opts.error } : {}) }));
    }
    for (let i = 0; i < content.metrics.length; i += per) {
      lines.push(toMlflowJson({ v: 1, runId, metrics: content.metrics.slice(i, i + per), params: [], tags: [], ...(opts.error ? { error: opts.error } : {}) }));
    }
    writeSync(fd, lines.join('\n') + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, final);
  return final;
}

/** Parse a spill file; a malformed line throws {@link MlflowReplayError} naming file and line. */
export async function readSpillFile(file: string): Promise<SpillRecord[]> {
  const text = await readFile(file, 'utf8');
  const out: SpillRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new MlflowReplayError(file, `line ${i + 1} is not JSON`);
    }
    const r = SpillRecordSchema.safeParse(json);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new MlflowReplayError(file, `line ${i + 1}: ${issue.path.join('.') || 'record'}: ${issue.message}`);
    }
    out.push(r.data);
  }
  return out;
}

/** Spill files in a directory (oldest first), rejected files excluded unless asked for. */
export async function listSpillFiles(dir: string, opts: { includeRejected?: boolean } = {}): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names
    .filter((n) => n.endsWith(SPILL_SUFFIX) || (opts.includeRejected === true && n.endsWith(REJECTED_SUFFIX)))
    .sort()
    .map((n) => join(dir, n));
}

export interface ReplayResult {
  files: string[];
  records: number;
  metrics: number;
  params: number;
  tags: number;
  /** Runs whose artifacts, model, inputs and end status were delivered from `<runId>.run.json` files. */
  runs: RunReplayResult[];
}

/**
 * Deliver spill files (a file, or every spill file of a directory) to the tracking server, deleting each file once
 * all its records are accepted: metric/param/tag files first, then each run's `<runId>.run.json` (artifacts, model,
 * end status — see {@link replayRunSpill}). Resending a record is harmless (the server deduplicates metrics) and run
 * files record their progress, so a replay that stops half-way can simply be run again.
 */
export async function replaySpill(opts: {
  client: MlflowClient;
  path: string;
  includeRejected?: boolean;
  onProgress?: (info: { file: string; record: number; records: number; what?: string }) => void;
}): Promise<ReplayResult> {
  const st = await stat(opts.path).catch(() => undefined);
  const result: ReplayResult = { files: [], records: 0, metrics: 0, params: 0, tags: 0, runs: [] };
  if (!st) return result;
  const isRunFile = !st.isDirectory() && opts.path.endsWith(RUN_SPILL_SUFFIX);
  const files = st.isDirectory() ? await listSpillFiles(opts.path, { includeRejected: opts.includeRejected ?? false }) : isRunFile ? [] : [opts.path];
  const runFiles = st.isDirectory() ? await listRunSpills(opts.path) : isRunFile ? [opts.path] : [];
  for (const file of files) {
    const records = await readSpillFile(file);
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      try {
        await opts.client.logBatch(r.runId, { metrics: r.metrics.map(fromMetricIn), params: r.params, tags: r.tags });
      } catch (e) {
        throw new MlflowReplayError(file, `record ${i + 1} of ${records.length} (run ${r.runId}): ${(e as Error).message}`, e);
      }
      result.records++;
      result.metrics += r.metrics.length;
      result.params += r.params.length;
      result.tags += r.tags.length;
      opts.onProgress?.({ file, record: i + 1, records: records.length });
    }
    await unlink(file);
    result.files.push(file);
  }
  for (const file of runFiles) {
    result.runs.push(await replayRunSpill(opts.client, file, (p) => opts.onProgress?.({ file: p.file, record: p.op, records: p.ops, what: p.what })));
    result.files.push(file);
  }
  return result;
}
