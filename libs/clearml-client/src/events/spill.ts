/**
 * Spill files of an {@link EventsLogger}: events that waited too long in memory while the server was unreachable,
 * one event JSON per line (`<spillDir>/<taskId>.<time>-<pid>-<rand>.events.jsonl`), written to a temporary name
 * and renamed so a reader never sees half a file.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { AddBatchResponseSchema, TaskEventSchema, type TaskEvent } from './types.js';

export const SPILL_SUFFIX = '.events.jsonl';
export const REJECTED_SUFFIX = '.rejected.jsonl';

const lines = (events: readonly TaskEvent[]): string => events.map((e) => JSON.stringify(e)).join('\n') + '\n';

/** Write events to a new spill file synchronously (it runs inside the synchronous logging calls). */
export function writeSpillFileSync(dir: string, taskId: string, events: readonly TaskEvent[], suffix = SPILL_SUFFIX): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${taskId}.${Date.now()}-${process.pid}-${randomBytes(4).toString('hex')}${suffix}`);
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, lines(events));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  return file;
}

/** Read a spill file back; a line that is not an event throws an Error naming file and line. */
export async function readSpillFile(file: string): Promise<TaskEvent[]> {
  const text = await readFile(file, 'utf8');
  const out: TaskEvent[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new Error(`spill file ${file} line ${i + 1}: not JSON`);
    }
    const r = TaskEventSchema.safeParse(parsed);
    if (!r.success) throw new Error(`spill file ${file} line ${i + 1}: not a ClearML event (${r.error.issues[0]?.message ?? 'invalid'})`);
    out.push(r.data);
  });
  return out;
}

/** Replace a spill file's content with the events still undelivered (atomic), or remove it when none is left. */
export async function rewriteSpillFile(file: string, remaining: readonly TaskEvent[]): Promise<void> {
  if (remaining.length === 0) {
    await unlink(file).catch(() => undefined);
    return;
  }
  const tmp = `${file}.tmp`;
  await writeFile(tmp, lines(remaining));
  await rename(tmp, file);
}

/**
 * Deliver a spill file (what an {@link EventsLogger} left on disk when its process ended before `close()`) to its
 * task, or to `taskId`; the file is removed once the server took every event. `npm run clearml -- import` calls it
 * for `*.events.jsonl` paths.
 */
export async function deliverSpillFile(
  file: string,
  opts: { transport: { call<S extends z.ZodType>(endpoint: string, body: unknown, schema: S, o?: { jsonLines?: boolean }): Promise<z.output<S>> }; taskId?: string; log?: (line: string) => void },
): Promise<{ taskIds: string[]; sent: number; added: number; refused: number }> {
  const events = (await readSpillFile(file)).map((e) => (opts.taskId ? { ...e, task: opts.taskId } : e));
  let added = 0;
  let refused = 0;
  for (let i = 0; i < events.length; i += 2000) {
    const res = await opts.transport.call('events.add_batch', events.slice(i, i + 2000), AddBatchResponseSchema, { jsonLines: true });
    added += res.added;
    refused += res.errors;
    opts.log?.(`events ${Math.min(i + 2000, events.length)}/${events.length}${res.errors ? ` (${res.errors} refused)` : ''}`);
  }
  if (refused === 0) await unlink(file).catch(() => undefined);
  return { taskIds: [...new Set(events.map((e) => e.task))], sent: events.length, added, refused };
}
