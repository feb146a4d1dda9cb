/**
 * A HOCON reader for what ClearML's configuration files hold (`clearml-init` writes `~/clearml.conf`; the SDK reads
 * it with pyhocon): nested objects with or without a separator before `{`, `a.b.c: v` paths, `:` / `=` / `+=`,
 * quoted, triple-quoted and unquoted strings (URLs such as `http://host:8008` included), numbers, booleans, null,
 * arrays, `#` and `//` comments, commas or newlines between fields, merging of repeated objects, and `${path}` /
 * `${?ENV_OR_PATH}` substitutions. `include` is not supported (a clear error says so).
 */
import { HoconParseError } from './errors.js';

export type HoconValue = string | number | boolean | null | HoconValue[] | HoconObject;
export interface HoconObject {
  [key: string]: HoconValue;
}

interface Subst {
  readonly kind: 'subst';
  readonly path: string[];
  readonly optional: boolean;
  readonly line: number;
  readonly column: number;
}
interface Concat {
  readonly kind: 'concat';
  readonly parts: (string | Subst)[];
}
type Raw = string | number | boolean | null | Raw[] | RawObject | Subst | Concat;
interface RawObject {
  [key: string]: Raw;
}

export interface HoconParseOptions {
  /** Named in error messages. */
  file?: string;
  /** Looked up by `${?NAME}` / `${NAME}` when the path is not in the document (HOCON's rule). Default: none. */
  env?: Record<string, string | undefined>;
}

const isSubst = (v: unknown): v is Subst => typeof v === 'object' && v !== null && (v as Subst).kind === 'subst' && Array.isArray((v as Subst).path);
const isConcat = (v: unknown): v is Concat => typeof v === 'object' && v !== null && (v as Concat).kind === 'concat' && Array.isArray((v as Concat).parts);
const isObject = (v: unknown): v is RawObject => typeof v === 'object' && v !== null && !Array.isArray(v) && !isSubst(v) && !isConcat(v);

/** Characters that end an unquoted key segment. */
const KEY_STOP = new Set([' ', '\t', '\r', '\n', '.', ':', '=', '{', '}', '[', ']', ',', '#', '"', '+']);
/** Characters that end an unquoted value (besides newline and a `//` comment). */
const VALUE_STOP = new Set(['\n', ',', '}', ']', '#', '{', '[', '"']);

class Parser {
  private pos = 0;
  /** Whether the last scalar piece read was quoted (its trailing spaces are kept). */
  private lastWasQuoted = false;
  constructor(
    private readonly text: string,
    private readonly file: string | undefined,
  ) {}

  fail(problem: string, at = this.pos): never {
    let line = 1;
    let col = 1;
    for (let i = 0; i < at && i < this.text.length; i++) {
      if (this.text[i] === '\n') {
        line++;
        col = 1;
      } else col++;
    }
    throw new HoconParseError({ file: this.file, line, column: col, problem });
  }

  private peek(offset = 0): string {
    return this.text[this.pos + offset] ?? '';
  }
  private eof(): boolean {
    return this.pos >= this.text.length;
  }
  private startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }

  /** Spaces and tabs (not newlines). */
  private skipInline(): void {
    while (!this.eof() && (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\r' || this.peek() === '\ufeff')) this.pos++;
  }
  private skipComment(): boolean {
    if (this.peek() === '#' || this.startsWith('//')) {
      while (!this.eof() && this.peek() !== '\n') this.pos++;
      return true;
    }
    return false;
  }
  /** Whitespace, newlines, comments, and (when `commas`) commas. */
  private skipAll(commas: boolean): void {
    for (;;) {
      this.skipInline();
      if (this.skipComment()) continue;
      if (this.peek() === '\n' || (commas && this.peek() === ',')) {
        this.pos++;
        continue;
      }
      return;
    }
  }

  parseRoot(): RawObject {
    this.skipAll(false);
    let obj: RawObject;
    if (this.peek() === '{') {
      this.pos++;
      obj = this.parseFields(true);
    } else {
      obj = this.parseFields(false);
    }
    this.skipAll(true);
    if (!this.eof()) this.fail(`unexpected '${this.peek()}' after the end of the document`);
    return obj;
  }

  private parseFields(braced: boolean): RawObject {
    const obj: RawObject = {};
    for (;;) {
      this.skipAll(true);
      if (this.eof()) {
        if (braced) this.fail("missing '}' at the end of the document");
        return obj;
      }
      if (this.peek() === '}') {
        if (!braced) this.fail("unexpected '}'");
        this.pos++;
        return obj;
      }
      const keyAt = this.pos;
      const path = this.parseKey();
      if (path.length === 1 && path[0] === 'include' && (this.peek() === ' ' || this.peek() === '\t')) {
        const save = this.pos;
        this.skipInline();
        if (this.peek() === '"' || this.startsWith('file(') || this.startsWith('required(') || this.startsWith('url(') || this.startsWith('classpath(')) {
          this.fail('`include` is not supported by this reader', keyAt);
        }
        this.pos = save;
      }
      this.skipInline();
      let append = false;
      if (this.peek() === '{') {
        // `key { ... }`: no separator needed
      } else if (this.peek() === ':' || this.peek() === '=') {
        this.pos++;
      } else if (this.startsWith('+=')) {
        this.pos += 2;
        append = true;
      } else {
        this.fail(`expected ':', '=' or '{' after the key '${path.join('.')}'`);
      }
      this.skipInline();
      // A value may start on the next line after the separator only for objects/arrays in HOCON; pyhocon allows it too.
      if (this.peek() === '\n' || this.peek() === '#' || this.startsWith('//')) {
        this.skipAll(false);
      }
      const value = this.parseValue();
      setPath(obj, path, value, append);
    }
  }

  private parseKey(): string[] {
    const segments: string[] = [];
    let current = '';
    let any = false;
    for (;;) {
      const c = this.peek();
      if (c === '"') {
        current += this.parseQuoted();
        any = true;
        continue;
      }
      if (c === '.') {
        if (!any) this.fail('empty key segment');
        segments.push(current);
        current = '';
        any = false;
        this.pos++;
        continue;
      }
      if (c === '' || KEY_STOP.has(c) || this.startsWith('//')) break;
      current += c;
      any = true;
      this.pos++;
    }
    if (!any) this.fail(this.eof() ? 'expected a key at the end of the document' : `expected a key, found '${this.peek()}'`);
    segments.push(current);
    return segments;
  }

  private parseValue(): Raw {
    this.skipInline();
    const c = this.peek();
    if (c === '{') {
      this.pos++;
      return this.parseFields(true);
    }
    if (c === '[') {
      this.pos++;
      return this.parseArray();
    }
    // Scalars: one or more pieces on one line (`"a" b ${x}/c` concatenates to a string).
    const parts: (string | Subst)[] = [];
    let onlyUnquoted = true;
    for (;;) {
      const save = this.pos;
      const ch = this.peek();
      let piece: string | Subst | undefined;
      if (this.startsWith('${')) {
        piece = this.parseSubst();
        onlyUnquoted = false;
      } else if (this.startsWith('"""')) {
        piece = this.parseTriple();
        onlyUnquoted = false;
      } else if (ch === '"') {
        piece = this.parseQuoted();
        onlyUnquoted = false;
      } else if (ch !== '' && !VALUE_STOP.has(ch) && !this.startsWith('//')) {
        const raw = this.parseUnquoted(false);
        piece = raw === '' ? undefined : raw;
      }
      if (piece === undefined) {
        this.pos = save;
        break;
      }
      parts.push(piece);
    }
    if (parts.length === 0) this.fail(this.eof() ? 'expected a value at the end of the document' : `expected a value, found '${c === '\n' ? '\\n' : c}'`);
    // trailing whitespace of a final unquoted piece is not part of the value
    const last = parts[parts.length - 1];
    if (typeof last === 'string' && onlyUnquoted) parts[parts.length - 1] = last.replace(/\s+$/, '');
    else if (typeof last === 'string' && parts.length > 1 && !this.lastWasQuoted) parts[parts.length - 1] = last.replace(/\s+$/, '');
    if (parts.length === 1) {
      const only = parts[0]!;
      if (typeof only !== 'string') return only;
      return onlyUnquoted ? literal(only.trim()) : only;
    }
    if (parts.every((p) => typeof p === 'string')) return (parts as string[]).join('');
    return { kind: 'concat', parts } as Concat;
  }

  private parseUnquoted(trim = true): string {
    this.lastWasQuoted = false;
    const start = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === '' || VALUE_STOP.has(c)) break;
      // `//` starts a comment only at the start or after whitespace (so `http://host` stays a value, as pyhocon reads it).
      if (c === '/' && this.peek(1) === '/' && (this.pos === start || /\s/.test(this.text[this.pos - 1] ?? ''))) break;
      if (c === '$' && this.peek(1) === '{') break;
      this.pos++;
    }
    const raw = this.text.slice(start, this.pos);
    return trim ? raw.trim() : raw;
  }

  private parseQuoted(): string {
    this.lastWasQuoted = true;
    const start = this.pos;
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      if (this.eof() || this.peek() === '\n') this.fail('unterminated quoted string', start);
      const c = this.peek();
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === '\\') {
        const n = this.peek(1);
        this.pos += 2;
        switch (n) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'u': {
            const hex = this.text.slice(this.pos, this.pos + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
            out += String.fromCharCode(parseInt(hex, 16));
            this.pos += 4;
            break;
          }
          case '"':
          case '\\':
          case '/':
            out += n;
            break;
          default:
            this.fail(`bad escape \\${n}`, this.pos - 2);
        }
        continue;
      }
      out += c;
      this.pos++;
    }
  }

  private parseTriple(): string {
    this.lastWasQuoted = true;
    const start = this.pos;
    this.pos += 3;
    const end = this.text.indexOf('"""', this.pos);
    if (end < 0) this.fail('unterminated """ string', start);
    let close = end;
    while (this.text[close + 3] === '"') close++; // extra quotes belong to the string
    const s = this.text.slice(this.pos, close);
    this.pos = close + 3;
    return s;
  }

  private parseSubst(): Subst {
    const start = this.pos;
    const line = this.text.slice(0, start).split('\n').length;
    const column = start - this.text.lastIndexOf('\n', start - 1);
    this.pos += 2;
    const optional = this.peek() === '?';
    if (optional) this.pos++;
    this.skipInline();
    const path = this.parseKey();
    this.skipInline();
    if (this.peek() !== '}') this.fail("expected '}' to close the substitution", start);
    this.pos++;
    return { kind: 'subst', path, optional, line, column };
  }

  private parseArray(): Raw[] {
    const out: Raw[] = [];
    for (;;) {
      this.skipAll(true);
      if (this.eof()) this.fail("missing ']'");
      if (this.peek() === ']') {
        this.pos++;
        return out;
      }
      out.push(this.parseValue());
    }
  }
}

function literal(text: string): string | number | boolean | null {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  if (/^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    const n = Number(text);
    if (Number.isFinite(n)) return n;
  }
  return text;
}

function setPath(obj: RawObject, path: string[], value: Raw, append: boolean): void {
  let cur = obj;
  for (const seg of path.slice(0, -1)) {
    const next = cur[seg];
    if (!isObject(next)) cur[seg] = {};
    cur = cur[seg] as RawObject;
  }
  const last = path[path.length - 1]!;
  const existing = cur[last];
  if (append) {
    cur[last] = Array.isArray(existing) ? [...existing, value] : [value];
  } else if (isObject(existing) && isObject(value)) {
    mergeInto(existing, value);
  } else {
    cur[last] = value;
  }
}

function mergeInto(target: RawObject, source: RawObject): void {
  for (const [k, v] of Object.entries(source)) {
    const t = target[k];
    if (isObject(t) && isObject(v)) mergeInto(t, v);
    else target[k] = v;
  }
}

function lookup(root: RawObject, path: readonly string[]): Raw | undefined {
  let cur: Raw | undefined = root;
  for (const seg of path) {
    if (!isObject(cur) || !Object.hasOwn(cur, seg)) return undefined;
    cur = cur[seg];
  }
  return cur;
}

function resolveAll(root: RawObject, opts: HoconParseOptions): HoconObject {
  const resolving = new Set<Subst>();
  const resolveValue = (v: Raw): HoconValue | undefined => {
    if (isSubst(v)) {
      if (resolving.has(v)) {
        throw new HoconParseError({ file: opts.file, line: v.line, column: v.column, problem: `cycle in substitution \${${v.path.join('.')}}` });
      }
      resolving.add(v);
      try {
        const target = lookup(root, v.path);
        if (target !== undefined) return resolveValue(target);
        const fromEnv = v.path.length === 1 ? opts.env?.[v.path[0]!] : undefined;
        if (fromEnv !== undefined) return fromEnv;
        if (v.optional) return undefined;
        throw new HoconParseError({ file: opts.file, line: v.line, column: v.column, problem: `unresolved substitution \${${v.path.join('.')}}` });
      } finally {
        resolving.delete(v);
      }
    }
    if (isConcat(v)) {
      return v.parts
        .map((p) => {
          if (typeof p === 'string') return p;
          const r = resolveValue(p);
          if (r === undefined) return '';
          if (typeof r === 'object' && r !== null) {
            throw new HoconParseError({ file: opts.file, line: p.line, column: p.column, problem: `\${${p.path.join('.')}} is an object or array and cannot be part of a string` });
          }
          return String(r);
        })
        .join('');
    }
    if (Array.isArray(v)) return v.map(resolveValue).filter((x): x is HoconValue => x !== undefined);
    if (isObject(v)) {
      const out: HoconObject = {};
      for (const [k, x] of Object.entries(v)) {
        const r = resolveValue(x);
        if (r !== undefined) out[k] = r;
      }
      return out;
    }
    return v;
  };
  return resolveValue(root) as HoconObject;
}

/** Parse a HOCON document into plain JSON values. Throws {@link HoconParseError} with file, line and column. */
export function parseHocon(text: string, opts: HoconParseOptions = {}): HoconObject {
  const raw = new Parser(text, opts.file).parseRoot();
  return resolveAll(raw, opts);
}

/** The value at `a.b.c` (dots separate keys), or undefined. */
export function hoconGet(obj: HoconObject, path: string): HoconValue | undefined {
  let cur: HoconValue | undefined = obj;
  for (const seg of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, seg)) return undefined;
    cur = (cur as HoconObject)[seg];
  }
  return cur;
}
