import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '@mlops-ts/stage-kit';
import { RunRecordSchema, type RunRecord, type RunRecordInput } from '@mlops-ts/tracking';

/** Default folder of run records (gitignored, not a DVC out). */
export const RUN_RECORDS_DIR = '.mlops/runs';

export const runRecordPath = (dir: string, model: string): string => join(dir, `${model}.json`);

/** A model's run record, or `undefined` when there is none (e.g. after `dvc pull` on another machine). A broken one is an error naming the file. */
export async function readRunRecord(dir: string, model: string): Promise<RunRecord | undefined> {
  const file = runRecordPath(dir, model);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const parsed = RunRecordSchema.safeParse(value);
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export async function writeRunRecord(dir: string, record: RunRecordInput): Promise<RunRecord> {
  const parsed = RunRecordSchema.parse(record);
  await writeJsonAtomic(runRecordPath(dir, parsed.model), parsed);
  return parsed;
}
