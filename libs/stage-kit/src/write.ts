import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const tag = (): string => `${process.pid}-${randomBytes(4).toString('hex')}`;

/** Writes `file` whole or not at all: a temporary file beside it, then a rename. Parent folders are created. */
export async function writeFileAtomic(file: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${tag()}`);
  try {
    await writeFile(tmp, content);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** Pretty-printed JSON with a final newline: the form every stage output takes (stable bytes for DVC). */
export const jsonText = (value: unknown): string => JSON.stringify(value, null, 2) + '\n';

/** `writeFileAtomic` of pretty-printed JSON with a final newline. */
export function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, jsonText(value));
}

/**
 * Builds folder `dir` whole or not at all: `fill` writes into a staging folder beside it, which replaces `dir` in
 * one rename when `fill` succeeds; on failure the staging folder is removed and `dir` is left as it was.
 */
export async function writeDirAtomic<T>(dir: string, fill: (staging: string) => Promise<T>): Promise<T> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const t = tag();
  const staging = join(parent, `.${basename(dir)}.partial-${t}`);
  const old = join(parent, `.${basename(dir)}.old-${t}`);
  await mkdir(staging);
  let result: T;
  try {
    result = await fill(staging);
    const existing = await stat(dir).catch(() => null);
    if (existing) await rename(dir, old);
    await rename(staging, dir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  await rm(old, { recursive: true, force: true });
  return result;
}

/**
 * Several output files that appear together or not at all (as far as a file system allows): each is staged as a
 * temporary file beside its target; `commit()` renames them all, `discard()` removes them.
 */
export class OutputSet {
  private readonly staged: { tmp: string; file: string }[] = [];

  async file(file: string, content: string | Uint8Array): Promise<void> {
    await mkdir(dirname(file), { recursive: true });
    const tmp = join(dirname(file), `.${basename(file)}.tmp-${tag()}`);
    this.staged.push({ tmp, file });
    await writeFile(tmp, content);
  }

  json(file: string, value: unknown): Promise<void> {
    return this.file(file, jsonText(value));
  }

  /** The target paths staged so far. */
  get files(): string[] {
    return this.staged.map((s) => s.file);
  }

  async commit(): Promise<void> {
    for (const s of this.staged.splice(0)) await rename(s.tmp, s.file);
  }

  async discard(): Promise<void> {
    await Promise.all(this.staged.splice(0).map((s) => rm(s.tmp, { force: true })));
  }
}
