/**
 * A stage's dvc.lock entry, kept beside its outs in the Nx cache: written after the stage ran, merged back into
 * dvc.lock after Nx restored the outs, so `dvc status` sees outs and lock in agreement.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Document, isMap, parse as parseYaml, parseDocument } from 'yaml';
import { z } from 'zod';
import { DvcFileError } from '../errors.js';
import { DvcLockSchema, DvcLockStageSchema } from '../files.js';

/** The snapshot file's content. */
export const StageLockSnapshotSchema = z.object({
  version: z.literal(1),
  /** dvc.yaml path relative to the workspace root. */
  dvcYaml: z.string(),
  stage: z.string(),
  entry: DvcLockStageSchema,
});
export type StageLockSnapshot = z.infer<typeof StageLockSnapshotSchema>;

/** Writes a file through a temporary sibling and a rename: readers never see half a file. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, content);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DvcFileError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
}

/** The entry of `stage` in a dvc.lock file, or undefined when the lock or the entry is missing. */
export async function readLockEntry(lockFile: string, stage: string): Promise<StageLockSnapshot['entry'] | undefined> {
  const text = await readText(lockFile);
  if (text === undefined) return undefined;
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new DvcFileError(lockFile, `not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  const parsed = DvcLockSchema.safeParse(doc ?? { schema: '2.0' });
  if (!parsed.success) throw new DvcFileError(lockFile, `not a valid dvc.lock: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data.stages[stage];
}

/** Reads and validates a snapshot; undefined when the file does not exist. */
export async function readSnapshot(file: string): Promise<StageLockSnapshot | undefined> {
  const text = await readText(file);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DvcFileError(file, `not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = StageLockSnapshotSchema.safeParse(json);
  if (!parsed.success) throw new DvcFileError(file, `not a stage lock snapshot: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

export async function writeSnapshot(file: string, snapshot: StageLockSnapshot): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(StageLockSnapshotSchema.parse(snapshot), null, 2)}\n`);
}

/**
 * Puts `entry` as stage `stage` into dvc.lock (creating the file when missing), keeping every other stage and the
 * file's formatting. Returns false when the lock already held exactly that entry (nothing written).
 */
export async function mergeLockEntry(lockFile: string, stage: string, entry: StageLockSnapshot['entry']): Promise<boolean> {
  const text = await readText(lockFile);
  const doc = text === undefined ? new Document({ schema: '2.0', stages: {} }) : parseDocument(text);
  if (doc.errors.length > 0) throw new DvcFileError(lockFile, `not valid YAML: ${doc.errors[0]?.message ?? ''}`);
  const current = DvcLockSchema.safeParse(doc.toJS() ?? { schema: '2.0' });
  if (!current.success) throw new DvcFileError(lockFile, `not a valid dvc.lock: ${current.error.issues[0]?.message ?? ''}`);
  if (isDeepStrictEqual(current.data.stages[stage], entry)) return false;
  if (!isMap(doc.get('stages'))) doc.set('stages', doc.createNode({}));
  doc.setIn(['stages', stage], doc.createNode(entry));
  await writeFileAtomic(lockFile, doc.toString());
  return true;
}
