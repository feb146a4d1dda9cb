// Integration tests of MlflowClient against the real `mlflow server` started in global-setup.ts.
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inject } from 'vitest';
import {
  collect,
  dvcMd5,
  MlflowAlreadyExistsError,
  MlflowClient,
  MlflowInvalidRequestError,
  MlflowNotFoundError,
  MlflowValidationError,
  rest,
} from '../src/index.js';

const uri = inject('mlflowUri');
const DVC = resolve(import.meta.dirname, '../../../.venv/bin/dvc');
let client: MlflowClient;
let tmp: string;
const uniq = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

beforeAll(async () => {
  client = new MlflowClient({ trackingUri: uri });
  tmp = await mkdtemp(join(tmpdir(), 'mlflow-client-it-'));
});
afterAll(async () => {
  await client.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('experiments', () => {
  test('create, get by id and name, tags, duplicate → typed error, deleted → restored', async () => {
    const name = `exp-${uniq()}`;
    const id = await client.createExperiment(name, { tags: { team: 'ml' } });
    const byName = await client.getExperimentByName(name);
    expect(byName?.experiment_id).toBe(id);
    expect((await client.getExperiment(id)).tags).toContainEqual({ key: 'team', value: 'ml' });
    await expect(client.createExperiment(name)).rejects.toBeInstanceOf(MlflowAlreadyExistsError);
    await expect(client.createExperiment(name)).rejects.toMatchObject({ errorCode: 'RESOURCE_ALREADY_EXISTS', httpStatus: 400 });

    await client.deleteExperiment(id);
    expect((await client.getExperimentByName(name))?.lifecycle_stage).toBe('deleted');
    const again = await client.createExperiment(name);
    expect(again).toBe(id);
    expect((await client.getExperiment(id)).lifecycle_stage).toBe('active');
    await client.deleteExperiment(id);
    const viaGetOrCreate = await client.getOrCreateExperiment(name);
    expect(viaGetOrCreate.experiment_id).toBe(id);
    expect(viaGetOrCreate.lifecycle_stage).toBe('active');
    expect(await client.getExperimentByName(`missing-${uniq()}`)).toBeUndefined();
    await expect(client.getExperiment('987654')).rejects.toBeInstanceOf(MlflowNotFoundError);
  });

  test('search pages through every experiment', async () => {
    const prefix = `page-${uniq()}`;
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await client.createExperiment(`${prefix}-${i}`));
    const first = await client.searchExperiments({ filter: `name LIKE '${prefix}-%'`, maxResults: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.nextPageToken).toMatch(/^\S+$/);
    const all = await collect(client.iterateExperiments({ filter: `name LIKE '${prefix}-%'`, maxResults: 2, orderBy: ['name ASC'] }));
    expect(all.map((e) => e.name)).toEqual([0, 1, 2, 3, 4].map((i) => `${prefix}-${i}`));
    expect(new Set(all.map((e) => e.experiment_id))).toEqual(new Set(ids));
  });
});

describe('runs', () => {
  let expId: string;
  beforeAll(async () => {
    expId = (await client.getOrCreateExperiment(`runs-${uniq()}`)).experiment_id;
  });

  test('system tags, nested runs, status and end time, delete/restore', async () => {
    const parent = await client.createRun({
      experimentId: expId,
      runName: 'parent',
      user: 'alice',
      source: { name: 'apps/train/src/main.ts', type: 'LOCAL', gitCommit: 'a'.repeat(40) },
      tags: { custom: 'yes' },
    });
    const child = await client.createRun({ experimentId: expId, runName: 'child', parentRunId: parent.info.run_id });
    const got = await client.getRun(parent.info.run_id);
    const tags = Object.fromEntries(got.data.tags.map((t) => [t.key, t.value]));
    expect(tags).toMatchObject({
      'mlflow.runName': 'parent',
      'mlflow.user': 'alice',
      'mlflow.source.name': 'apps/train/src/main.ts',
      'mlflow.source.type': 'LOCAL',
      'mlflow.source.git.commit': 'a'.repeat(40),
      custom: 'yes',
    });
    expect(got.info.user_id).toBe('alice');
    const childTags = Object.fromEntries((await client.getRun(child.info.run_id)).data.tags.map((t) => [t.key, t.value]));
    expect(childTags['mlflow.parentRunId']).toBe(parent.info.run_id);

    const end = Date.now();
    const info = await client.endRun(parent.info.run_id, 'FINISHED', end);
    expect(info.status).toBe('FINISHED');
    expect(info.end_time).toBe(end);
    await client.updateRun(child.info.run_id, { status: 'FAILED', endTime: end + 1 });
    expect((await client.getRun(child.info.run_id)).info.status).toBe('FAILED');

    await client.deleteRun(child.info.run_id);
    expect((await client.getRun(child.info.run_id)).info.lifecycle_stage).toBe('deleted');
    const active = await client.searchAllRuns({ experimentIds: [expId] });
    expect(active.map((r) => r.info.run_id)).not.toContain(child.info.run_id);
    await client.restoreRun(child.info.run_id);
    expect((await client.getRun(child.info.run_id)).info.lifecycle_stage).toBe('active');
  });

  test('search with filter and order_by, iterating all pages', async () => {
    const exp = (await client.getOrCreateExperiment(`search-${uniq()}`)).experiment_id;
    for (let i = 0; i < 7; i++) {
      const r = await client.createRun({ experimentId: exp, runName: `r${i}` });
      await client.logBatch(r.info.run_id, { metrics: [{ key: 'acc', value: i / 10 }], params: { lr: i % 2 === 0 ? '0.1' : '0.01' } });
    }
    const page = await client.searchRuns({ experimentIds: [exp], maxResults: 3, orderBy: ['metrics.acc DESC'] });
    expect(page.items).toHaveLength(3);
    expect(page.nextPageToken).toMatch(/^\S+$/);
    const all = await client.searchAllRuns({ experimentIds: [exp], maxResults: 3, orderBy: ['metrics.acc DESC'] });
    expect(all.map((r) => r.info.run_name)).toEqual(['r6', 'r5', 'r4', 'r3', 'r2', 'r1', 'r0']);
    const filtered = await client.searchAllRuns({ experimentIds: [exp], filter: "params.lr = '0.1' and metrics.acc > 0.15", orderBy: ['metrics.acc ASC'] });
    expect(filtered.map((r) => r.info.run_name)).toEqual(['r2', 'r4', 'r6']);
  });

  test('log-batch splits input beyond every server limit; full history read back page by page', async () => {
    const run = await client.createRun({ experimentId: expId, runName: 'big' });
    const id = run.info.run_id;
    const t0 = 1_700_000_000_000;
    const metrics = Array.from({ length: 2600 }, (_, i) => ({ key: i % 2 ? 'loss' : 'acc', value: i % 2 ? 1 / (i + 1) : i / 2600, step: i >> 1, timestamp: t0 + i }));
    const params = Object.fromEntries(Array.from({ length: 230 }, (_, i) => [`p${i}`, 'v'.repeat(4000)]));
    const tags = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`t${i}`, 'w'.repeat(7000)]));
    const requests = await client.logBatch(id, { metrics, params, tags });
    expect(requests).toBeGreaterThanOrEqual(6);
    // The same input in one request is refused by the server:
    await expect(rest.logBatch(client.transport, { run_id: id, metrics: metrics.slice(0, 1001).map((m) => ({ ...m })) })).rejects.toBeInstanceOf(MlflowInvalidRequestError);

    const got = await client.getRun(id);
    expect(got.data.params).toHaveLength(230);
    expect(got.data.tags.filter((t) => t.key.startsWith('t'))).toHaveLength(120);
    const loss = await client.getMetricHistory(id, 'loss', { pageSize: 400 });
    expect(loss).toHaveLength(1300);
    const expected = metrics.filter((m) => m.key === 'loss');
    expect(loss.map((m) => [m.step, m.value, m.timestamp]).sort((a, b) => a[0]! - b[0]!)).toEqual(expected.map((m) => [m.step, m.value, m.timestamp]));

    const bulk = await client.getMetricHistoryBulkInterval([id], 'acc', { startStep: 100, endStep: 199, maxResults: 50 });
    // Sampled: the first and last step of the interval are always in, at most about maxResults points.
    const steps = bulk.map((m) => m.step);
    expect(steps[0]).toBe(100);
    expect(steps.at(-1)).toBe(199);
    expect(new Set(steps).size).toBe(steps.length);
    expect(steps.length).toBeGreaterThanOrEqual(50);
    expect(steps.length).toBeLessThanOrEqual(60);
    for (const m of bulk) {
      expect(m.run_id).toBe(id);
      expect(m.step).toBeGreaterThanOrEqual(100);
      expect(m.step).toBeLessThanOrEqual(199);
      expect(m.value).toBeCloseTo((m.step * 2) / 2600, 12);
    }
  });

  test('NaN and ±Infinity survive the round trip the way MLflow stores them', async () => {
    const run = await client.createRun({ experimentId: expId });
    await client.logBatch(run.info.run_id, {
      metrics: [
        { key: 'm', value: Number.NaN, step: 0, timestamp: 1 },
        { key: 'm', value: Infinity, step: 1, timestamp: 2 },
        { key: 'm', value: -Infinity, step: 2, timestamp: 3 },
      ],
    });
    await client.logMetric(run.info.run_id, 'm', 0.25, { step: 3, timestamp: 4 });
    const h = await client.getMetricHistory(run.info.run_id, 'm');
    const byStep = new Map(h.map((m) => [m.step, m.value]));
    expect(byStep.get(0)).toBeNaN();
    // The SQL store clamps ±inf to ±max double (sqlalchemy_store.sanitize_metric_value); Python reads the same.
    expect(byStep.get(1)).toBe(Number.MAX_VALUE);
    expect(byStep.get(2)).toBe(-Number.MAX_VALUE);
    expect(byStep.get(3)).toBe(0.25);
  });

  test('single calls, tag deletion, and validation before sending', async () => {
    const run = await client.createRun({ experimentId: expId });
    const id = run.info.run_id;
    await client.logParam(id, 'epochs', 3);
    await client.setTag(id, 'stage', 'train');
    await client.setTag(id, 'tmp', 'x');
    await client.deleteTag(id, 'tmp');
    const r = await client.getRun(id);
    expect(r.data.params).toContainEqual({ key: 'epochs', value: '3' });
    expect(r.data.tags.map((t) => t.key)).toContain('stage');
    expect(r.data.tags.map((t) => t.key)).not.toContain('tmp');
    await expect(client.logParam(id, 'epochs', 4)).rejects.toBeInstanceOf(MlflowInvalidRequestError);
    await expect(client.logMetric(id, '../escape', 1)).rejects.toBeInstanceOf(MlflowValidationError);
  });

  test('log-inputs records the dataset with the DVC md5 as digest', async () => {
    const data = join(tmp, 'data.csv');
    await writeFile(data, 'a,b\n1,2\n3,4\n');
    // What DVC itself records for the file:
    const repo = join(tmp, 'dvcrepo');
    await mkdir(repo);
    await execa(DVC, ['init', '--no-scm', '-q'], { cwd: repo });
    await writeFile(join(repo, 'data.csv'), await readFile(data));
    await execa(DVC, ['add', '-q', 'data.csv'], { cwd: repo });
    const dvcFile = await readFile(join(repo, 'data.csv.dvc'), 'utf8');
    const dvcRecorded = /md5: ([0-9a-f]{32})/.exec(dvcFile)?.[1];
    const digest = await dvcMd5(data);
    expect(digest).toBe(dvcRecorded);

    const run = await client.createRun({ experimentId: expId });
    await client.logInputs(run.info.run_id, [{ name: 'flights', digest, source: 'data/raw/flights.parquet', sourceType: 'dvc', context: 'training' }]);
    const got = await client.getRun(run.info.run_id);
    expect(got.inputs.dataset_inputs).toHaveLength(1);
    expect(got.inputs.dataset_inputs[0]!.dataset).toMatchObject({ name: 'flights', digest, source_type: 'dvc', source: 'data/raw/flights.parquet' });
    expect(got.inputs.dataset_inputs[0]!.tags).toContainEqual({ key: 'mlflow.data.context', value: 'training' });
  });
});

describe('artifacts, logged models, registry', () => {
  test('upload a directory and a file, list (flat and recursive), download byte-identical', async () => {
    const exp = (await client.getOrCreateExperiment(`art-${uniq()}`)).experiment_id;
    const run = await client.createRun({ experimentId: exp });
    const id = run.info.run_id;
    const src = join(tmp, 'art-src');
    await mkdir(join(src, 'nested/deeper'), { recursive: true });
    const bin = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31 + 7) & 0xff));
    await writeFile(join(src, 'weights.bin'), bin);
    await writeFile(join(src, 'nested/a b+c.json'), '{"x":1}');
    await writeFile(join(src, 'nested/deeper/z.txt'), 'deep');
    const uploaded = await client.logArtifacts(id, src, 'model');
    expect(uploaded.sort()).toEqual(['model/nested/a b+c.json', 'model/nested/deeper/z.txt', 'model/weights.bin']);
    await client.logArtifact(id, join(src, 'nested/deeper/z.txt'));
    await client.logArtifactContent(id, 'hello', 'notes/hello.txt');

    const top = await client.listArtifacts(id);
    expect(top.map((f) => [f.path, f.is_dir])).toEqual([
      ['model', true],
      ['notes', true],
      ['z.txt', false],
    ]);
    const all = await client.listArtifacts(id, undefined, { recursive: true });
    expect(all.map((f) => [f.path, f.file_size])).toEqual([
      ['model/nested/a b+c.json', 7],
      ['model/nested/deeper/z.txt', 4],
      ['model/weights.bin', 300_000],
      ['notes/hello.txt', 5],
      ['z.txt', 4],
    ]);
    const dest = join(tmp, 'art-dl');
    const local = await client.downloadArtifacts(id, 'model', dest);
    expect(await readFile(join(local, 'weights.bin'))).toEqual(bin);
    expect(await readFile(join(local, 'nested/a b+c.json'), 'utf8')).toBe('{"x":1}');
    expect((await client.readArtifact(id, 'notes/hello.txt')).toString()).toBe('hello');
    const one = await client.downloadArtifacts(id, 'z.txt', join(tmp, 'one'));
    expect(await readFile(one, 'utf8')).toBe('deep');
    await expect(client.downloadArtifacts(id, 'nope.txt', join(tmp, 'none'))).rejects.toBeInstanceOf(MlflowNotFoundError);
    // Content types come from mime-types (the proxy stores what it is given; here: the server accepts them all).
    await client.logArtifactContent(id, 'a: 1\n', 'conf/params.yaml');
    expect((await client.readArtifact(id, 'conf/params.yaml')).toString()).toBe('a: 1\n');
  });

  test('MLflow 3 logged model: create, upload, finalize, link to run, search; registry with versions and alias', async () => {
    const exp = (await client.getOrCreateExperiment(`models-${uniq()}`)).experiment_id;
    const run = await client.createRun({ experimentId: exp, runName: 'train' });
    const dir = join(tmp, 'model-dir');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'model.json'), '{"format":"layers-model"}');
    await writeFile(join(dir, 'weights.bin'), Buffer.from([1, 2, 3, 4]));
    const model = await client.logModel({ runId: run.info.run_id, name: 'mlp', dir, modelType: 'tfjs', params: { units: 16 }, tags: { framework: 'tfjs' } });
    expect(model.info.status).toBe('LOGGED_MODEL_READY');
    expect(model.info.source_run_id).toBe(run.info.run_id);
    expect((await client.listLoggedModelArtifacts(model.info.model_id)).map((f) => f.path)).toEqual(['model.json', 'weights.bin']);
    const back = join(tmp, 'model-back');
    await client.downloadLoggedModelArtifacts(model.info.model_id, back);
    expect(await readFile(join(back, 'weights.bin'))).toEqual(Buffer.from([1, 2, 3, 4]));
    expect((await client.getRun(run.info.run_id)).outputs.model_outputs.map((o) => o.model_id)).toEqual([model.info.model_id]);
    const found = await client.searchLoggedModels({ experimentIds: [exp], filter: "name = 'mlp'" });
    expect(found.items.map((m) => m.info.model_id)).toEqual([model.info.model_id]);
    expect(found.items[0]!.data.params).toContainEqual({ key: 'units', value: '16' });

    const name = `reg-${uniq()}`;
    const v1 = await client.registerModel({ name, modelId: model.info.model_id, alias: 'champion' });
    expect(v1.version).toBe('1');
    expect(v1.aliases).toEqual(['champion']);
    expect(v1.run_id).toBe(run.info.run_id);
    // The OSS SQL registry keeps the logged model as the source URI (it does not persist model_id).
    expect(v1.source).toBe(`models:/${model.info.model_id}`);
    expect([undefined, model.info.model_id]).toContain(v1.model_id);
    const v2 = await client.registerModel({ name, modelId: model.info.model_id });
    expect(v2.version).toBe('2');
    expect((await client.getModelVersionByAlias(name, 'champion')).version).toBe('1');
    await client.setRegisteredModelAlias(name, 'champion', '2');
    expect((await client.getModelVersionByAlias(name, 'champion')).version).toBe('2');
    const rm = await client.getRegisteredModel(name);
    expect(rm.aliases).toEqual([{ alias: 'champion', version: '2' }]);
    const versions = await collect(client.iterateModelVersions({ filter: `name = '${name}'`, maxResults: 1 }));
    expect(versions.map((v) => v.version).sort()).toEqual(['1', '2']);
    expect((await client.searchRegisteredModels({ filter: `name = '${name}'` })).items.map((m) => m.name)).toEqual([name]);
    await expect(client.createRegisteredModel(name)).rejects.toBeInstanceOf(MlflowAlreadyExistsError);
    expect((await client.createRegisteredModel(name, { ifExists: 'return' })).name).toBe(name);
    await client.deleteRegisteredModelAlias(name, 'champion');
    // MLflow answers a missing alias with INVALID_PARAMETER_VALUE (not RESOURCE_DOES_NOT_EXIST).
    await expect(client.getModelVersionByAlias(name, 'champion')).rejects.toMatchObject({
      code: 'ERR_MLFLOW_INVALID_REQUEST',
      errorCode: 'INVALID_PARAMETER_VALUE',
      httpStatus: 400,
      serverMessage: expect.stringMatching(/alias.*champion/i),
    });
  });
});
