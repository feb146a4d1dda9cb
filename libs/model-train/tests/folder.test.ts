import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildModel,
  loadModelFolder,
  ModelFolderError,
  parseModelParams,
  parseTrainParams,
  predictProba,
  saveModelFolder,
  selectBackend,
  train,
} from '../src/index.js';
import { blobs3, separableBinary } from './synthetic.js';

let dir = '';
beforeAll(async () => {
  await selectBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'model-train-folder-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function trained(kind: 'binary' | 'multiclass') {
  const data = kind === 'binary' ? separableBinary(300, 5, 1) : blobs3(300, 5, 2);
  const classes = kind === 'binary' ? ['on time', 'late'] : ['a', 'b', 'c'];
  const params = parseModelParams({ type: 'mlp', layers: [6, 4], dropout: 0.2, l2: 1e-3 });
  const model = buildModel(params, { inputDim: 5, classes, seed: 4, name: 'mlp_small' });
  await train({ model, train: data, params: parseTrainParams({ epochs: 2, batchSize: 32 }), log: () => {} });
  return { model, data, classes, params };
}

describe('model folder', () => {
  for (const kind of ['binary', 'multiclass'] as const) {
    it(`save → load gives identical predictions (${kind})`, async () => {
      const { model, data, classes, params } = await trained(kind);
      const folder = join(dir, kind);
      const meta = await saveModelFolder(model, folder, {
        name: 'mlp_small',
        classes,
        featureNames: ['a', 'b', 'c', 'd', 'e'],
        params,
        extra: { mlflowRunId: 'abc123' },
      });
      expect((await readdir(folder)).sort()).toEqual(['model-meta.json', 'model.json', 'weights.bin']);
      const loaded = await loadModelFolder(folder);
      expect(loaded.meta).toEqual(meta);
      expect(loaded.meta).toMatchObject({ task: kind, classes, inputDim: 5, backend: 'wasm', extra: { mlflowRunId: 'abc123' } });
      const before = predictProba(model, data.x, data.rows);
      const after = predictProba(loaded.model, data.x, data.rows);
      expect(Array.from(after)).toEqual(Array.from(before));
      model.dispose();
      loaded.model.dispose();
    });
  }

  it('writes the standard TF.js layers format', async () => {
    const { model } = await trained('binary');
    const folder = join(dir, 'format');
    await saveModelFolder(model, folder);
    const json = JSON.parse(await readFile(join(folder, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.modelTopology.class_name).toBe('Sequential');
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    const names = json.weightsManifest[0].weights.map((w: { name: string }) => w.name);
    expect(names).toEqual(['hidden_1/kernel', 'hidden_1/bias', 'hidden_2/kernel', 'hidden_2/bias', 'output/kernel', 'output/bias']);
    const bytes = (await readFile(join(folder, 'weights.bin'))).byteLength;
    expect(bytes).toBe(4 * (5 * 6 + 6 + 6 * 4 + 4 + 4 * 1 + 1));
    model.dispose();
  });

  it('replaces an existing folder whole and leaves no temp folders', async () => {
    const folder = join(dir, 'replace');
    const first = await trained('binary');
    await saveModelFolder(first.model, folder);
    await writeFile(join(folder, 'stale.txt'), 'old');
    const second = await trained('multiclass');
    await saveModelFolder(second.model, folder, { classes: second.classes });
    expect((await readdir(folder)).sort()).toEqual(['model-meta.json', 'model.json', 'weights.bin']);
    expect((await readdir(dir)).filter((n) => n.includes('.tmp-') || n.includes('.old-'))).toEqual([]);
    expect((await loadModelFolder(folder)).meta?.task).toBe('multiclass');
    first.model.dispose();
    second.model.dispose();
  });

  it('loads a folder without model-meta.json (plain TF.js files)', async () => {
    const { model, data } = await trained('binary');
    const folder = join(dir, 'plain');
    await saveModelFolder(model, folder);
    await rm(join(folder, 'model-meta.json'));
    const loaded = await loadModelFolder(folder);
    expect(loaded.meta).toBeNull();
    const head = data.x.subarray(0, 5 * data.cols);
    expect(Array.from(predictProba(loaded.model, head, 5))).toEqual(Array.from(predictProba(model, head, 5)));
    model.dispose();
  });

  it('reports missing, truncated and mismatched files', async () => {
    const { model, classes } = await trained('binary');
    const folder = join(dir, 'broken');
    await saveModelFolder(model, folder, { classes });
    await expect(saveModelFolder(model, join(dir, 'x'), { classes: ['only'] })).rejects.toThrow(/model predicts 2 classes but 1 class names were given/);
    const weights = await readFile(join(folder, 'weights.bin'));
    await writeFile(join(folder, 'weights.bin'), weights.subarray(0, 16));
    await expect(loadModelFolder(folder)).rejects.toThrow(/weights are 16 bytes, the manifest describes \d+/);
    await rm(join(folder, 'weights.bin'));
    await expect(loadModelFolder(folder)).rejects.toThrow(ModelFolderError);
    await expect(loadModelFolder(folder)).rejects.toThrow(/cannot read weights file weights\.bin/);
    await expect(loadModelFolder(join(dir, 'nope'))).rejects.toThrow(/model folder .*nope: cannot read model\.json/);
    await writeFile(join(folder, 'model.json'), '{"modelTopology": 1}');
    await expect(loadModelFolder(folder)).rejects.toThrow(/model\.json is not a TF\.js layers model/);
    model.dispose();
  });
});
