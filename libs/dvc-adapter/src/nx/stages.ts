/**
 * dvc.yaml → the concrete stages DVC runs: `foreach`/`matrix` expanded (`train@cnn`, `sweep@0.1-64`), `${...}`
 * templating resolved against params.yaml and `vars`, paths made relative to the dvc.yaml folder.
 * Pure: file access goes through the `readFile` callback.
 */
import { posix } from 'node:path';
import { DvcYamlSchema } from '../files.js';
import { DvcYamlError } from './errors.js';
import { PyFloat, interpolate, isRecord, lookup, parseYamlForDvc, toStr } from './interpolate.js';

export type StageOutKind = 'outs' | 'metrics' | 'plots';

export interface StageOut {
  /** Relative to the dvc.yaml folder, posix. */
  path: string;
  kind: StageOutKind;
  cache: boolean;
  persist: boolean;
}

export interface StageParams {
  /** Params file relative to the dvc.yaml folder. */
  file: string;
  /** Dotted keys the stage uses; `null` = every key of the file. */
  keys: string[] | null;
}

export interface ResolvedStage {
  /** The name DVC uses (`prepare`, `train@cnn`). */
  name: string;
  /** The dvc.yaml entry it comes from (`train` for `train@cnn`). */
  group: string;
  cmd: string | string[];
  /** Working directory relative to the dvc.yaml folder ('' = the folder itself). */
  wdir: string;
  /** Dependencies relative to the dvc.yaml folder. */
  deps: string[];
  outs: StageOut[];
  /** Params the stage declares, plus the params.yaml/vars-file keys its `${...}` templates read (DVC tracks those too). */
  params: StageParams[];
  frozen: boolean;
  alwaysChanged: boolean;
  desc?: string;
}

export interface ResolveDvcYamlOptions {
  /** Name of the dvc.yaml in messages (e.g. `pipelines/a/dvc.yaml`). */
  file?: string;
  /** Reads a file relative to the dvc.yaml folder; `undefined` when it does not exist. */
  readFile: (relPath: string) => string | undefined;
}

const DEFAULT_PARAMS_FILE = 'params.yaml';

/** Normalizes a path relative to the dvc.yaml folder; rejects paths that leave the repository layout badly. */
function norm(...parts: string[]): string {
  const joined = posix.normalize(posix.join(...parts.filter((p) => p !== '')));
  return joined === '.' ? '' : joined.replace(/\/$/, '');
}

function loadStructured(relPath: string, readFile: ResolveDvcYamlOptions['readFile'], where: string): Record<string, unknown> {
  const text = readFile(relPath);
  if (text === undefined) throw new DvcYamlError(`${where}: file '${relPath}' does not exist`, { where });
  if (!/\.(ya?ml|json)$/i.test(relPath)) {
    throw new DvcYamlError(`${where}: '${relPath}' is not a YAML or JSON file (other params formats are not supported)`, { where });
  }
  let doc: unknown;
  try {
    doc = parseYamlForDvc(text);
  } catch (err) {
    throw new DvcYamlError(`${where}: '${relPath}' is not valid YAML/JSON: ${(err as Error).message}`, { where }, { cause: err });
  }
  if (doc === null || doc === undefined) return {};
  if (!isRecord(doc)) throw new DvcYamlError(`${where}: '${relPath}' must hold a mapping at the top level`, { where });
  return doc;
}

/** Selects dotted keys from a document, keeping the nesting (`a.b` → `{ a: { b } }`). */
function selectKeys(doc: Record<string, unknown>, keys: string[], where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const value = lookup(key, doc, where);
    const parts = key.split('.');
    let cur = out;
    parts.forEach((p, i) => {
      if (i === parts.length - 1) cur[p] = value;
      else cur = (cur[p] ??= {}) as Record<string, unknown>;
    });
  }
  return out;
}

/** A templating context whose top-level keys remember the file they came from (null = inline `vars`). */
interface Context {
  values: Record<string, unknown>;
  source: Map<string, string | null>;
}

function mergeInto(ctx: Context, values: Record<string, unknown>, source: string | null, where: string): void {
  for (const [k, v] of Object.entries(values)) {
    if (Object.hasOwn(ctx.values, k)) {
      throw new DvcYamlError(`${where}: cannot redefine '${k}' (already defined by ${ctx.source.get(k) ?? 'inline vars'})`, {
        where,
        key: k,
      });
    }
    ctx.values[k] = v;
    ctx.source.set(k, source);
  }
}

function loadVars(
  ctx: Context,
  vars: unknown[],
  baseDir: string,
  readFile: ResolveDvcYamlOptions['readFile'],
  where: string,
): void {
  for (const [i, entry] of vars.entries()) {
    const w = `${where}.vars[${i}]`;
    if (isRecord(entry)) {
      mergeInto(ctx, entry, null, w);
    } else if (typeof entry === 'string') {
      if (entry.includes('${')) throw new DvcYamlError(`${w}: vars entries cannot be templated`, { where: w });
      const [file = '', keyList] = entry.split(':', 2);
      const rel = norm(baseDir, file);
      const doc = loadStructured(rel, readFile, w);
      const selected = keyList === undefined ? doc : selectKeys(doc, keyList.split(',').map((k) => k.trim()), w);
      mergeInto(ctx, selected, rel, w);
    } else {
      throw new DvcYamlError(`${w}: expected a file name or a mapping`, { where: w });
    }
  }
}

function cloneContext(ctx: Context): Context {
  return { values: { ...ctx.values }, source: new Map(ctx.source) };
}

/** Interpolates with tracking of the keys read from files (DVC records those as the stage's params). */
function resolveTracked(value: unknown, ctx: Context, where: string, tracked: Map<string, Set<string>>): unknown {
  const record = (expr: string): void => {
    const inner = expr.trim();
    const top = inner.split(/[.[]/, 1)[0] ?? '';
    const file = ctx.source.get(top);
    if (file) {
      const key = inner.replace(/\[/g, '.').replace(/\]/g, '');
      let set = tracked.get(file);
      if (!set) tracked.set(file, (set = new Set()));
      set.add(key);
    }
  };
  collectExpressions(value).forEach(record);
  return interpolate(value, ctx.values, where);
}

function collectExpressions(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    for (const m of value.matchAll(/(?<!\\)\$\{(.*?)\}/g)) out.push(m[1] ?? '');
  } else if (Array.isArray(value)) value.forEach((v) => collectExpressions(v, out));
  else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) {
      collectExpressions(k, out);
      collectExpressions(v, out);
    }
  }
  return out;
}

function parseOuts(entries: unknown, kind: StageOutKind, wdir: string, where: string): StageOut[] {
  if (entries === undefined || entries === null) return [];
  if (!Array.isArray(entries)) throw new DvcYamlError(`${where}.${kind}: expected a list`, { where: `${where}.${kind}` });
  return entries.map((entry, i) => {
    const w = `${where}.${kind}[${i}]`;
    if (typeof entry === 'string') return { path: norm(wdir, entry), kind, cache: kind === 'outs', persist: false };
    if (isRecord(entry)) {
      const [path, ...rest] = Object.keys(entry);
      if (path === undefined || rest.length > 0) throw new DvcYamlError(`${w}: expected one path per entry`, { where: w });
      const opts = entry[path];
      const o = isRecord(opts) ? opts : {};
      const cache = typeof o['cache'] === 'boolean' ? o['cache'] : kind === 'outs';
      const persist = o['persist'] === true;
      return { path: norm(wdir, path), kind, cache: kind === 'outs' ? cache : o['cache'] === true, persist };
    }
    throw new DvcYamlError(`${w}: expected a path or { path: options }`, { where: w });
  });
}

function parseParams(entries: unknown, wdir: string, where: string): StageParams[] {
  if (entries === undefined || entries === null) return [];
  if (!Array.isArray(entries)) throw new DvcYamlError(`${where}.params: expected a list`, { where: `${where}.params` });
  const byFile = new Map<string, string[] | null>();
  const add = (file: string, keys: string[] | null): void => {
    const prev = byFile.get(file);
    if (prev === null || keys === null) byFile.set(file, null);
    else byFile.set(file, [...(prev ?? []), ...keys]);
  };
  entries.forEach((entry, i) => {
    const w = `${where}.params[${i}]`;
    if (typeof entry === 'string') add(norm(wdir, DEFAULT_PARAMS_FILE), [entry]);
    else if (isRecord(entry)) {
      for (const [file, keys] of Object.entries(entry)) {
        if (keys === null || (Array.isArray(keys) && keys.length === 0)) add(norm(wdir, file), null);
        else if (Array.isArray(keys) && keys.every((k) => typeof k === 'string')) add(norm(wdir, file), keys as string[]);
        else throw new DvcYamlError(`${w}: expected a list of keys for '${file}'`, { where: w });
      }
    } else throw new DvcYamlError(`${w}: expected a key or { file: [keys] }`, { where: w });
  });
  return [...byFile.entries()].map(([file, keys]) => ({ file, keys: keys === null ? null : [...new Set(keys)] }));
}

function isMapOrSeq(v: unknown): boolean {
  return Array.isArray(v) || isRecord(v);
}

function buildStage(
  name: string,
  group: string,
  template: Record<string, unknown>,
  baseCtx: Context,
  options: ResolveDvcYamlOptions,
): ResolvedStage {
  const file = options.file ?? 'dvc.yaml';
  const where = `${file}: stages.${name}`;
  let ctx = baseCtx;
  const { vars, ...definition } = template;
  const tracked = new Map<string, Set<string>>();
  const rawWdir = definition['wdir'];
  const wdir = typeof rawWdir === 'string' ? norm(toStr(resolveTracked(rawWdir, ctx, `${where}.wdir`, tracked), where)) : '';
  if (Array.isArray(vars) && vars.length > 0) {
    ctx = cloneContext(ctx);
    loadVars(ctx, vars, wdir, options.readFile, where);
  }
  const resolved = resolveTracked(definition, ctx, where, tracked) as Record<string, unknown>;
  const cmd = resolved['cmd'];
  if (!(typeof cmd === 'string' || (Array.isArray(cmd) && cmd.every((c) => typeof c === 'string')))) {
    throw new DvcYamlError(`${where}.cmd: missing or not a string / list of strings`, { where: `${where}.cmd` });
  }
  const deps = resolved['deps'] ?? [];
  if (!Array.isArray(deps) || !deps.every((d) => typeof d === 'string')) {
    throw new DvcYamlError(`${where}.deps: expected a list of paths`, { where: `${where}.deps` });
  }
  const params = parseParams(resolved['params'], wdir, where);
  for (const [pfile, keys] of tracked) {
    const existing = params.find((p) => p.file === pfile);
    if (existing) {
      if (existing.keys !== null) existing.keys = [...new Set([...existing.keys, ...keys])];
    } else params.push({ file: pfile, keys: [...keys] });
  }
  const desc = resolved['desc'];
  return {
    name,
    group,
    cmd: cmd as string | string[],
    wdir,
    deps: (deps as string[]).map((d) => norm(wdir, d)),
    outs: [
      ...parseOuts(resolved['outs'], 'outs', wdir, where),
      ...parseOuts(resolved['metrics'], 'metrics', wdir, where),
      ...parseOuts(resolved['plots'], 'plots', wdir, where),
    ],
    params,
    frozen: resolved['frozen'] === true,
    alwaysChanged: resolved['always_changed'] === true,
    ...(typeof desc === 'string' ? { desc } : {}),
  };
}

/** The stages of a dvc.yaml, in file order, with `foreach`/`matrix` groups expanded the way DVC names them. */
export function resolveDvcYaml(text: string, options: ResolveDvcYamlOptions): ResolvedStage[] {
  const file = options.file ?? 'dvc.yaml';
  let raw: unknown;
  try {
    raw = parseYamlForDvc(text);
  } catch (err) {
    throw new DvcYamlError(`${file}: not valid YAML: ${(err as Error).message}`, { where: file }, { cause: err });
  }
  const parsed = DvcYamlSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new DvcYamlError(`${file}: not a valid dvc.yaml: ${issues}`, { where: file });
  }
  // Keep the PyFloat-aware values: zod only checked the shape.
  const doc = raw as { stages?: Record<string, Record<string, unknown>>; vars?: unknown[] };
  const ctx: Context = { values: {}, source: new Map() };
  const topVars = doc.vars ?? [];
  const listsDefault = topVars.some((v) => typeof v === 'string' && v.split(':', 1)[0] === DEFAULT_PARAMS_FILE);
  if (!listsDefault && options.readFile(DEFAULT_PARAMS_FILE) !== undefined) {
    mergeInto(ctx, loadStructured(DEFAULT_PARAMS_FILE, options.readFile, `${file}: vars`), DEFAULT_PARAMS_FILE, `${file}: vars`);
  }
  loadVars(ctx, topVars, '', options.readFile, file);

  const stages: ResolvedStage[] = [];
  for (const [group, def] of Object.entries(doc.stages ?? {})) {
    const where = `${file}: stages.${group}`;
    if (group.includes('@')) throw new DvcYamlError(`${where}: stage names cannot contain '@'`, { where });
    if ('matrix' in def) {
      const { matrix, ...template } = def;
      const axes = interpolate(matrix, ctx.values, `${where}.matrix`);
      if (!isRecord(axes)) throw new DvcYamlError(`${where}.matrix: expected a mapping of lists`, { where: `${where}.matrix` });
      let combos: { key: string[]; item: Record<string, unknown> }[] = [{ key: [], item: {} }];
      for (const [axis, values] of Object.entries(axes)) {
        const list = interpolate(values, ctx.values, `${where}.matrix.${axis}`);
        if (!Array.isArray(list)) {
          throw new DvcYamlError(`${where}.matrix.${axis}: expected a list`, { where: `${where}.matrix.${axis}` });
        }
        combos = combos.flatMap((c) =>
          list.map((v, i) => ({
            key: [...c.key, isMapOrSeq(v) ? `${axis}${i}` : toStr(v, where)],
            item: { ...c.item, [axis]: v },
          })),
        );
      }
      for (const c of combos) {
        const key = c.key.join('-');
        const local = cloneContext(ctx);
        local.values['item'] = c.item;
        local.values['key'] = key;
        local.source.delete('item');
        local.source.delete('key');
        stages.push(buildStage(`${group}@${key}`, group, template, local, options));
      }
    } else if ('foreach' in def) {
      const data = interpolate(def['foreach'], ctx.values, `${where}.foreach`);
      const template = def['do'];
      if (!isRecord(template)) throw new DvcYamlError(`${where}.do: a foreach stage needs a 'do' mapping`, { where: `${where}.do` });
      let entries: [string, unknown][];
      if (isRecord(data)) entries = Object.entries(data);
      else if (Array.isArray(data)) {
        entries = data.some(isMapOrSeq)
          ? data.map((v, i) => [String(i), v] as [string, unknown])
          : data.map((v) => [toStr(v, where), v] as [string, unknown]);
      } else {
        throw new DvcYamlError(`${where}.foreach: expected list/dictionary, got ${data instanceof PyFloat ? 'float' : typeof data}`, {
          where: `${where}.foreach`,
        });
      }
      for (const [key, item] of entries) {
        const local = cloneContext(ctx);
        local.values['item'] = item;
        local.source.delete('item');
        if (isRecord(data)) {
          local.values['key'] = key;
          local.source.delete('key');
        }
        stages.push(buildStage(`${group}@${key}`, group, template, local, options));
      }
    } else {
      stages.push(buildStage(group, group, def, ctx, options));
    }
  }
  return stages;
}

/** Every key a params file contributes to a stage: `keys` or, when null, the whole document. */
export function selectParams(doc: Record<string, unknown>, keys: string[] | null, where: string): Record<string, unknown> {
  if (keys === null) return doc;
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    try {
      out[key] = lookup(key, doc, where);
    } catch (err) {
      if (err instanceof DvcYamlError) out[key] = { '<missing>': true };
      else throw err;
    }
  }
  return out;
}
