// Content snapshots of directory trees, to assert that an operation left files byte-for-byte as they were.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/**
 * Every regular file under `dir` (recursively) as `relative/posix/path → md5 of its bytes`, sorted by path.
 * A missing `dir` gives `{}`. Symlinks are followed only when they point at files (dvc may link cache files).
 */
export async function snapshotTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  const files = entries
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => join(e.parentPath, e.name))
    .sort();
  for (const file of files) {
    const bytes = await readFile(file);
    out[relative(dir, file).split(sep).join('/')] = createHash('md5').update(bytes).digest('hex');
  }
  return out;
}
