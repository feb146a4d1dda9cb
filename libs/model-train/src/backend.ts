import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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
}

const AUTO_ORDER: BackendName[] = ['tensorflow', 'wasm', 'cpu'];

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

function defaultWasmDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

async function activate(name: BackendName, options: SelectBackendOptions): Promise<void> {
  if (name === 'tensorflow' && tf.findBackendFactory('tensorflow') === null) {
    // tfjs-node is optional (its install script downloads libtensorflow); importing it registers the backend.
    const specifier = '@tensorflow/tfjs-node';
    try {
      await import(specifier);
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new Error(code === 'ERR_MODULE_NOT_FOUND' ? '@tensorflow/tfjs-node is not installed' : `@tensorflow/tfjs-node failed to load: ${reasonOf(error)}`);
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
 * Makes a TensorFlow.js backend active and returns which one. `auto` tries tfjs-node (`tensorflow`), then `wasm`,
 * then `cpu`. An explicit name that cannot be used throws `BackendUnavailableError`.
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
