import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { BackendUnavailableError } from './errors.js';
import type { BackendPreference } from './params.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** What `selectBackend` did: the backend now active and why the ones tried before it were passed over. */
export interface BackendSelection {
  requested: BackendPreference;
  backend: BackendName;
  attempts: { backend: BackendName; reason: string }[];
}

export interface SelectBackendOptions {
  /** Folder holding the `tfjs-backend-wasm*.wasm` files; default: the installed package's `dist/`. */
  wasmDir?: string;
  /**
   * Called with one line per backend `auto` passed over on its way to the one it chose (e.g. "backend tensorflow
   * skipped: @tensorflow/tfjs-node is not installed; using wasm"). Without it nothing is printed; the reasons are
   * in `BackendSelection.attempts` either way.
   */
  onBackendNotice?: (line: string) => void;
  /**
   * Folder whose `node_modules` holds a built `@tensorflow/tfjs-node` (what `npm run setup -- --native-tf` makes:
   * `<workspace>/node_modules/.native-tf`, see `defaultNativeTfDir`). Its `@tensorflow/tfjs` must resolve to this
   * process's copy, else the backend would register into another engine: that is checked before loading. Without
   * it, `@tensorflow/tfjs-node` is imported the ordinary way (an installed dependency).
   */
  nativeTfDir?: string;
  /**
   * Rows per training step. With `auto`, `tensorflow` is passed over below `nativeMinBatchSize` (one notice line
   * says so). Leave it out for inference and large batches: then `auto` takes `tensorflow` whenever it loads.
   */
  batchSize?: number;
  /** Smallest training batch for which `auto` picks `tensorflow` (default `NATIVE_MIN_BATCH_SIZE`). */
  nativeMinBatchSize?: number;
}

/**
 * Below this training batch `auto` keeps wasm even when tfjs-node is there. Measured here (2 cores, 46→128→64→1
 * MLP, rows/s native ÷ wasm): 0.55× at batch 256, 0.74× at 512, 1.23× at 1024, 2.30× at 4096. Each op crosses
 * into TensorFlow's eager runtime with a fixed cost, which small batches cannot amortise.
 */
export const NATIVE_MIN_BATCH_SIZE = 1024;

/** Where `npm run setup -- --native-tf` puts this workspace's tfjs-node: `.native-tf` beside `@tensorflow/tfjs`. */
export function defaultNativeTfDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(dirname(dirname(require.resolve('@tensorflow/tfjs/package.json')))), '.native-tf');
}

/**
 * The native folder for a process's environment: `MLOPS_NATIVE_TF_DIR` when set, else `defaultNativeTfDir()` when
 * that folder exists, else undefined (then `tensorflow` is looked for as an ordinary dependency). For apps, which
 * pass `env` in; the library itself reads no environment.
 */
export function nativeTfDirFromEnv(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const set = env['MLOPS_NATIVE_TF_DIR'];
  if (set !== undefined && set !== '') return resolve(set);
  const dir = defaultNativeTfDir();
  return existsSync(dir) ? dir : undefined;
}

const AUTO_ORDER: BackendName[] = ['tensorflow', 'wasm', 'cpu'];

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

function defaultWasmDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

/** Where tfjs-node would be loaded from, after checking it would share this process's @tensorflow/tfjs. */
function locateNative(options: SelectBackendOptions): string {
  const dir = options.nativeTfDir;
  if (dir === undefined) {
    try {
      createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    } catch {
      throw new Error('@tensorflow/tfjs-node is not installed');
    }
    return '@tensorflow/tfjs-node';
  }
  const fromDir = createRequire(join(resolve(dir), 'index.js'));
  let main: string;
  try {
    main = fromDir.resolve('@tensorflow/tfjs-node');
  } catch {
    throw new Error(`@tensorflow/tfjs-node is not built in ${dir} (npm run setup -- --native-tf builds it)`);
  }
  const ours = realpathSync(createRequire(import.meta.url).resolve('@tensorflow/tfjs'));
  let theirs: string;
  try {
    theirs = realpathSync(createRequire(main).resolve('@tensorflow/tfjs'));
  } catch {
    throw new Error(`@tensorflow/tfjs-node in ${dir} finds no @tensorflow/tfjs (npm run setup -- --native-tf links it)`);
  }
  if (theirs !== ours) {
    throw new Error(`@tensorflow/tfjs-node in ${dir} would load another copy of @tensorflow/tfjs (${theirs}, this process has ${ours}): run npm run setup -- --native-tf again`);
  }
  return main;
}

/**
 * tfjs-node 4.22.0 calls `util.isNullOrUndefined`, which Node 23 removed (every op would throw "is not a function"
 * on Node 24). Puts its one-line meaning back on the `util` module, only where it is missing, before loading tfjs-node.
 */
function restoreUtilIsNullOrUndefined(): void {
  const util = createRequire(import.meta.url)('node:util') as { isNullOrUndefined?: (value: unknown) => boolean };
  if (typeof util.isNullOrUndefined !== 'function') util.isNullOrUndefined = (value) => value === null || value === undefined;
}

async function activate(name: BackendName, options: SelectBackendOptions): Promise<void> {
  if (name === 'tensorflow' && tf.findBackendFactory('tensorflow') === null) {
    // tfjs-node is optional (its install script downloads libtensorflow); loading it registers the backend.
    const target = locateNative(options);
    restoreUtilIsNullOrUndefined();
    try {
      if (options.nativeTfDir === undefined) await import(target);
      else createRequire(import.meta.url)(target); // CommonJS, so it shares the CommonJS @tensorflow/tfjs loaded here
    } catch (error) {
      throw new Error(`@tensorflow/tfjs-node failed to load: ${reasonOf(error)}`);
    }
    if (tf.findBackendFactory('tensorflow') === null) {
      throw new Error('@tensorflow/tfjs-node loaded but registered with another copy of @tensorflow/tfjs (versions differ)');
    }
  }
  if (name === 'wasm') {
    const dir = options.wasmDir ?? defaultWasmDir();
    const missing = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'].filter((f) => !existsSync(join(dir, f)));
    if (missing.length > 0) throw new Error(`${missing.join(', ')} not found in ${dir}`);
    try {
      setWasmPaths(dir.endsWith('/') ? dir : `${dir}/`);
    } catch (error) {
      // Once the wasm backend is initialised its paths are fixed; that is fine when it is already up.
      if (!/already initialized/i.test(reasonOf(error))) throw error;
    }
  }
  if (!(await tf.setBackend(name))) throw new Error(`initialising the ${name} backend failed`);
  await tf.ready();
  if (tf.getBackend() !== name) throw new Error(`active backend is ${tf.getBackend()} after asking for ${name}`);
}

/**
 * Makes a TensorFlow.js backend active and returns which one. `auto` tries tfjs-node (`tensorflow`; for a training
 * `batchSize` below `nativeMinBatchSize` it is passed over, see `NATIVE_MIN_BATCH_SIZE`), then `wasm`, then `cpu`.
 * An explicit name that cannot be used throws `BackendUnavailableError`.
 * Note: TF.js keeps one engine per process, so the choice applies to every model in the process.
 */
export async function selectBackend(
  requested: BackendPreference = 'auto',
  options: SelectBackendOptions = {},
): Promise<BackendSelection> {
  const order = requested === 'auto' ? AUTO_ORDER : [requested];
  const attempts: BackendSelection['attempts'] = [];
  for (const name of order) {
    try {
      const min = options.nativeMinBatchSize ?? NATIVE_MIN_BATCH_SIZE;
      if (requested === 'auto' && name === 'tensorflow' && options.batchSize !== undefined && options.batchSize < min) {
        if (tf.findBackendFactory('tensorflow') === null) locateNative(options); // not there: say that instead
        throw new Error(`batch ${options.batchSize} < ${min}, below which wasm trained faster on the bench (train.backend: tensorflow forces it)`);
      }
      await activate(name, options);
      for (const a of attempts) options.onBackendNotice?.(`backend ${a.backend} skipped: ${a.reason}; using ${name}`);
      return { requested, backend: name, attempts };
    } catch (error) {
      attempts.push({ backend: name, reason: reasonOf(error) });
    }
  }
  throw new BackendUnavailableError(requested, attempts);
}

/** The backend currently active in this process. */
export function activeBackend(): string {
  return tf.getBackend();
}
