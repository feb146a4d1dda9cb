import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { zipSync, type Zippable } from 'fflate';

/**
 * Zips a folder (a model folder, a directory artifact) into `out`, the way ClearML stores folder artifacts and
 * packaged model weights. Entries are sorted and dated 1980-01-01, so the same files give the same bytes.
 */
export async function zipFolder(dir: string, out: string): Promise<{ bytes: number; sha256: string; files: string[] }> {
  const files: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) files.push(p);
    }
  };
  await walk(dir);
  const entries: Zippable = {};
  const mtime = new Date('1980-01-01T00:00:00Z');
  for (const f of files) entries[relative(dir, f).split(sep).join('/')] = [await readFile(f), { mtime }];
  const data = zipSync(entries, { level: 6 });
  await writeFile(out, data);
  return { bytes: data.byteLength, sha256: createHash('sha256').update(data).digest('hex'), files: Object.keys(entries) };
}
