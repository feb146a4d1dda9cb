import { isScalar, parse as parseYaml } from 'yaml';
import { DvcYamlError } from './errors.js';

/**
 * A YAML float kept apart from integers, so `1.0` prints as Python prints it (`1.0`, not `1`).
 * DVC is Python: generated stage names (`train@1.0`) and interpolated strings use Python's `str()`.
 */
export class PyFloat {
  constructor(readonly value: number) {}
  toString(): string {
    return pythonFloatRepr(this.value);
  }
  toJSON(): number {
    return this.value;
  }
}

/** Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 or from 1e16. */
export function pythonFloatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const [mantissa = '0', expText = '0'] = n.toExponential().split('e');
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const frac = digits.slice(1);
    const expStr = `${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
    return `${sign}${digits[0]}${frac ? `.${frac}` : ''}e${expStr}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const fracPart = digits.slice(exp + 1) || '0';
  return `${sign}${intPart}.${fracPart}`;
}

/** Parses YAML the way DVC sees it for templating: floats stay {@link PyFloat}. */
export function parseYamlForDvc(text: string): unknown {
  return parseYaml(text, {
    customTags: (tags) =>
      tags.map((tag) => {
        if (typeof tag !== 'object' || tag.tag !== 'tag:yaml.org,2002:float' || !('resolve' in tag)) return tag;
        const resolve = tag.resolve as (...args: unknown[]) => unknown;
        return {
          ...tag,
          resolve: (...args: unknown[]) => {
            const v = resolve(...args);
            if (typeof v === 'number') return new PyFloat(v);
            // yaml returns a Scalar node for plain floats (to remember their fraction digits)
            if (isScalar(v) && typeof v.value === 'number') return new PyFloat(v.value);
            return v;
          },
        } as typeof tag;
      }),
  });
}

/** Replaces {@link PyFloat} by plain numbers, for JSON output and for values handed to other code. */
export function plain(value: unknown): unknown {
  if (value instanceof PyFloat) return value.value;
  if (Array.isArray(value)) return value.map(plain);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof PyFloat);
}

const KEYCRE = /(?<!\\)\$\{(.*?)\}/g;

/** Python's `str()` of a scalar as DVC's `to_str` prints it; dicts become `--key value` arguments. */
export function toStr(value: unknown, where: string): string {
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value instanceof PyFloat) return value.toString();
  if (isRecord(value)) {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(flatten(value))) {
      if (typeof v === 'boolean') {
        if (v) parts.push(`--${k}`);
      } else if (typeof v === 'string') parts.push(`--${k} ${shellQuote(v)}`);
      else if (Array.isArray(v)) {
        v.forEach((item, i) => {
          if (Array.isArray(item) || isRecord(item)) {
            throw new DvcYamlError(`${where}: cannot interpolate nested iterable in '${k}'`, { where });
          }
          const s = typeof item === 'string' ? shellQuote(item) : toStr(item, where);
          parts.push(i === 0 ? `--${k} ${s}` : s);
        });
      } else parts.push(`--${k} ${toStr(v, where)}`);
    }
    return parts.join(' ');
  }
  throw new DvcYamlError(`${where}: cannot interpolate data of type 'list' into a string`, { where });
}

function flatten(obj: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isRecord(v)) Object.assign(out, flatten(v, key));
    else out[key] = v;
  }
  return out;
}

function shellQuote(s: string): string {
  if (s === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

/** Looks up `a.b[0].c` in the context; throws a {@link DvcYamlError} naming the missing key. */
export function lookup(expr: string, ctx: Record<string, unknown>, where: string): unknown {
  const inner = expr.trim();
  if (!/^[^.[\]]+(\.[^.[\]]+|\[[^.[\]]+\])*$/.test(inner)) {
    throw new DvcYamlError(`${where}: cannot parse interpolation '\${${expr}}'`, { where });
  }
  const parts = inner.replace(/\[/g, '.').replace(/\]/g, '').split('.');
  let cur: unknown = ctx;
  for (const [i, part] of parts.entries()) {
    if (Array.isArray(cur) && /^\d+$/.test(part) && Number(part) < cur.length) {
      cur = cur[Number(part)];
    } else if (isRecord(cur) && Object.hasOwn(cur, part)) {
      cur = cur[part];
    } else {
      const known = parts.slice(0, i).join('.') || '<top level>';
      throw new DvcYamlError(`${where}: could not find '${inner}' (no '${part}' under ${known}) in params/vars`, {
        where,
        key: inner,
      });
    }
  }
  return cur;
}

/** Resolves `${...}` in strings (and dict keys) recursively, like DVC's `Context.resolve`. */
export function interpolate(value: unknown, ctx: Record<string, unknown>, where: string): unknown {
  if (typeof value === 'string') {
    const matches = [...value.matchAll(KEYCRE)];
    if (matches.length === 0) return value.replace(/\\\$\{/g, '${');
    const first = matches[0];
    if (matches.length === 1 && first && first[0] === value) return lookup(first[1] ?? '', ctx, where);
    return value
      .replace(KEYCRE, (_m, inner: string) => toStr(lookup(inner, ctx, where), where))
      .replace(/\\\$\{/g, '${');
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, ctx, `${where}[${i}]`));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const key = toStr(interpolate(k, ctx, where), where);
      out[key] = interpolate(v, ctx, `${where}.${key}`);
    }
    return out;
  }
  return value;
}
