import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { z } from 'zod';

/** A params file or section is missing, unreadable or invalid. `problems` name each key. */
export class StageParamsError extends Error {
  override readonly name = 'StageParamsError';
  constructor(
    readonly file: string,
    readonly problems: { key: string; message: string }[],
  ) {
    super(`${file}: ${problems.map((p) => (p.key ? `${p.key}: ${p.message}` : p.message)).join('; ')}`);
  }
}

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

/** Validates one section of a params file; each zod issue becomes `section.key.path: message`. */
export function paramsSection<S extends z.ZodType>(params: Record<string, unknown>, section: string, schema: S, file = 'params.yaml'): z.output<S> {
  const value = params[section];
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new StageParamsError(
    file,
    result.error.issues.map((i) => ({
      key: [section, ...i.path.map(String)].join('.'),
      message: value === undefined && i.path.length === 0 ? 'section missing' : i.message,
    })),
  );
}
