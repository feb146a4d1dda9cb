import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError, nativeTfDirFromEnv, parseModelParams, parseTrainParams, selectBackend, trainClassifier } from '../src/index.js';
import { separableBinary } from './synthetic.js';

function tfjsNodeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

// The native build of `npm run setup -- --native-tf` (tools/native-tf/install.sh); CI=true requires it.
const nativeTfDir = nativeTfDirFromEnv(process.env);
const ci = process.env['CI'] === 'true';

describe('selectBackend', () => {
  it('activates wasm and cpu on request and reports it', async () => {
    const wasm = await selectBackend('wasm');
    expect(wasm).toEqual({ requested: 'wasm', backend: 'wasm', attempts: [] });
    expect(tf.getBackend()).toBe('wasm');
    const cpu = await selectBackend('cpu');
    expect(cpu.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    // switching back after initialisation works (wasm paths are already fixed)
    expect((await selectBackend('wasm')).backend).toBe('wasm');
    expect(tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0]).toBe(5);
  });

  it.skipIf(tfjsNodeInstalled())('auto falls back past tfjs-node when it is not installed; asking for it fails clearly', async () => {
    const auto = await selectBackend('auto');
    expect(auto.backend).toBe('wasm');
    expect(auto.attempts).toEqual([{ backend: 'tensorflow', reason: '@tensorflow/tfjs-node is not installed' }]);
    const error = await selectBackend('tensorflow').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toBe("TensorFlow.js backend 'tensorflow' is unavailable: tensorflow: @tensorflow/tfjs-node is not installed");
  });

  it.skipIf(tfjsNodeInstalled())('skipped backends are reported only through onBackendNotice', async () => {
    const notices: string[] = [];
    const auto = await selectBackend('auto', { onBackendNotice: (line) => notices.push(line) });
    expect(auto.backend).toBe('wasm');
    expect(notices).toEqual(['backend tensorflow skipped: @tensorflow/tfjs-node is not installed; using wasm']);
    // an explicit backend passes nothing over: no notice
    await selectBackend('wasm', { onBackendNotice: (line) => notices.push(line) });
    expect(notices).toHaveLength(1);

    const run = async (onBackendNotice?: (line: string) => void) => {
      const logged: string[] = [];
      const stderr: string[] = [];
      const original = process.stderr.write.bind(process.stderr);
      const originalError = console.error;
      const originalWarn = console.warn;
      process.stderr.write = ((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true)) as typeof process.stderr.write;
      console.error = console.warn = (...args: unknown[]) => void stderr.push(args.join(' '));
      try {
        const { model } = await trainClassifier({
          model: parseModelParams({ type: 'logreg' }),
          params: parseTrainParams({ epochs: 1, batchSize: 32, backend: 'auto' }),
          train: separableBinary(64, 3, 1),
          classes: ['0', '1'],
          log: (line) => logged.push(line),
          ...(onBackendNotice ? { onBackendNotice } : {}),
        });
        model.dispose();
      } finally {
        process.stderr.write = original;
        console.error = originalError;
        console.warn = originalWarn;
      }
      return { logged, stderr };
    };
    const silent = await run();
    expect(silent.logged[0]).toBe('backend: wasm');
    expect([...silent.logged, ...silent.stderr].filter((l) => /tfjs-node|skipped/.test(l))).toEqual([]);
    const told: string[] = [];
    const heard = await run((line) => told.push(line));
    expect(told).toEqual(['backend tensorflow skipped: @tensorflow/tfjs-node is not installed; using wasm']);
    expect(heard.logged.filter((l) => /tfjs-node/.test(l))).toEqual([]);
  });

  it.skipIf(!tfjsNodeInstalled() && nativeTfDir === undefined && !ci)('auto picks tfjs-node when it is installed', async () => {
    if (!tfjsNodeInstalled() && nativeTfDir === undefined) throw new Error('CI=true needs the native backend: npm run setup -- --native-tf did not build it');
    const auto = await selectBackend('auto', nativeTfDir === undefined ? {} : { nativeTfDir });
    expect(auto).toEqual({ requested: 'auto', backend: 'tensorflow', attempts: [] });
    expect(tf.getBackend()).toBe('tensorflow');
    expect(tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0]).toBe(5);
  });

  it('a wasm folder without the .wasm files is reported; auto then falls back to cpu (fresh process)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'model-train-backend-'));
    try {
      const script = join(dir, 'probe.mts');
      const index = resolve(import.meta.dirname, '../src/index.ts');
      await writeFile(
        script,
        `import { selectBackend } from ${JSON.stringify(index)};
const out = [];
try { await selectBackend('wasm', { wasmDir: '/nonexistent' }); out.push('no error'); } catch (e) { out.push(e.name + ': ' + e.message); }
const auto = await selectBackend('auto', { wasmDir: '/nonexistent' });
out.push(auto.backend, auto.attempts.map((a) => a.backend).join(','));
console.log(JSON.stringify(out));`,
      );
      const { stdout } = await execa(process.execPath, ['--import', 'tsx', script], { cwd: resolve(import.meta.dirname, '..') });
      const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as string[];
      expect(out[0]).toBe(
        "BackendUnavailableError: TensorFlow.js backend 'wasm' is unavailable: wasm: tfjs-backend-wasm.wasm, tfjs-backend-wasm-simd.wasm not found in /nonexistent",
      );
      expect(out.slice(1)).toEqual(tfjsNodeInstalled() ? ['tensorflow', ''] : ['cpu', 'tensorflow,wasm']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
