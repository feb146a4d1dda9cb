/**
 * Restoring DVC-tracked raw data on a fresh clone: `dvc pull`, else materialize the file from the npm package its
 * pointer pins (`meta.source`), check the md5 against the pointer, put it into DVC's cache and push it.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Dvc } from './dvc.js';
import { DataIntegrityError, DataRestoreError, DvcCommandError } from './errors.js';
import { md5File, NpmSourceMetaSchema, parseNpmSpec, readDvcPointer, type NpmSourceMeta } from './files.js';

export type RestoreProgress = (message: string) => void;

export interface InstalledPackage {
  name: string;
  version: string;
  dir: string;
}

const PackageJsonSchema = z.looseObject({ name: z.string(), version: z.string() });

/** Finds `node_modules/<name>` at or above `fromDir` (Node's lookup order) and reads its version. */
export async function findInstalledPackage(name: string, fromDir: string): Promise<InstalledPackage | undefined> {
  let dir = resolve(fromDir);
  for (;;) {
    const candidate = join(dir, 'node_modules', ...name.split('/'));
    try {
      const pkg = PackageJsonSchema.parse(JSON.parse(await readFile(join(candidate, 'package.json'), 'utf8')));
      return { name: pkg.name, version: pkg.version, dir: candidate };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new DataRestoreError(name, `cannot read ${join(candidate, 'package.json')}: ${(err as Error).message}`, { cause: err });
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The `*.dvc` pointer files directly inside `dir`, sorted. */
export async function findPointers(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((e) => e.endsWith('.dvc'))
    .sort()
    .map((e) => join(dir, e));
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

export interface MaterializeOptions {
  /** The file to create (absolute, or relative to `root`). */
  target: string;
  /** The md5 the pointer records; the copy must match it. */
  expectedMd5: string;
  source: NpmSourceMeta;
  /** Directory to look for `node_modules` from (walking up). */
  packagesFrom: string;
  /** Only for messages: paths are shown relative to it. */
  root?: string;
  onProgress?: RestoreProgress;
}

/**
 * Copies `source.file` of the pinned npm package to a temporary file beside `target`, checks its md5 and renames it
 * into place. On a version or md5 mismatch nothing is left behind and a typed error names file, expected and actual.
 */
export async function materializeFromSource(options: MaterializeOptions): Promise<{ path: string; md5: string; source: string }> {
  const root = options.root ?? process.cwd();
  const target = isAbsolute(options.target) ? options.target : resolve(root, options.target);
  const shown = relative(root, target) || target;
  const { name, version } = parseNpmSpec(options.source.npm);
  const pkg = await findInstalledPackage(name, options.packagesFrom);
  if (!pkg) {
    throw new DataRestoreError(shown, `npm package ${name} is not installed (looked for node_modules/${name} from ${options.packagesFrom} upward); run \`npm ci\` or \`npm run setup\``);
  }
  if (pkg.version !== version) {
    throw new DataRestoreError(shown, `the pointer pins ${name}@${version} but ${pkg.dir} holds version ${pkg.version}; install the pinned version (\`npm ci\`)`);
  }
  const sourceFile = resolve(pkg.dir, options.source.file);
  if (!sourceFile.startsWith(pkg.dir + sep)) {
    throw new DataRestoreError(shown, `meta.source.file "${options.source.file}" points outside the package ${name}`);
  }
  if (!(await exists(sourceFile))) {
    throw new DataRestoreError(shown, `${name}@${version} has no file ${options.source.file} (${sourceFile})`);
  }
  const sourceLabel = `${name}@${version}/${options.source.file}`;
  options.onProgress?.(`${shown}: copying ${sourceLabel}`);
  await mkdir(dirname(target), { recursive: true });
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await copyFile(sourceFile, temp, constants.COPYFILE_EXCL);
    const actual = await md5File(temp);
    if (actual !== options.expectedMd5) {
      throw new DataIntegrityError({
        file: shown,
        expectedMd5: options.expectedMd5,
        actualMd5: actual,
        source: sourceLabel,
        detail: 'Nothing was written. The package content differs from what the pointer was made from.',
      });
    }
    await rename(temp, target);
    options.onProgress?.(`${shown}: md5 ${actual} matches the pointer`);
    return { path: target, md5: actual, source: sourceLabel };
  } finally {
    await rm(temp, { force: true });
  }
}

export interface RestoreTrackedDataOptions {
  /** A Dvc bound to the repository root. */
  dvc: Dvc;
  /** Pointer files (relative to the repository root or absolute); default: every `*.dvc` in `pointerDir`. */
  targets?: string[];
  /** Default `data/raw`. */
  pointerDir?: string;
  /** Where to look for `node_modules` (walking up); default: the repository root. */
  packagesFrom?: string;
  /** Remote to pull from / push to; default: the configured default remote (none → no pull, no push). */
  remote?: string;
  /** Push materialized data to the remote (default true). A failed push is a warning. */
  push?: boolean;
  /** Replace a workspace file whose md5 differs from its pointer (default false: stop with an error). */
  force?: boolean;
  onProgress?: RestoreProgress;
}

export type RestoreAction = 'present' | 'pulled' | 'materialized';

export interface RestoredData {
  /** Pointer file, relative to the repository root. */
  pointer: string;
  /** The data file(s) the pointer tracks, relative to the repository root. */
  paths: string[];
  action: RestoreAction;
  /** For materialized data: whether it reached the remote (undefined when no push was attempted). */
  pushed: boolean | undefined;
  /** Why the pull path was not used, when it was not. */
  pullSkipped?: string;
  warnings: string[];
}

/**
 * `dvc commit` re-dumps the pointer in its own YAML style (e.g. wrapping a long `desc`). When the content is the same,
 * put the committed bytes back so a fresh clone stays clean in git.
 */
async function keepPointerBytes(pointerFile: string, original: string): Promise<void> {
  const now = await readFile(pointerFile, 'utf8');
  if (now === original || !isDeepStrictEqual(parseYaml(now), parseYaml(original))) return;
  const temp = `${pointerFile}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, original);
    await rename(temp, pointerFile);
  } finally {
    await rm(temp, { force: true });
  }
}

function describePullFailure(err: unknown): string {
  if (err instanceof DvcCommandError) {
    if (/Missing cache files|do not exist neither locally nor on remote|Checkout failed/i.test(`${err.stderr}\n${err.dvcMessage}`)) {
      return 'the remote does not have it';
    }
    return `dvc pull failed: ${err.dvcMessage.split('\n')[0]}`;
  }
  return `dvc pull failed: ${(err as Error).message}`;
}

/**
 * For each pointer: nothing to do when the workspace file has the pointer's md5; else `dvc pull`; else (the remote
 * lacks it, or there is no remote) materialize it from the npm package in the pointer's `meta.source`, check the
 * md5, `dvc commit` it into the cache (the pointer, with its `meta`, stays as it is) and push it.
 */
export async function restoreTrackedData(options: RestoreTrackedDataOptions): Promise<RestoredData[]> {
  const { dvc } = options;
  const root = resolve(dvc.cwd);
  const say = options.onProgress ?? (() => {});
  const pointers = options.targets?.length
    ? options.targets.map((t) => (isAbsolute(t) ? t : resolve(root, t)))
    : await findPointers(resolve(root, options.pointerDir ?? 'data/raw'));
  if (pointers.length === 0) {
    say(`no .dvc pointers found in ${options.pointerDir ?? 'data/raw'}`);
    return [];
  }
  // Asked only when some pointer needs the remote.
  let remote: Promise<string | undefined> | undefined;
  const getRemote = () => (remote ??= options.remote !== undefined ? Promise.resolve(options.remote) : dvc.remoteDefault());
  const results: RestoredData[] = [];
  for (const pointerFile of pointers) {
    results.push(await restoreOne(pointerFile, root, getRemote, options, say));
  }
  return results;
}

async function restoreOne(
  pointerFile: string,
  root: string,
  getRemote: () => Promise<string | undefined>,
  options: RestoreTrackedDataOptions,
  say: RestoreProgress,
): Promise<RestoredData> {
  const { dvc } = options;
  const pointerRel = relative(root, pointerFile);
  const pointer = await readDvcPointer(pointerFile);
  const baseDir = resolve(dirname(pointerFile), pointer.wdir ?? '.');
  const outs = pointer.outs.map((o) => ({ ...o, abs: resolve(baseDir, o.path), rel: relative(root, resolve(baseDir, o.path)) }));
  const paths = outs.map((o) => o.rel);
  const warnings: string[] = [];
  const fileOuts = outs.filter((o) => o.md5 !== undefined && !o.md5.endsWith('.dir'));
  const allFiles = fileOuts.length === outs.length;

  // 1. Already there?
  if (allFiles) {
    let allPresent = true;
    for (const out of fileOuts) {
      if (!(await exists(out.abs))) {
        allPresent = false;
        continue;
      }
      const actual = await md5File(out.abs);
      if (actual === out.md5) continue;
      allPresent = false;
      if (!options.force) {
        throw new DataRestoreError(
          out.rel,
          `the workspace file has md5 ${actual} but ${pointerRel} records ${out.md5}; it may hold local changes. ` +
            'Move it away, or rerun with force to replace it.',
        );
      }
      say(`${out.rel}: md5 ${actual} differs from the pointer (${out.md5}); replacing it (force)`);
    }
    // The outcome is the result (callers print it once); progress lines are the steps towards it.
    if (allPresent) {
      return { pointer: pointerRel, paths, action: 'present', pushed: undefined, warnings };
    }
  }

  // 2. dvc pull.
  const remote = await getRemote();
  let pullSkipped: string;
  if (remote === undefined) {
    pullSkipped = 'no DVC remote is configured';
    say(`${pointerRel}: ${pullSkipped}`);
  } else {
    say(`${pointerRel}: dvc pull from remote '${remote}'`);
    try {
      await dvc.pull({ targets: [pointerRel], remote, ...(options.force ? { force: true } : {}) });
      let verified = true;
      for (const out of fileOuts) {
        const actual = (await exists(out.abs)) ? await md5File(out.abs) : 'missing';
        if (actual !== out.md5) verified = false;
      }
      if (verified && (await Promise.all(outs.map((o) => exists(o.abs)))).every(Boolean)) {
        return { pointer: pointerRel, paths, action: 'pulled', pushed: undefined, warnings };
      }
      pullSkipped = 'dvc pull did not restore the data';
    } catch (err) {
      if (!(err instanceof DvcCommandError)) throw err;
      pullSkipped = describePullFailure(err);
    }
    say(`${pointerRel}: ${pullSkipped}`);
  }

  // 3. Materialize from the pinned npm package.
  const out = fileOuts[0];
  const rawSource = pointer.meta?.['source'];
  if (rawSource === undefined || !allFiles || outs.length !== 1 || out === undefined) {
    throw new DataRestoreError(
      paths.join(', '),
      `${pullSkipped}, and ${pointerRel} records no single-file meta.source to rebuild it from`,
    );
  }
  const source = NpmSourceMetaSchema.safeParse(rawSource);
  if (!source.success) {
    const issues = source.error.issues.map((i) => `meta.source.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new DataRestoreError(out.rel, `${pullSkipped}, and ${pointerRel} has an invalid ${issues}`);
  }
  say(`${out.rel}: materializing from ${source.data.npm} (${source.data.file})`);
  await materializeFromSource({
    target: out.abs,
    expectedMd5: out.md5!,
    source: source.data,
    packagesFrom: options.packagesFrom ?? root,
    root,
    onProgress: say,
  });

  // 4. Into DVC's cache; the pointer (md5 and meta) must stay as committed.
  const pointerBytes = await readFile(pointerFile, 'utf8');
  await dvc.commit([pointerRel], { force: true });
  const after = await readDvcPointer(pointerFile);
  if (after.outs[0]?.md5 !== out.md5) {
    throw new DataIntegrityError({ file: pointerRel, expectedMd5: out.md5!, actualMd5: after.outs[0]?.md5 ?? 'none', detail: 'dvc commit changed the pointer' });
  }
  await keepPointerBytes(pointerFile, pointerBytes);
  say(`${out.rel}: stored in the DVC cache`);

  // 5. Push (best effort).
  let pushed: boolean | undefined;
  if (remote !== undefined && options.push !== false) {
    try {
      await dvc.push({ targets: [pointerRel], remote });
      pushed = true;
      say(`${out.rel}: pushed to remote '${remote}'`);
    } catch (err) {
      if (!(err instanceof DvcCommandError)) throw err;
      pushed = false;
      const warning = `push to remote '${remote}' failed (the data is restored locally): ${err.dvcMessage.split('\n')[0]}`;
      warnings.push(warning);
      say(`${out.rel}: warning: ${warning}`);
    }
  }
  return { pointer: pointerRel, paths, action: 'materialized', pushed, pullSkipped, warnings };
}
