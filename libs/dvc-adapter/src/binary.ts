import { access, constants, stat } from 'node:fs/promises';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { DvcNotFoundError } from './errors.js';

export interface ResolveDvcBinaryOptions {
  /** Directory to start from: the nearest `.venv/bin/dvc` at or above it wins. */
  cwd: string;
  /** An explicit binary (path, or a name looked up in `pathEnv`). Skips the venv search. */
  dvcBin?: string;
  /**
   * The PATH to search after the venv (the app passes its `process.env.PATH`). When omitted, the bare name `dvc`
   * is returned and the operating system's lookup applies when it runs (a missing binary then fails with
   * {@link DvcNotFoundError} at the first command).
   */
  pathEnv?: string;
}

const VENV_CANDIDATES = process.platform === 'win32' ? ['.venv/Scripts/dvc.exe'] : ['.venv/bin/dvc'];

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const s = await stat(file);
    if (!s.isFile()) return false;
    await access(file, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function searchPath(name: string, pathEnv: string): Promise<string | undefined> {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Finds the dvc executable: `dvcBin` when given; else the nearest `.venv/bin/dvc` walking up from `cwd`; else `dvc`
 * on `pathEnv`. Throws {@link DvcNotFoundError} (with install instructions) when none exists.
 */
export async function resolveDvcBinary(options: ResolveDvcBinaryOptions): Promise<string> {
  const searched: string[] = [];
  const { dvcBin, pathEnv } = options;
  if (dvcBin !== undefined) {
    const looksLikePath = dvcBin.includes('/') || dvcBin.includes('\\');
    if (looksLikePath) {
      const file = isAbsolute(dvcBin) ? dvcBin : resolve(options.cwd, dvcBin);
      if (await isExecutableFile(file)) return file;
      throw new DvcNotFoundError([file], { detail: 'the configured dvc binary does not exist or is not executable' });
    }
    if (pathEnv === undefined) return dvcBin;
    const found = await searchPath(dvcBin, pathEnv);
    if (found) return found;
    throw new DvcNotFoundError([`${dvcBin} on PATH`]);
  }
  let dir = resolve(options.cwd);
  for (;;) {
    for (const rel of VENV_CANDIDATES) {
      const candidate = join(dir, rel);
      searched.push(candidate);
      if (await isExecutableFile(candidate)) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  if (pathEnv === undefined) return 'dvc';
  const found = await searchPath(process.platform === 'win32' ? 'dvc.exe' : 'dvc', pathEnv);
  if (found) return found;
  throw new DvcNotFoundError([`.venv/bin/dvc at or above ${resolve(options.cwd)}`, 'dvc on PATH']);
}
