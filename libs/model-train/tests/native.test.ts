// The native TensorFlow backend (`npm run setup -- --native-tf`, tools/native-tf/install.sh): how `nativeTfDir` is
// checked, `auto`'s batch rule, and agreement with wasm on the project's models. The tests that need the build skip
// without it, except under CI=true, where they fail (the test command builds it).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parse } from 'yaml';
import {
  BackendUnavailableError,
  buildModel,
  NATIVE_MIN_BATCH_SIZE,
  nativeTfDirFromEnv,
  parseModelParams,
  parseModelsParams,
  parseTrainParams,
  predictProba,
  selectBackend,
  trainClassifier,
} from '../src/index.js';
import { separableBinary } from './synthetic.js';

const nativeTfDir = nativeTfDirFromEnv(process.env);
const skipNative = nativeTfDir === undefined && process.env['CI'] !== 'true';
if (skipNative) console.warn('[native.test] native TensorFlow backend not built (npm run setup -- --native-tf): its tests skip');

function builtNative(): string {
  if (nativeTfDir === undefined) throw new Error('CI=true needs the native backend: npm run setup -- --native-tf did not build it');
  return nativeTfDir;
}

/** Seeded uniform numbers in [-scale, scale). */
function uniform(count: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

// These come first: once tfjs-node is loaded into the process, `tensorflow` is registered and no folder is looked at.
describe('nativeTfDir is checked before anything is loaded', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'model-train-native-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a folder without a built tfjs-node is named with the command that builds it; auto passes over it', async () => {
    const reason = `@tensorflow/tfjs-node is not built in ${dir} (npm run setup -- --native-tf builds it)`;
    const error = await selectBackend('tensorflow', { nativeTfDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toBe(`TensorFlow.js backend 'tensorflow' is unavailable: tensorflow: ${reason}`);
    // with a small batch too, the reason given is the missing build, not the batch rule
    for (const batchSize of [undefined, 64]) {
      const auto = await selectBackend('auto', { nativeTfDir: dir, ...(batchSize ? { batchSize } : {}) });
      expect(auto).toEqual({ requested: 'auto', backend: 'wasm', attempts: [{ backend: 'tensorflow', reason }] });
    }
  });

  it('a tfjs-node that would load another copy of @tensorflow/tfjs is refused without being loaded', async () => {
    for (const name of ['tfjs-node', 'tfjs']) {
      const pkg = join(dir, 'node_modules', '@tensorflow', name);
      await mkdir(pkg, { recursive: true });
      await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: `@tensorflow/${name}`, version: '4.22.0', main: 'index.js' }));
      await writeFile(join(pkg, 'index.js'), `throw new Error('${name} must not be loaded');\n`);
    }
    const error = await selectBackend('tensorflow', { nativeTfDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toContain(
      `tensorflow: @tensorflow/tfjs-node in ${dir} would load another copy of @tensorflow/tfjs (${join(dir, 'node_modules/@tensorflow/tfjs/index.js')}, this process has `,
    );
    expect((error as Error).message).toMatch(/\): run npm run setup -- --native-tf again$/);
    expect(tf.findBackendFactory('tensorflow')).toBeNull();
  });
});

describe.skipIf(skipNative)('native TensorFlow backend (tfjs-node on the tensorflow-cpu wheel)', () => {
  it(`auto takes tensorflow from batch ${NATIVE_MIN_BATCH_SIZE} and for inference, wasm below it with one notice line`, async () => {
    const dir = builtNative();
    const notices: string[] = [];
    const onBackendNotice = (line: string) => notices.push(line);
    const small = await selectBackend('auto', { nativeTfDir: dir, batchSize: 512, onBackendNotice });
    expect(small.backend).toBe('wasm');
    expect(notices).toEqual([
      `backend tensorflow skipped: batch 512 < ${NATIVE_MIN_BATCH_SIZE}, below which wasm trained faster on the bench (train.backend: tensorflow forces it); using wasm`,
    ]);
    expect(await selectBackend('auto', { nativeTfDir: dir, batchSize: NATIVE_MIN_BATCH_SIZE, onBackendNotice })).toEqual({ requested: 'auto', backend: 'tensorflow', attempts: [] });
    expect((tf.backend() as unknown as { binding: { TF_Version: string } }).binding.TF_Version).toBe('2.21.0');
    expect((await selectBackend('auto', { nativeTfDir: dir, onBackendNotice })).backend).toBe('tensorflow');
    // an explicit choice ignores the rule; a lower threshold moves it
    await selectBackend('wasm');
    expect((await selectBackend('tensorflow', { nativeTfDir: dir, batchSize: 16 })).backend).toBe('tensorflow');
    expect((await selectBackend('auto', { nativeTfDir: dir, batchSize: 256, nativeMinBatchSize: 256 })).backend).toBe('tensorflow');
    expect(notices).toHaveLength(1);
  });

  it('trainClassifier hands the plan\'s batch size to auto: batch 32 trains on wasm, 1024 on tensorflow', async () => {
    const dir = builtNative();
    const run = async (batchSize: number) => {
      const logged: string[] = [];
      const notices: string[] = [];
      const { model, backend } = await trainClassifier({
        model: parseModelParams({ type: 'logreg' }),
        params: parseTrainParams({ epochs: 2, batchSize, backend: 'auto', earlyStopping: false }),
        train: separableBinary(2048, 3, 1),
        classes: ['0', '1'],
        log: (line) => logged.push(line),
        onBackendNotice: (line) => notices.push(line),
        backendOptions: { nativeTfDir: dir },
      });
      model.dispose();
      return { backend: backend.backend, first: logged[0], notices };
    };
    expect(await run(32)).toEqual({
      backend: 'wasm',
      first: 'backend: wasm',
      notices: [`backend tensorflow skipped: batch 32 < ${NATIVE_MIN_BATCH_SIZE}, below which wasm trained faster on the bench (train.backend: tensorflow forces it); using wasm`],
    });
    expect(await run(1024)).toEqual({ backend: 'tensorflow', first: 'backend: tensorflow', notices: [] });
  });

  it('logreg, mlp_small and mlp_wide of params.yaml predict the same on wasm and tensorflow for the same weights', async () => {
    const dir = builtNative();
    const doc = parse(await readFile(resolve(import.meta.dirname, '../../../params.yaml'), 'utf8')) as { models: unknown };
    const models = parseModelsParams(doc.models, 'models');
    const rows = 3000;
    const cols = 46; // the flights feature count
    const x = uniform(rows * cols, 1, 2);
    const names = ['logreg', 'mlp_small', 'mlp_wide'] as const;
    for (const name of names) {
      const params = models[name];
      expect(params, name).toBeDefined();
      const predictOn = async (backend: 'wasm' | 'tensorflow', weights?: { shape: number[]; values: Float32Array }[]) => {
        expect((await selectBackend(backend, backend === 'tensorflow' ? { nativeTfDir: dir } : {})).backend).toBe(backend);
        const model = buildModel(params!, { inputDim: cols, classes: ['on_time', 'delayed'], seed: 42, name });
        // weights far from the initialiser's small ones, so every layer shapes the output
        const own = weights ?? model.getWeights().map((w, i) => ({ shape: w.shape, values: uniform(w.size, 100 + i, 0.5) }));
        model.setWeights(own.map((w) => tf.tensor(w.values, w.shape)));
        const proba = predictProba(model, x, rows);
        model.dispose();
        return { proba, weights: own };
      };
      const wasm = await predictOn('wasm');
      const native = await predictOn('tensorflow', wasm.weights);
      expect(native.proba.length).toBe(wasm.proba.length);
      let maxDiff = 0;
      let mean = 0;
      for (let i = 0; i < wasm.proba.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(wasm.proba[i]! - native.proba[i]!));
        mean += wasm.proba[i]! / wasm.proba.length;
      }
      const spread = Math.sqrt(wasm.proba.reduce((s, p) => s + (p - mean) ** 2, 0) / wasm.proba.length);
      expect(spread, `${name}: predictions vary enough for the comparison to mean something`).toBeGreaterThan(0.05);
      expect(maxDiff, `${name}: largest |p_wasm - p_tensorflow| over ${rows} rows`).toBeLessThan(1e-5);
    }
  });
});
