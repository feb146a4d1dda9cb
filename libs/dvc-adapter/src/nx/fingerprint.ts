/**
 * What Nx hashes for a stage besides files: the stage as DVC resolves it now (command, deps, outs), the current
 * values of the params it uses (read from the params files, not from dvc.lock, which still holds the old values
 * until the stage re-runs), and the content of dependencies git ignores and no `.dvc` pointer covers.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { md5File } from '../files.js';
import { DvcIgnore } from './dvcignore.js';
import { DvcYamlError } from './errors.js';
import { isRecord, parseYamlForDvc, plain } from './interpolate.js';
import { resolveDvcYaml, selectParams } from './stages.js';

export interface StageFingerprintOptions {
  workspaceRoot: string;
  /** dvc.yaml relative to the workspace root. */
  dvcYaml: string;
  stage: string;
  /**
   * Workspace-relative paths whose content goes into the fingerprint (gitignored unpointed deps, and committed code
   * deps when a .dvcignore has rules). Folders are hashed over the files DVC hashes: what .dvcignore excludes is left out.
   */
  hashPaths?: readonly string[];
}

export interface StageFingerprint {
  dvcYaml: string;
  stage: string;
  cmd: string | string[];
  wdir: string;
  deps: string[];
  outs: { path: string; kind: string; cache: boolean; persist: boolean }[];
  /** params file → key → current value (`{ "<missing>": true }` for a key the file lacks). */
  params: Record<string, Record<string, unknown>>;
  /** path → md5 of its content (folders: of the sorted list of relative path + md5), or `<missing>`. */
  content: Record<string, string>;
}

/** Reads a file relative to a folder, `undefined` when it does not exist. */
export function fileReader(dir: string): (rel: string) => string | undefined {
  return (rel) => {
    try {
      return readFileSync(join(dir, rel), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };
}

/** The DVC repository root (nearest folder with `.dvc/`) of a workspace-relative folder, workspace-relative. */
export function dvcRootOf(workspaceRoot: string, dir: string): string {
  let d = dir === '.' ? '' : dir;
  for (;;) {
    if (existsSync(join(workspaceRoot, d, '.dvc'))) return d;
    if (d === '') return '';
    d = posix.dirname(d) === '.' ? '' : posix.dirname(d);
  }
}

async function contentHash(workspaceRoot: string, dvcRoot: string, wsPath: string, ignore: DvcIgnore): Promise<string> {
  const path = join(workspaceRoot, wsPath);
  let s;
  try {
    s = await stat(path);
  } catch {
    return '<missing>';
  }
  if (s.isFile()) return md5File(path);
  if (!s.isDirectory()) return '<special>';
  const inRepo = posix.relative(dvcRoot, wsPath);
  const entries = inRepo.startsWith('..')
    ? (await readdir(path, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile())
        .map((e) => posix.relative(path, posix.join(e.parentPath, e.name)))
        .sort()
    : await ignore.files(inRepo);
  const hash = createHash('md5');
  for (const rel of entries) hash.update(`${rel}\0${await md5File(join(path, rel))}\n`);
  return `${hash.digest('hex')}.dir`;
}

/** Computes the fingerprint of one stage (see the module comment). */
export async function stageFingerprint(options: StageFingerprintOptions): Promise<StageFingerprint> {
  const dir = join(options.workspaceRoot, dirname(options.dvcYaml));
  const read = fileReader(dir);
  const text = read('dvc.yaml');
  if (text === undefined) throw new DvcYamlError(`${options.dvcYaml} does not exist`, { where: options.dvcYaml });
  const stages = resolveDvcYaml(text, { file: options.dvcYaml, readFile: read });
  const stage = stages.find((s) => s.name === options.stage);
  if (!stage) {
    throw new DvcYamlError(`${options.dvcYaml}: no stage '${options.stage}' (stages: ${stages.map((s) => s.name).join(', ')})`, {
      where: options.dvcYaml,
      key: options.stage,
    });
  }
  const params: StageFingerprint['params'] = {};
  for (const p of stage.params) {
    const where = `${options.dvcYaml}: stages.${stage.name}.params`;
    const t = read(p.file);
    if (t === undefined) {
      params[p.file] = { '<missing file>': true };
      continue;
    }
    const doc = parseYamlForDvc(t);
    params[p.file] = plain(selectParams(isRecord(doc) ? doc : {}, p.keys, where)) as Record<string, unknown>;
  }
  const content: Record<string, string> = {};
  const dvcRoot = dvcRootOf(options.workspaceRoot, posix.dirname(options.dvcYaml));
  const ignore = await DvcIgnore.load(join(options.workspaceRoot, dvcRoot));
  for (const p of [...(options.hashPaths ?? [])].sort()) content[p] = await contentHash(options.workspaceRoot, dvcRoot, p, ignore);
  return {
    dvcYaml: options.dvcYaml,
    stage: stage.name,
    cmd: stage.cmd,
    wdir: stage.wdir,
    deps: stage.deps,
    outs: stage.outs,
    params,
    content,
  };
}
