/** Readers of DVC's own files (.dvc pointers, dvc.yaml, dvc.lock) and DVC 3's file hash. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DvcFileError } from './errors.js';

const str = z.string();

/** One output of a .dvc pointer. `md5` is the file's hash (`<hash>.dir` for a directory). */
export const DvcPointerOutSchema = z.looseObject({
  path: str,
  md5: str.optional(),
  size: z.number().int().nonnegative().optional(),
  nfiles: z.number().int().nonnegative().optional(),
  hash: str.optional(),
  desc: str.optional(),
  type: str.optional(),
  labels: z.array(str).optional(),
  meta: z.record(str, z.unknown()).optional(),
  cache: z.boolean().optional(),
  push: z.boolean().optional(),
  remote: str.optional(),
});
export type DvcPointerOut = z.infer<typeof DvcPointerOutSchema>;

/** A `.dvc` pointer file (`dvc add` / `dvc import` output), including the free-form `meta`. */
export const DvcPointerSchema = z.looseObject({
  outs: z.array(DvcPointerOutSchema).min(1),
  deps: z.array(z.looseObject({ path: str })).optional(),
  md5: str.optional(),
  frozen: z.boolean().optional(),
  wdir: str.optional(),
  desc: str.optional(),
  meta: z.record(str, z.unknown()).optional(),
});
export type DvcPointer = z.infer<typeof DvcPointerSchema>;

/** `meta.source` of a pointer whose data comes from a pinned npm package: `{ npm: "name@version", file: "path/in/package" }`. */
export const NpmSourceMetaSchema = z.object({
  npm: str.regex(/^(@[^/@\s]+\/)?[^/@\s]+@[^@\s]+$/, 'expected "<package>@<exact version>"'),
  file: str.min(1),
});
export type NpmSourceMeta = z.infer<typeof NpmSourceMetaSchema>;

/** `"name@1.2.3"` → `{ name, version }` (scoped names allowed). */
export function parseNpmSpec(spec: string): { name: string; version: string } {
  const at = spec.lastIndexOf('@');
  if (at <= 0) throw new Error(`invalid npm spec "${spec}": expected "<package>@<version>"`);
  return { name: spec.slice(0, at), version: spec.slice(at + 1) };
}

const outEntrySchema = z.union([str, z.record(str, z.union([z.record(str, z.unknown()), z.null()]))]);
const paramsEntrySchema = z.union([str, z.record(str, z.union([z.array(str), z.null()]))]);

/** One stage of dvc.yaml (plain, or a `foreach`/`matrix` template whose `do` holds the stage). */
export const DvcYamlStageSchema = z.looseObject({
  cmd: z.union([str, z.array(str)]).optional(),
  wdir: str.optional(),
  deps: z.array(str).optional(),
  params: z.array(paramsEntrySchema).optional(),
  outs: z.array(outEntrySchema).optional(),
  metrics: z.array(outEntrySchema).optional(),
  plots: z.array(outEntrySchema).optional(),
  frozen: z.boolean().optional(),
  always_changed: z.boolean().optional(),
  desc: str.optional(),
  meta: z.unknown().optional(),
  foreach: z.unknown().optional(),
  matrix: z.record(str, z.unknown()).optional(),
  do: z.record(str, z.unknown()).optional(),
});
export type DvcYamlStage = z.infer<typeof DvcYamlStageSchema>;

/** dvc.yaml: stages plus the top-level vars/params/metrics/plots/artifacts sections. */
export const DvcYamlSchema = z.looseObject({
  stages: z.record(str, DvcYamlStageSchema).default({}),
  vars: z.array(z.unknown()).optional(),
  params: z.array(str).optional(),
  metrics: z.array(str).optional(),
  plots: z.array(z.unknown()).optional(),
  artifacts: z.record(str, z.unknown()).optional(),
});
export type DvcYaml = z.infer<typeof DvcYamlSchema>;

const lockFileEntrySchema = z.looseObject({
  path: str,
  hash: str.optional(),
  md5: str.optional(),
  size: z.number().optional(),
  nfiles: z.number().optional(),
});
/** One stage in dvc.lock: the command, hashed deps/outs and the param values it ran with. */
export const DvcLockStageSchema = z.looseObject({
  cmd: z.union([str, z.array(str)]),
  deps: z.array(lockFileEntrySchema).optional(),
  params: z.record(str, z.record(str, z.unknown())).optional(),
  outs: z.array(lockFileEntrySchema).optional(),
});
export type DvcLockStage = z.infer<typeof DvcLockStageSchema>;
/** dvc.lock (schema 2.0); stage names of `foreach`/`matrix` entries look like `train@cnn`. */
export const DvcLockSchema = z.looseObject({
  schema: str,
  stages: z.record(str, DvcLockStageSchema).default({}),
});
export type DvcLock = z.infer<typeof DvcLockSchema>;

async function readYamlFile<T>(file: string, schema: z.ZodType<T>, what: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DvcFileError(file, code === 'ENOENT' ? `${what} not found` : `cannot read ${what} (${code ?? String(err)})`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new DvcFileError(file, `not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  const parsed = schema.safeParse(doc ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new DvcFileError(file, `not a valid ${what}: ${issues}`);
  }
  return parsed.data;
}

/** Reads and validates a `.dvc` pointer file. */
export function readDvcPointer(file: string): Promise<DvcPointer> {
  return readYamlFile(file, DvcPointerSchema, '.dvc pointer');
}

/** Reads and validates a dvc.yaml. */
export function readDvcYaml(file: string): Promise<DvcYaml> {
  return readYamlFile(file, DvcYamlSchema, 'dvc.yaml');
}

/** Reads and validates a dvc.lock. */
export function readDvcLock(file: string): Promise<DvcLock> {
  return readYamlFile(file, DvcLockSchema, 'dvc.lock');
}

/** md5 of a file's bytes, streamed (DVC 3 hashes files this way: `md5` in .dvc files and dvc.lock). */
export async function md5File(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
