/**
 * Run spill: what a run could not deliver besides metric points — artifacts, dataset inputs, the logged model and the
 * run's end status — kept in `<spillDir>/<runId>.run.json` (an ordered list of operations, rewritten atomically) with
 * copies of the files in `<spillDir>/<runId>.files/`. Files are copied because the originals may move or change
 * before the replay (a stage's staging folder is renamed, a DVC output is rewritten by the next run).
 * {@link replayRunSpill} performs the operations in order and records progress after each, so a replay that stops
 * half-way resumes where it stopped (no second logged model).
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import type { DatasetInput, MlflowClient } from './client.js';
import { MlflowApiError, MlflowConnectionError, MlflowReplayError } from './errors.js';
import { logModelWithMlmodel, ModelSignatureSchema, type ModelSignature } from './mlmodel.js';

export const RUN_SPILL_SUFFIX = '.run.json';
const FILES_SUFFIX = '.files';

const DatasetSchema = z.object({
  name: z.string(),
  digest: z.string(),
  source: z.string(),
  sourceType: z.string(),
  schema: z.string().optional(),
  profile: z.string().optional(),
  context: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
});

export const RunSpillOpSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('artifact'),
    /** Copy, relative to the run's files folder. */
    copy: z.string(),
    /** Where the file or folder was when it was logged (for messages). */
    source: z.string(),
    artifactPath: z.string().optional(),
    isDir: z.boolean(),
    /** sha256 of the copy (a single file only), checked before upload. */
    sha256: z.string().optional(),
  }),
  z.object({ op: z.literal('inputs'), datasets: z.array(DatasetSchema) }),
  z.object({
    op: z.literal('model'),
    copy: z.string(),
    source: z.string(),
    name: z.string(),
    /** Also upload the folder as run artifacts under `name/`. */
    runArtifacts: z.boolean().default(true),
    modelType: z.string().optional(),
    params: z.record(z.string(), z.string()).optional(),
    signature: ModelSignatureSchema.optional(),
    /** Run tag to set to the new logged model's id once it exists. */
    modelIdTag: z.string().optional(),
  }),
  z.object({ op: z.literal('params'), params: z.record(z.string(), z.string()) }),
  z.object({ op: z.literal('tags'), tags: z.record(z.string(), z.string()) }),
  z.object({ op: z.literal('end'), status: z.enum(['FINISHED', 'FAILED', 'KILLED']), endTime: z.number().int() }),
]);
export type RunSpillOp = z.output<typeof RunSpillOpSchema>;

export const RunSpillFileSchema = z.object({
  v: z.literal(1),
  runId: z.string().min(1),
  /** Number of operations already delivered by an earlier replay. */
  done: z.number().int().min(0).default(0),
  ops: z.array(RunSpillOpSchema),
});
export type RunSpillFile = z.output<typeof RunSpillFileSchema>;

/** The server went away (connection refused or lost, 5xx, 429, 408), as opposed to refusing the request. */
export function isServerGone(e: unknown): boolean {
  if (e instanceof MlflowConnectionError) return true;
  if (e instanceof MlflowApiError) return e.httpStatus >= 500 || e.httpStatus === 429 || e.httpStatus === 408;
  return false;
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/** Appends operations to one run's spill file. Calls are serialized; each resolves once the file is on disk. */
export class RunSpill {
  readonly file: string;
  readonly filesDir: string;
  private ops: RunSpillOp[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private seq = 0;

  constructor(
    readonly spillDir: string,
    readonly runId: string,
  ) {
    this.file = join(spillDir, `${runId}${RUN_SPILL_SUFFIX}`);
    this.filesDir = join(spillDir, `${runId}${FILES_SUFFIX}`);
  }

  /** Operations recorded by this instance. */
  get operations(): readonly RunSpillOp[] {
    return this.ops;
  }

  /** Copy a file or folder and record its upload. */
  addArtifact(localPath: string, artifactPath?: string): Promise<void> {
    return this.enqueue(async () => {
      const st = await stat(localPath);
      const copy = await this.copyIn(localPath);
      return {
        op: 'artifact',
        copy,
        source: localPath,
        isDir: st.isDirectory(),
        ...(artifactPath !== undefined ? { artifactPath } : {}),
        ...(st.isFile() ? { sha256: await sha256(join(this.filesDir, copy)) } : {}),
      };
    });
  }

  addInputs(datasets: DatasetInput[]): Promise<void> {
    return this.enqueue(async () => ({ op: 'inputs', datasets }));
  }

  addModel(localDir: string, opts: { name: string; modelType?: string; params?: Record<string, string>; signature?: ModelSignature; modelIdTag?: string; runArtifacts?: boolean }): Promise<void> {
    return this.enqueue(async () => {
      const copy = await this.copyIn(localDir);
      return {
        op: 'model',
        copy,
        source: localDir,
        name: opts.name,
        runArtifacts: opts.runArtifacts ?? true,
        ...(opts.modelType ? { modelType: opts.modelType } : {}),
        ...(opts.params ? { params: opts.params } : {}),
        ...(opts.signature ? { signature: ModelSignatureSchema.parse(opts.signature) } : {}),
        ...(opts.modelIdTag ? { modelIdTag: opts.modelIdTag } : {}),
      };
    });
  }

  addParams(params: Record<string, string>): Promise<void> {
    return this.enqueue(async () => ({ op: 'params', params }));
  }

  addTags(tags: Record<string, string>): Promise<void> {
    return this.enqueue(async () => ({ op: 'tags', tags }));
  }

  addEnd(status: 'FINISHED' | 'FAILED' | 'KILLED', endTime = Date.now()): Promise<void> {
    return this.enqueue(async () => ({ op: 'end', status, endTime }));
  }

  private async copyIn(localPath: string): Promise<string> {
    // `<n>/<original name>`: the copy keeps its name, so it uploads as the original would.
    const name = `${Date.now()}-${++this.seq}/${basename(localPath)}`;
    await mkdir(join(this.filesDir, name, '..'), { recursive: true });
    await cp(localPath, join(this.filesDir, name), { recursive: true, force: true });
    return name;
  }

  private enqueue(make: () => Promise<RunSpillOp>): Promise<void> {
    const next = this.chain.then(async () => {
      const op = await make();
      await mkdir(this.spillDir, { recursive: true });
      // Another writer (an earlier process for the same run, e.g. evaluate after train) may have left operations.
      const existing = await readRunSpill(this.file).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      });
      const content: RunSpillFile = existing ?? { v: 1, runId: this.runId, done: 0, ops: [] };
      content.ops.push(op);
      await writeAtomic(this.file, JSON.stringify(content, null, 2) + '\n');
      this.ops.push(op);
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}

/** Parse a run spill file; a malformed one throws {@link MlflowReplayError} naming it. */
export async function readRunSpill(file: string): Promise<RunSpillFile> {
  const text = await readFile(file, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new MlflowReplayError(file, 'is not JSON');
  }
  const r = RunSpillFileSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new MlflowReplayError(file, `${i.path.join('.') || 'file'}: ${i.message}`);
  }
  return r.data;
}

/** Run spill files in a directory (sorted). */
export async function listRunSpills(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  return names.filter((n) => n.endsWith(RUN_SPILL_SUFFIX)).sort().map((n) => join(dir, n));
}

export interface RunReplayResult {
  runId: string;
  artifacts: number;
  models: string[];
  inputs: number;
  params: number;
  tags: number;
  ended?: 'FINISHED' | 'FAILED' | 'KILLED';
}

/**
 * Perform a run spill file's operations in order, saving progress after each; removes the file and its copies when
 * all are done. A failure throws {@link MlflowReplayError} naming the file and the operation; run it again to resume.
 */
export async function replayRunSpill(client: MlflowClient, file: string, onOp?: (info: { file: string; op: number; ops: number; what: string }) => void): Promise<RunReplayResult> {
  const content = await readRunSpill(file);
  const filesDir = file.slice(0, -RUN_SPILL_SUFFIX.length) + FILES_SUFFIX;
  const result: RunReplayResult = { runId: content.runId, artifacts: 0, models: [], inputs: 0, params: 0, tags: 0 };
  const runId = content.runId;
  for (let i = content.done; i < content.ops.length; i++) {
    const op = content.ops[i]!;
    const what = op.op === 'artifact' || op.op === 'model' ? `${op.op} ${op.source}` : op.op;
    try {
      switch (op.op) {
        case 'artifact': {
          const local = join(filesDir, op.copy);
          if (op.sha256 && (await sha256(local)) !== op.sha256) throw new Error(`the copy ${local} changed since it was spilled (sha256 mismatch)`);
          if (op.isDir) await client.logArtifacts(runId, local, op.artifactPath);
          else await client.logArtifact(runId, local, op.artifactPath);
          result.artifacts++;
          break;
        }
        case 'inputs':
          await client.logInputs(runId, op.datasets.map(stripUndefined));
          result.inputs += op.datasets.length;
          break;
        case 'model': {
          const dir = join(filesDir, op.copy);
          if (op.runArtifacts) await client.logArtifacts(runId, dir, op.name);
          const model = await logModelWithMlmodel(client, {
            runId,
            name: op.name,
            dir,
            ...(op.modelType ? { modelType: op.modelType } : {}),
            ...(op.params ? { params: op.params } : {}),
            ...(op.signature ? { signature: op.signature } : {}),
          });
          if (op.modelIdTag) await client.setTag(runId, op.modelIdTag, model.info.model_id);
          result.models.push(model.info.model_id);
          break;
        }
        case 'params':
          await client.logParams(runId, op.params);
          result.params += Object.keys(op.params).length;
          break;
        case 'tags':
          await client.setTags(runId, op.tags);
          result.tags += Object.keys(op.tags).length;
          break;
        case 'end':
          await client.endRun(runId, op.status, op.endTime);
          result.ended = op.status;
          break;
      }
    } catch (e) {
      throw new MlflowReplayError(file, `operation ${i + 1} of ${content.ops.length} (${what}, run ${runId}): ${(e as Error).message}`, e);
    }
    content.done = i + 1;
    await writeAtomic(file, JSON.stringify(content, null, 2) + '\n');
    onOp?.({ file, op: i + 1, ops: content.ops.length, what });
  }
  await rm(filesDir, { recursive: true, force: true });
  await rm(file, { force: true });
  return result;
}

function stripUndefined(d: z.output<typeof DatasetSchema>): DatasetInput {
  return Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)) as unknown as DatasetInput;
}
