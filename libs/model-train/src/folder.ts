import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ModelFolderError } from './errors.js';
import { inputDimOf, numClassesOf } from './model.js';
import { ModelParamsSchema, TrainParamsSchema } from './params.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const MODEL_META_JSON = 'model-meta.json';
const META_FORMAT = 'mlops-ts.model-meta/1';

/** `model-meta.json`: what a model folder needs beyond TF.js' own files to be used on new data. */
export const ModelMetaSchema = z.object({
  format: z.literal(META_FORMAT),
  name: z.string().optional(),
  task: z.enum(['binary', 'multiclass']),
  /** Class names; index = label (binary: index 1 is the positive class). */
  classes: z.array(z.string()).min(2),
  /** Feature columns in input order. */
  featureNames: z.array(z.string()),
  inputDim: z.int().min(1),
  params: ModelParamsSchema.optional(),
  train: TrainParamsSchema.optional(),
  /** TF.js backend the weights were trained on. */
  backend: z.string(),
  tfjsVersion: z.string(),
  /** Written by earlier versions only: the save time changes on every run, so it is not kept in the folder (a
   * tracker or run record holds it) and the same weights give the same bytes. */
  savedAt: z.string().optional(),
  /** Anything else the caller wants kept with the model (run ids, data md5, ...). */
  extra: z.record(z.string(), z.unknown()).optional(),
});
export type ModelMeta = z.output<typeof ModelMetaSchema>;

export interface SaveModelMeta {
  name?: string;
  /** Default: "0", "1", ... */
  classes?: readonly string[];
  /** Default: "f0", "f1", ... */
  featureNames?: readonly string[];
  params?: z.input<typeof ModelParamsSchema>;
  train?: z.input<typeof TrainParamsSchema>;
  /** Default: the active backend. */
  backend?: string;
  extra?: Record<string, unknown>;
}

/** model.json as TF.js writes it (the parts read back here). */
const ModelJsonSchema = z.looseObject({
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z.array(z.looseObject({ paths: z.array(z.string()).min(1), weights: z.array(z.looseObject({ name: z.string() })) })),
  format: z.string().optional(),
  generatedBy: z.string().optional(),
  convertedBy: z.string().nullable().optional(),
});

async function captureArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (!captured) throw new Error('TF.js returned no model artifacts');
  return captured;
}

/**
 * Writes a model folder: `model.json` + `weights.bin` in the TF.js layers format (loadable by tfjs-node's
 * `file://` loader and by `loadModelFolder`), plus `model-meta.json`. The folder appears whole or not at all:
 * it is written beside `dir` and renamed into place, replacing an existing folder of that name.
 */
export async function saveModelFolder(model: tf.LayersModel, dir: string, meta: SaveModelMeta = {}): Promise<ModelMeta> {
  const target = resolve(dir);
  const k = numClassesOf(model);
  const inputDim = inputDimOf(model);
  const classes = meta.classes ? [...meta.classes] : Array.from({ length: k }, (_, i) => String(i));
  const featureNames = meta.featureNames ? [...meta.featureNames] : Array.from({ length: inputDim }, (_, i) => `f${i}`);
  if (classes.length !== k) throw new ModelFolderError(target, `model predicts ${k} classes but ${classes.length} class names were given`);
  if (featureNames.length !== inputDim) {
    throw new ModelFolderError(target, `model takes ${inputDim} features but ${featureNames.length} feature names were given`);
  }
  const parsed = ModelMetaSchema.safeParse({
    format: META_FORMAT,
    name: meta.name,
    task: k === 2 ? 'binary' : 'multiclass',
    classes,
    featureNames,
    inputDim,
    params: meta.params,
    train: meta.train,
    backend: meta.backend ?? tf.getBackend(),
    tfjsVersion: tf.version.tfjs,
    extra: meta.extra,
  });
  if (!parsed.success) {
    throw new ModelFolderError(target, `invalid metadata: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const artifacts = await captureArtifacts(model);
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as object,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
  };
  const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);

  const parent = dirname(target);
  const tag = randomBytes(6).toString('hex');
  const temp = join(parent, `.${basename(target)}.tmp-${tag}`);
  const old = join(parent, `.${basename(target)}.old-${tag}`);
  try {
    await mkdir(temp, { recursive: true });
    await writeFile(join(temp, MODEL_JSON), JSON.stringify(modelJson));
    await writeFile(join(temp, WEIGHTS_BIN), new Uint8Array(weights));
    await writeFile(join(temp, MODEL_META_JSON), `${JSON.stringify(parsed.data, null, 2)}\n`);
    const existing = await stat(target).catch(() => null);
    if (existing && !existing.isDirectory()) throw new ModelFolderError(target, 'exists and is not a directory');
    if (existing) await rename(target, old);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    if (error instanceof ModelFolderError) throw error;
    throw new ModelFolderError(target, `writing failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  await rm(old, { recursive: true, force: true });
  return parsed.data;
}

export interface LoadedModel {
  model: tf.LayersModel;
  /** `null` for a folder written by other tools (plain TF.js model.json + weights). */
  meta: ModelMeta | null;
}

async function readJson(dir: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch (error) {
    throw new ModelFolderError(dir, `cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelFolderError(dir, `${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Loads a folder written by `saveModelFolder` (or any TF.js layers model folder) without tfjs-node. */
export async function loadModelFolder(dir: string): Promise<LoadedModel> {
  const root = resolve(dir);
  const json = ModelJsonSchema.safeParse(await readJson(root, MODEL_JSON));
  if (!json.success) {
    throw new ModelFolderError(root, `${MODEL_JSON} is not a TF.js layers model: ${json.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const buffers: ArrayBuffer[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  for (const group of json.data.weightsManifest) {
    for (const path of group.paths) {
      const file = resolve(root, path);
      if (!file.startsWith(root + sep)) throw new ModelFolderError(root, `weights path ${path} points outside the folder`);
      const bytes = await readFile(file).catch((error: unknown) => {
        throw new ModelFolderError(root, `cannot read weights file ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      });
      buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    }
    specs.push(...(group.weights as unknown as tf.io.WeightsManifestEntry[]));
  }
  const weightData = tf.io.CompositeArrayBuffer.join(buffers);
  const expected = specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (specs.every((s) => s.dtype === 'float32' && !s.quantization) && expected !== weightData.byteLength) {
    throw new ModelFolderError(root, `weights are ${weightData.byteLength} bytes, the manifest describes ${expected}`);
  }
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.data.modelTopology,
        weightSpecs: specs,
        weightData,
        format: json.data.format,
        generatedBy: json.data.generatedBy,
        convertedBy: json.data.convertedBy ?? undefined,
      }),
    );
  } catch (error) {
    throw new ModelFolderError(root, `TF.js could not build the model: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const metaStat = await stat(join(root, MODEL_META_JSON)).catch(() => null);
  if (!metaStat) return { model, meta: null };
  const meta = ModelMetaSchema.safeParse(await readJson(root, MODEL_META_JSON));
  if (!meta.success) {
    throw new ModelFolderError(root, `${MODEL_META_JSON} is invalid: ${meta.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  if (meta.data.inputDim !== inputDimOf(model) || meta.data.classes.length !== numClassesOf(model)) {
    throw new ModelFolderError(root, `${MODEL_META_JSON} does not match model.json (inputs ${meta.data.inputDim} vs ${inputDimOf(model)}, classes ${meta.data.classes.length} vs ${numClassesOf(model)})`);
  }
  return { model, meta: meta.data };
}
