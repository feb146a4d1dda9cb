import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { z } from 'zod';
import { StageParamsError, type ParamsProblem } from './errors.js';

export { StageParamsError } from './errors.js';

/** Params sections a stage reads: section name in params.yaml → the zod schema that holds all of its rules. */
export type ParamsSections = Record<string, z.ZodType>;
/** The validated values of `ParamsSections`. */
export type ParamsOf<S extends ParamsSections> = { [K in keyof S]: z.output<S[K]> };

/** Reads a YAML params file that must be a mapping; a missing or unparsable file is an error naming it. */
export async function readParamsFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new StageParamsError(path, [{ key: '', message: `cannot read params file (${(error as NodeJS.ErrnoException).code ?? String(error)})` }]);
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new StageParamsError(path, [{ key: '', message: `not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` }]);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new StageParamsError(path, [{ key: '', message: 'params file is not a YAML mapping' }]);
  return value as Record<string, unknown>;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return 'a mapping';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function keyOf(section: string, path: readonly PropertyKey[]): string {
  let out = section;
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out;
}

/** zod issues → problems naming the key and quoting the value given (`must be >= 1 (got 0)`). */
export function problemsOf(section: string, error: z.ZodError, input: unknown): ParamsProblem[] {
  const problems: ParamsProblem[] = [];
  for (const issue of error.issues) {
    const key = keyOf(section, issue.path);
    const got = describe(valueAt(input, issue.path));
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const k of issue.keys) problems.push({ key: keyOf(key, [k]), message: 'unknown key' });
        continue;
      case 'invalid_type': {
        const expected = issue.expected === 'int' ? 'an integer' : issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`;
        problems.push({ key, message: got === 'nothing' ? `is required (${expected})` : `must be ${expected} (got ${got})` });
        continue;
      }
      case 'too_small':
      case 'too_big': {
        const bound = String(issue.code === 'too_small' ? issue.minimum : issue.maximum);
        const rel = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
        const msg = issue.origin === 'array' || issue.origin === 'string' ? issue.message : `must be ${rel} ${bound} (got ${got})`;
        problems.push({ key, message: msg });
        continue;
      }
      case 'invalid_value':
        problems.push({ key, message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')} (got ${got})` });
        continue;
      case 'invalid_union': {
        const note = (issue as { note?: string }).note;
        problems.push({ key, message: `${note ?? issue.message} (got ${got})` });
        continue;
      }
      default:
        problems.push({ key, message: issue.message });
    }
  }
  return problems;
}

/**
 * Validates every section at once and returns their values, or throws ONE `StageParamsError` listing every problem
 * of every section (each naming the file and the key). A missing section is read as `{}` when the schema gives all
 * defaults, else it is a problem (`train: section missing`).
 */
export function validateSections<S extends ParamsSections>(params: Record<string, unknown>, sections: S, file = 'params.yaml'): ParamsOf<S> {
  const problems: ParamsProblem[] = [];
  const out: Record<string, unknown> = {};
  for (const [section, schema] of Object.entries(sections)) {
    const value = params[section];
    const result = schema.safeParse(value === undefined ? {} : value);
    if (result.success) out[section] = result.data;
    else if (value === undefined) problems.push({ key: section, message: 'section missing' });
    else problems.push(...problemsOf(section, result.error, value));
  }
  if (problems.length > 0) throw new StageParamsError(file, problems);
  return out as ParamsOf<S>;
}

/** Validates one section of a params file; see {@link validateSections}. */
export function paramsSection<S extends z.ZodType>(params: Record<string, unknown>, section: string, schema: S, file = 'params.yaml'): z.output<S> {
  return validateSections(params, { [section]: schema }, file)[section] as z.output<S>;
}
