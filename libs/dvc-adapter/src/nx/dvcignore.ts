/**
 * `.dvcignore` as DVC applies it (gitignore syntax, one file per folder, rules relative to their folder), so the Nx
 * fingerprint of a stage's code deps covers exactly the files DVC hashes for them: a test file that `.dvcignore`
 * excludes changes neither `dvc status` nor the Nx hash.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';

interface Rule {
  /** Folder of the .dvcignore, relative to the DVC root ('' = the root). */
  base: string;
  regex: RegExp;
  negate: boolean;
  dirOnly: boolean;
}

/** One gitignore pattern (without `!` and trailing `/`) → a regex over paths relative to the rule's folder. */
function patternRegex(pattern: string): RegExp {
  const anchored = pattern.includes('/');
  const body = pattern.replace(/^\//, '');
  let re = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? '';
    if (c === '*' && body[i + 1] === '*') {
      const atStart = i === 0 || body[i - 1] === '/';
      const atEnd = i + 2 === body.length || body[i + 2] === '/';
      if (atStart && atEnd) {
        if (i + 2 === body.length) re += '.*'; // trailing `**`: everything inside
        else re += '(?:.*/)?'; // `**/`: zero or more folders
        i += body[i + 2] === '/' ? 2 : 1;
        continue;
      }
      re += '[^/]*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = body.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let cls = body.slice(i + 1, close);
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else if (c === '\\' && i + 1 < body.length) {
      re += (body[++i] ?? '').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(anchored ? `^${re}$` : `^(?:.*/)?${re}$`);
}

/** Parses the text of one .dvcignore in folder `base` (relative to the DVC root). */
export function parseDvcignore(text: string, base: string): Rule[] {
  const rules: Rule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.replace(/(?<!\\)\s+$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1);
    else if (line.startsWith('\\!') || line.startsWith('\\#')) line = line.slice(1);
    const dirOnly = line.endsWith('/');
    if (dirOnly) line = line.replace(/\/+$/, '');
    if (line === '') continue;
    rules.push({ base, regex: patternRegex(line), negate, dirOnly });
  }
  return rules;
}

/** The .dvcignore rules of a DVC repository, loaded folder by folder as a walk reaches them. */
export class DvcIgnore {
  private readonly byFolder = new Map<string, Rule[]>();
  private constructor(private readonly dvcRoot: string) {}

  /** `dvcRoot`: absolute path of the folder holding `.dvc/`. */
  static async load(dvcRoot: string): Promise<DvcIgnore> {
    const ignore = new DvcIgnore(dvcRoot);
    await ignore.folderRules('');
    return ignore;
  }

  private async folderRules(folder: string): Promise<Rule[]> {
    let rules = this.byFolder.get(folder);
    if (rules) return rules;
    let text = '';
    try {
      text = await readFile(join(this.dvcRoot, folder, '.dvcignore'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
    }
    rules = parseDvcignore(text, folder);
    this.byFolder.set(folder, rules);
    return rules;
  }

  /** Whether any .dvcignore loaded so far has a rule. */
  get hasRules(): boolean {
    return [...this.byFolder.values()].some((r) => r.length > 0);
  }

  /** Whether DVC ignores `path` (relative to the DVC root, `/`-separated) itself, ignoring its parents. */
  private async matchesSelf(path: string, isDir: boolean): Promise<boolean> {
    const parts = path.split('/');
    let ignored = false;
    for (let i = 0; i < parts.length; i++) {
      const folder = parts.slice(0, i).join('/');
      const rel = parts.slice(i).join('/');
      for (const rule of await this.folderRules(folder)) {
        if (rule.dirOnly && !isDir) continue;
        if (rule.regex.test(rel)) ignored = !rule.negate;
      }
    }
    return ignored;
  }

  /** Whether DVC ignores `path` (relative to the DVC root): it or one of its folders matches (no re-inclusion below an ignored folder, as in git). */
  async ignores(path: string, isDir: boolean): Promise<boolean> {
    if (path === '' || path === '.') return false;
    const parts = path.split('/');
    if (parts.includes('.dvc') || parts.includes('.git')) return true;
    for (let i = 1; i < parts.length; i++) if (await this.matchesSelf(parts.slice(0, i).join('/'), true)) return true;
    return this.matchesSelf(path, isDir);
  }

  /** Every file under `dir` (relative to the DVC root) that DVC does not ignore, as paths relative to `dir`, sorted. */
  async files(dir: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      const entries = await readdir(join(this.dvcRoot, rel), { withFileTypes: true });
      for (const e of entries) {
        const child = rel === '' ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory()) {
          if (!(await this.ignores(child, true))) await walk(child);
        } else if (e.isFile() && !(await this.ignores(child, false))) {
          out.push(dir === '' ? child : posix.relative(dir, child));
        }
      }
    };
    await walk(dir);
    return out.sort();
  }
}
