/**
 * The `MLmodel` file MLflow reads to know what a model folder is (mlflow/models/model.py): flavors, signature,
 * run id, model id, creation time. {@link logModelWithMlmodel} is the MLflow 3 "log model" flow with that file written
 * next to the model's own files, so `mlflow.models.get_model_info("models:/<model_id>")` and the UI show the flavor
 * and the signature. The file is built at log time and uploaded from a temporary folder: it changes on every run, so
 * it must not land in a (DVC-tracked) model folder.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { MlflowClient } from './client.js';
import { MlflowValidationError } from './errors.js';
import type { LoggedModel } from './schemas.js';

/** MLflow column types a signature may name (mlflow/types/schema.py DataType). */
export const ColumnTypeSchema = z.enum(['boolean', 'integer', 'long', 'float', 'double', 'string', 'binary', 'datetime']);

export const ModelSignatureSchema = z.object({
  inputs: z.array(z.object({ name: z.string().min(1), type: ColumnTypeSchema })).min(1, 'a signature needs at least one input column'),
  outputs: z.array(z.object({ name: z.string().min(1), type: ColumnTypeSchema })).min(1, 'a signature needs at least one output column'),
});
/** Column-based signature: feature names in, one column per output (e.g. one probability per class) out. */
export type ModelSignature = z.input<typeof ModelSignatureSchema>;

export interface MlmodelInput {
  artifactPath: string;
  runId?: string;
  modelId?: string;
  /** flavor name → its configuration, e.g. `{ tfjs: { model_file: 'model.json', weights: ['weights.bin'] } }`. */
  flavors: Record<string, Record<string, unknown>>;
  signature?: ModelSignature;
  /** The server's MLflow version (GET /version); omitted when unknown. */
  mlflowVersion?: string;
  modelUuid?: string;
  /** Default now. */
  createdAt?: Date;
}

/** `MLmodel` text (YAML; every string double-quoted, so no value can change the structure). */
export function buildMlmodel(input: MlmodelInput): string {
  const created = input.createdAt ?? new Date();
  const doc: Record<string, unknown> = {
    artifact_path: input.artifactPath,
    flavors: input.flavors,
    ...(input.mlflowVersion ? { mlflow_version: input.mlflowVersion } : {}),
    ...(input.modelId ? { model_id: input.modelId } : {}),
    model_uuid: input.modelUuid ?? randomUUID().replaceAll('-', ''),
    ...(input.runId ? { run_id: input.runId } : {}),
    // Python's str(datetime.utcnow()): "YYYY-MM-DD HH:MM:SS.ffffff"
    utc_time_created: created.toISOString().replace('T', ' ').replace('Z', '000'),
  };
  if (input.signature) {
    const sig = parseSignature(input.signature);
    const cols = (cs: { name: string; type: string }[]) => JSON.stringify(cs.map((c) => ({ type: c.type, name: c.name, required: true })));
    doc['signature'] = { inputs: cols(sig.inputs), outputs: cols(sig.outputs), params: null };
    doc['is_signature_from_type_hint'] = false;
    doc['type_hint_from_example'] = false;
  }
  return toYaml(doc, 0).join('\n') + '\n';
}

export function parseSignature(signature: unknown): z.output<typeof ModelSignatureSchema> {
  const r = ModelSignatureSchema.safeParse(signature);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new MlflowValidationError(`model signature ${i.path.join('.') || ''}`.trim(), i.message);
  }
  return r.data;
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(String(v));
}

function toYaml(v: unknown, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  if (Array.isArray(v)) {
    for (const item of v) {
      if (item !== null && typeof item === 'object') {
        const sub = toYaml(item, indent + 2);
        lines.push(`${pad}- ${sub[0]!.trimStart()}`, ...sub.slice(1));
      } else lines.push(`${pad}- ${scalar(item)}`);
    }
    return lines;
  }
  for (const [k, val] of Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (val !== null && typeof val === 'object' && (Array.isArray(val) ? val.length > 0 : Object.keys(val).length > 0)) {
      lines.push(`${pad}${k}:`, ...toYaml(val, Array.isArray(val) ? indent : indent + 2));
    } else if (val !== null && typeof val === 'object') lines.push(`${pad}${k}: ${Array.isArray(val) ? '[]' : '{}'}`);
    else lines.push(`${pad}${k}: ${scalar(val)}`);
  }
  return lines;
}

/** The `tfjs` flavor of a TensorFlow.js layers-model folder: model.json and the weight files it lists. */
export async function tfjsFlavor(dir: string): Promise<Record<string, unknown>> {
  const names = await readdir(dir);
  if (!names.includes('model.json')) throw new MlflowValidationError(`model folder ${dir}`, 'has no model.json (not a TensorFlow.js model)');
  const weights = names.filter((n) => n.endsWith('.bin')).sort();
  return { model_file: 'model.json', weights, format: 'layers-model' };
}

/** Version of MLflow the server runs (GET /version), or undefined when it does not say. */
export async function serverMlflowVersion(client: MlflowClient): Promise<string | undefined> {
  try {
    const res = await client.transport.raw({ method: 'GET', path: '/version', idempotent: true, maxRetries: 0 });
    const text = (await res.body.text()).trim();
    return /^\d+\.\d+[\w.+-]*$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

export interface LogModelWithMlmodelOptions {
  runId: string;
  /** Model name (also its artifact path in the run, as MLflow's `log_model(name=…)`). */
  name: string;
  dir: string;
  /** Default: the `tfjs` flavor of `dir`. */
  flavors?: Record<string, Record<string, unknown>>;
  signature?: ModelSignature;
  modelType?: string;
  params?: Record<string, unknown>;
  tags?: Record<string, string>;
  step?: number;
}

/**
 * MLflow 3 log-model flow with an `MLmodel`: create the logged model (source run `runId`), link it as the run's
 * output, upload `dir` and the MLmodel naming run id and model id, finalize READY (UPLOAD_FAILED and rethrow on error).
 */
export async function logModelWithMlmodel(client: MlflowClient, opts: LogModelWithMlmodelOptions): Promise<LoggedModel> {
  const signature = opts.signature ? parseSignature(opts.signature) : undefined;
  const flavors = opts.flavors ?? { tfjs: await tfjsFlavor(opts.dir) };
  const version = await serverMlflowVersion(client);
  const staging = await mkdtemp(join(tmpdir(), 'mlmodel-'));
  try {
    return await client.logModel({
      runId: opts.runId,
      name: opts.name,
      dir: opts.dir,
      ...(opts.modelType ? { modelType: opts.modelType } : {}),
      ...(opts.params ? { params: opts.params } : {}),
      ...(opts.tags ? { tags: opts.tags } : {}),
      ...(opts.step !== undefined ? { step: opts.step } : {}),
      beforeFinalize: async (model) => {
        const id = model.info.model_id;
        await writeFile(
          join(staging, 'MLmodel'),
          buildMlmodel({ artifactPath: opts.name, runId: opts.runId, modelId: id, flavors, ...(signature ? { signature } : {}), ...(version ? { mlflowVersion: version } : {}) }),
        );
        await client.logLoggedModelArtifacts(id, staging);
      },
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
