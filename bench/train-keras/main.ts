/**
 * Training throughput (rows/s) of the same MLP, batch size and data: @mlops-ts/model-train (TF.js) vs Keras on
 * TensorFlow's CPU build. One run; prints the backend each side used and the ratio, for each batch size given.
 *
 *   bash bench/train-keras/setup.sh        # once: bench/train-keras/.venv with tensorflow-cpu
 *   node --conditions=@mlops-ts/source --import tsx bench/train-keras/main.ts [--rows 100000] [--batch 256,1024]
 *     [--backends wasm,tensorflow,cpu]
 * `tensorflow` is the native backend of `npm run setup -- --native-tf` (found as the apps find it:
 * MLOPS_NATIVE_TF_DIR, else node_modules/.native-tf).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { buildModel, nativeTfDirFromEnv, parseModelParams, parseTrainParams, selectBackend, train } from '@mlops-ts/model-train';

const here = import.meta.dirname;
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    cols: { type: 'string', default: '32' },
    layers: { type: 'string', default: '64,32' },
    batch: { type: 'string', default: '256' },
    epochs: { type: 'string', default: '3' },
    backends: { type: 'string', default: 'wasm' },
    python: { type: 'string', default: join(here, '.venv/bin/python') },
  },
});
const rows = Number(values.rows);
const cols = Number(values.cols);
const layers = values.layers.split(',').map(Number);
const batchSizes = values.batch.split(',').map(Number);
const epochs = Number(values.epochs);
const learningRate = 0.001;
const seed = 42;
if (epochs < 2) throw new Error('--epochs must be >= 2 (the first epoch is warm-up and left out of the steady rate)');

/** Seeded synthetic binary task with a non-linear term, so the MLP has something to learn. */
function makeData(): { x: Float32Array; y: Int32Array } {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
  const x = new Float32Array(rows * cols);
  const y = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let z = 0;
    for (let j = 0; j < cols; j++) {
      const v = normal();
      x[i * cols + j] = v;
      z += v * (j % 3 === 0 ? 0.6 : j % 3 === 1 ? -0.3 : 0.1);
    }
    z += Math.sin(x[i * cols]! * x[i * cols + 1]!) + 0.5 * normal();
    y[i] = z > 0 ? 1 : 0;
  }
  return { x, y };
}

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const workDir = join(here, '.work');
await mkdir(workDir, { recursive: true });
const { x, y } = makeData();
await writeFile(join(workDir, 'x.f32'), new Uint8Array(x.buffer));
await writeFile(join(workDir, 'y.i32'), new Uint8Array(y.buffer));
console.error(`data: ${rows} rows × ${cols} features, MLP ${layers.join('-')}-1 (relu, sigmoid), batch ${batchSizes.join(', ')}, adam ${learningRate}, ${epochs} epochs`);
console.error(`machine: ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

interface SideResult {
  side: string;
  /** wasm, tensorflow, cpu or keras */
  label: string;
  batchSize: number;
  backend: string;
  epochRowsPerSecond: number[];
  steadyRowsPerSecond: number;
  finalLoss: number;
}
const results: SideResult[] = [];
const nativeTfDir = nativeTfDirFromEnv(process.env);

for (const batchSize of batchSizes) {
  const sides: SideResult[] = [];
  for (const name of values.backends.split(',')) {
    const selection = await selectBackend(name as 'wasm' | 'cpu' | 'tensorflow' | 'auto', { ...(nativeTfDir ? { nativeTfDir } : {}), batchSize });
    const model = buildModel(parseModelParams({ type: 'mlp', layers }), { inputDim: cols, classes: ['0', '1'], seed });
    const result = await train({
      model,
      train: { x, y, rows, cols },
      params: parseTrainParams({ batchSize, epochs, learningRate, seed, earlyStopping: false, backend: selection.backend }),
      log: (line) => console.error(`  [tfjs ${selection.backend} batch ${batchSize}] ${line}`),
    });
    model.dispose();
    const perEpoch = result.history.map((h) => h.rowsPerSecond);
    sides.push({
      side: 'tfjs',
      label: selection.backend,
      batchSize,
      backend: selection.backend === 'tensorflow' ? '@tensorflow/tfjs-node 4.22.0 on tensorflow-cpu 2.21.0 (native)' : `@tensorflow/tfjs 4.22.0, backend ${selection.backend} (single thread)`,
      epochRowsPerSecond: perEpoch,
      steadyRowsPerSecond: mean(perEpoch.slice(1)),
      finalLoss: result.history.at(-1)!.loss,
    });
  }

  const keras = await execa(values.python, [join(here, 'keras_bench.py'), workDir, String(rows), String(cols), layers.join(','), String(batchSize), String(epochs), String(learningRate), String(seed)], {
    env: { TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  const k = JSON.parse(keras.stdout.trim().split('\n').at(-1)!) as { backend: string; threads: Record<string, number>; epochSeconds: number[]; loss: number[] };
  const kerasPerEpoch = k.epochSeconds.map((s) => rows / s);
  sides.push({
    side: 'keras',
    label: 'keras',
    batchSize,
    backend: `${k.backend}, threads ${JSON.stringify(k.threads)}`,
    epochRowsPerSecond: kerasPerEpoch,
    steadyRowsPerSecond: mean(kerasPerEpoch.slice(1)),
    finalLoss: k.loss.at(-1)!,
  });
  results.push(...sides);
}

console.log('\nbatch  side   rows/s (epochs 2..n)  per epoch                          final loss  backend');
for (const r of results) {
  console.log(
    `${String(r.batchSize).padStart(5)}  ${r.side.padEnd(6)} ${fmt(r.steadyRowsPerSecond).padStart(20)}  ${r.epochRowsPerSecond.map(fmt).join(', ').padEnd(34)} ${r.finalLoss.toFixed(4).padStart(10)}  ${r.backend}`,
  );
}
for (const batchSize of batchSizes) {
  const sides = results.filter((r) => r.batchSize === batchSize);
  const kerasRate = sides.find((r) => r.side === 'keras')!.steadyRowsPerSecond;
  const ratios = sides.filter((r) => r.side !== 'keras').map((r) => `${r.label} / keras ${(r.steadyRowsPerSecond / kerasRate).toFixed(2)}×`);
  console.log(`batch ${batchSize}: ${ratios.join(', ')}`);
}
await writeFile(join(workDir, 'result.json'), `${JSON.stringify({ rows, cols, layers, batchSizes, epochs, learningRate, loadavg: loadavg(), results }, null, 2)}\n`);
