// Every command family against the real dvc CLI in one temporary repository (tests run in order and build on
// each other: pipeline → params/metrics/plots → remote + repro --pull/--allow-missing → experiments).
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { md5File, readDvcLock, readDvcYaml } from '../src/index.js';
import { makeRepo, writePipeline, type TempRepo } from './helpers.js';

let repo: TempRepo;
let remoteDir: string;
const progress: string[] = [];

beforeAll(async () => {
  repo = await makeRepo('commands', { onProgress: (line) => progress.push(line) });
  remoteDir = await mkdtemp(join(tmpdir(), 'dvc-adapter-commands-remote-'));
  await writePipeline(repo);
  await repo.git('add', '-A');
  await repo.git('commit', '-q', '-m', 'pipeline');
});

afterAll(async () => {
  await repo?.cleanup();
  if (remoteDir) await rm(remoteDir, { recursive: true, force: true });
});

const exists = (f: string) => stat(join(repo.dir, f)).then(() => true, () => false);

test('version reports the installed dvc', async () => {
  expect(await repo.dvc.version()).toMatch(/^3\.\d+\.\d+/);
});

test('dag parses the stage graph from dvc dag --dot', async () => {
  const dag = await repo.dvc.dag();
  expect(dag.nodes.sort()).toEqual(['prep', 'train']);
  expect(dag.edges).toEqual([{ from: 'prep', to: 'train' }]);
});

test('repro --dry lists the commands and runs nothing', async () => {
  const dry = await repo.dvc.repro({ targets: ['prep'], dry: true });
  expect(dry.ran.map((r) => r.stage)).toEqual(['prep']);
  expect(dry.ran[0]!.commands[0]).toContain('copyFileSync');
  expect(await exists('prepped.txt')).toBe(false);
});

test('repro runs the pipeline, reports progress, then is up to date', async () => {
  progress.length = 0;
  const first = await repo.dvc.repro();
  expect(first.ran.map((r) => r.stage)).toEqual(['prep', 'train']);
  expect(first.upToDate).toBe(false);
  expect(progress.some((l) => l.includes("Running stage 'train'"))).toBe(true);
  expect(JSON.parse(await readFile(join(repo.dir, 'metrics.json'), 'utf8'))).toEqual({ acc: 0.2, loss: 0.9 });
  const again = await repo.dvc.repro();
  expect(again.upToDate).toBe(true);
  expect(again.ran).toEqual([]);
  expect(again.skipped).toEqual(expect.arrayContaining(['prep', 'train']));
  const status = await repo.dvc.status();
  expect(status).toEqual({ kind: 'local', clean: true, stages: {} });
  // dvc.yaml / dvc.lock readers agree with what dvc wrote.
  const yaml = await readDvcYaml(join(repo.dir, 'dvc.yaml'));
  expect(Object.keys(yaml.stages)).toEqual(['prep', 'train']);
  const lock = await readDvcLock(join(repo.dir, 'dvc.lock'));
  expect(lock.stages['train']?.params?.['params.yaml']).toEqual({ 'train.lr': 0.1, 'train.epochs': 2 });
  expect(lock.stages['prep']?.outs?.[0]).toMatchObject({ path: 'prepped.txt', md5: await md5File(join(repo.dir, 'prepped.txt')) });
  await repo.git('add', '-A');
  await repo.git('commit', '-q', '-m', 'lr 0.1');
});

test('repro --force --single-item runs only the target stage', async () => {
  const single = await repo.dvc.repro({ targets: ['train'], force: true, singleItem: true });
  expect(single.ran.map((r) => r.stage)).toEqual(['train']);
});

test('status and params diff see a changed parameter', async () => {
  await repo.write('params.yaml', 'train:\n  lr: 0.2\n  epochs: 2\n');
  const status = await repo.dvc.status();
  expect(status.clean).toBe(false);
  expect(status.kind).toBe('local');
  if (status.kind !== 'local') throw new Error('unreachable');
  expect(status.stages['train']).toContainEqual({ 'changed deps': { 'params.yaml': { 'train.lr': 'modified' } } });
  expect(await repo.dvc.paramsDiff()).toEqual({ 'params.yaml': { 'train.lr': { old: 0.1, new: 0.2, diff: expect.closeTo(0.1, 6) } } });
});

test('metrics show / diff parse the JSON output', async () => {
  await repo.dvc.repro();
  const shown = await repo.dvc.metricsShow();
  expect(shown['workspace']?.files['metrics.json']?.data).toEqual({ acc: 0.4, loss: 0.8 });
  const diff = await repo.dvc.metricsDiff({ aRev: 'HEAD', targets: ['metrics.json'] });
  expect(Object.keys(diff)).toEqual(['metrics.json']);
  expect(diff['metrics.json']?.['acc']).toMatchObject({ old: 0.2, new: 0.4 });
  expect(diff['metrics.json']?.['loss']).toMatchObject({ old: 0.9, new: 0.8 });
});

test('plots show / diff return Vega-Lite specs with the data', async () => {
  const shown = await repo.dvc.plotsShow();
  const plot = shown.data['plot.csv']?.[0];
  expect(plot?.type).toBe('vega');
  if (plot?.type !== 'vega') throw new Error('unreachable');
  expect(plot.revisions).toEqual(['workspace']);
  const values = (plot.content['data'] as { values: { loss: string }[] }).values.map((v) => Number(v.loss));
  expect(values).toEqual([1, 0.8]);
  const diff = await repo.dvc.plotsDiff({ revisions: ['HEAD'] });
  const d = diff.data['plot.csv']?.[0];
  expect(d?.revisions.sort()).toEqual(['HEAD', 'workspace']);
  await repo.git('add', '-A');
  await repo.git('commit', '-q', '-m', 'lr 0.2');
});

test('data status tells committed and uncommitted data apart; add and checkout', async () => {
  await repo.write('raw.csv', 'x\n1\n');
  await repo.dvc.add('raw.csv');
  const added = await repo.dvc.dataStatus();
  expect(added.committed.added).toEqual(['raw.csv']);
  expect(added.clean).toBe(false);
  await repo.git('add', 'raw.csv.dvc', '.gitignore');
  await repo.git('commit', '-q', '-m', 'raw');
  await repo.write('raw.csv', 'x\n2\n');
  const changed = await repo.dvc.dataStatus({ unchanged: true });
  expect(changed.uncommitted.modified).toEqual(['raw.csv']);
  expect(changed.unchanged).toEqual(expect.arrayContaining(['prepped.txt']));
  await repo.dvc.checkout('raw.csv.dvc', { force: true });
  expect(await readFile(join(repo.dir, 'raw.csv'), 'utf8')).toBe('x\n1\n');
});

test('remote add / modify / list / default, then repro --allow-missing and --pull', async () => {
  const dvc = repo.dvc;
  expect(await dvc.remoteDefault()).toBeUndefined();
  await dvc.remoteAdd('store', remoteDir, { default: true, level: 'local' });
  await dvc.remoteAdd('spare', 'https://user:pa55word@example.invalid/dvc');
  await dvc.remoteModify('spare', 'password', 'pa55word');
  const remotes = await dvc.remoteList();
  expect(remotes).toContainEqual({ name: 'spare', url: 'https://***@example.invalid/dvc', isDefault: false });
  expect(JSON.stringify(remotes)).not.toContain('pa55word');
  expect(await dvc.remoteDefault()).toBe('store');
  await dvc.remoteSetDefault('spare', { level: 'local' });
  expect(await dvc.remoteDefault({ level: 'local' })).toBe('spare');
  await dvc.remoteRemove('spare'); // also drops it as default

  expect((await dvc.remoteList()).map((r) => r.name)).toEqual(['store']);

  await dvc.remoteSetDefault('store', { level: 'local' });
  const pushed = await dvc.push();
  expect(pushed.counts['pushed']).toBe(2); // prepped.txt and raw.csv (metrics and plots have cache: false)
  expect((await dvc.status({ cloud: true })).clean).toBe(true);

  await rm(join(repo.dir, 'prepped.txt'));
  await rm(join(repo.dir, '.dvc/cache'), { recursive: true });
  const wouldRun = await dvc.repro({ targets: ['prep'], dry: true });
  expect(wouldRun.ran.map((r) => r.stage)).toEqual(['prep']);
  const allowMissing = await dvc.repro({ allowMissing: true, dry: true });
  expect(allowMissing.ran).toEqual([]);
  expect(allowMissing.upToDate).toBe(true);
  const pulled = await dvc.repro({ pull: true });
  expect(pulled.ran).toEqual([]);
  expect(pulled.pulled).toContain('prep');
  expect(await readFile(join(repo.dir, 'prepped.txt'), 'utf8')).toBe('a,b\n1,2\n3,4\n');
});

test('exp run with -S, exp show and exp diff; exp run --queue', async () => {
  const run = await repo.dvc.expRun({ set: { 'train.lr': 0.3 }, name: 'exp-a' });
  expect(run).toMatchObject({ name: 'exp-a', queued: false });
  const shown = await repo.dvc.expShow();
  const exp = shown.rows.find((r) => r.name === 'exp-a');
  expect(exp).toMatchObject({ kind: 'experiment', state: 'success', params: { 'params.yaml': { 'train.lr': 0.3, 'train.epochs': 2 } } });
  expect(exp?.metrics['metrics.json']).toEqual({ acc: 0.6, loss: 0.7 });
  expect(shown.rows.find((r) => r.kind === 'baseline')?.metrics['metrics.json']).toEqual({ acc: 0.4, loss: 0.8 });
  const diff = await repo.dvc.expDiff({ aRev: 'HEAD', bRev: 'exp-a' });
  expect(diff.params['params.yaml']?.['train.lr']).toMatchObject({ old: 0.2, new: 0.3 });
  expect(diff.metrics['metrics.json']?.['acc']).toMatchObject({ old: 0.4, new: 0.6 });

  const queued = await repo.dvc.expRun({ set: { 'train.lr': 0.5 }, name: 'q-1', queue: true });
  expect(queued).toMatchObject({ name: 'q-1', queued: true });
  const withQueue = await repo.dvc.expShow();
  expect(withQueue.rows.find((r) => r.name === 'q-1')).toMatchObject({ state: 'queued', params: { 'params.yaml': { 'train.lr': 0.5 } } });
  await repo.dvc.raw(['queue', 'remove', '--all']);
});
