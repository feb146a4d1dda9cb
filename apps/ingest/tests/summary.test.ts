// tools/summary.mjs: the short summary `npm run pipeline` ends with, run as the pipeline runs it (node, --dir) on
// metrics files written here in the shapes the stages write (old and new), and with files or keys missing.
import { execa } from 'execa';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'summary-'));
  await mkdir(join(dir, 'metrics/eval'), { recursive: true });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const write = (path: string, value: unknown) => writeFile(join(dir, path), typeof value === 'string' ? value : JSON.stringify(value));
async function summary(): Promise<string[]> {
  const r = await execa('node', [join(ROOT, 'tools/summary.mjs'), '--dir', dir], { reject: false });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return r.stdout.split('\n');
}

const quality = {
  rows: { source: 3000, in: 1000, out: 990, dropped: 10 },
  dropped: { null_target: 0, invalid_distance: 10, duplicates: 0 },
  clipped: { distance: 4, delay: 0 },
  nulls_in: { origin: 3, distance: 0 },
  nulls_out: { origin: 3, distance: 0 },
  class_counts: { on_time: 792, delayed: 198 },
  class_balance: { on_time: 0.8, delayed: 0.2 },
};
const evalOf = (model: string, roc_auc: number, accuracy: number, baseline?: Record<string, number>) => ({
  model,
  task: 'binary',
  accuracy,
  f1: 0.3,
  roc_auc,
  per_class: { on_time: { precision: 0.9 } },
  ...(baseline ? { baseline } : {}),
});

test('new shapes: data quality, ranking against the baseline, and why there is no champion', async () => {
  await write('metrics/data_quality.json', quality);
  const baseline = { accuracy: 0.8, roc_auc: 0.5 };
  await write('metrics/eval/logreg.json', evalOf('logreg', 0.45, 0.7, baseline));
  await write('metrics/eval/mlp.json', evalOf('mlp', 0.48, 0.75, baseline));
  await write('metrics/compare.json', {
    metric: 'roc_auc',
    higher_is_better: true,
    baseline: { name: 'majority_class', score: 0.5 },
    champion: null,
    reason: 'no model beats the majority-class baseline on roc_auc: the best, mlp, scores 0.48 against 0.5',
    registered_model: 'm',
    alias: 'champion',
    ranking: [
      { rank: 1, model: 'mlp', score: 0.48, beats_baseline: false, accuracy: 0.75, f1: 0.3 },
      { rank: 2, model: 'logreg', score: 0.45, beats_baseline: false, accuracy: 0.7, f1: 0.3 },
    ],
  });
  expect(await summary()).toEqual([
    'data: 990 rows (sample of 1000 from 3000), 10 dropped; dropped: invalid_distance 10; classes: on_time 80.0%, delayed 20.0%; clipped: distance 4; nulls left for imputation: origin 3',
    'ranking by test roc_auc (higher is better; majority-class baseline 0.5000):',
    '  1. mlp     0.4800  (accuracy 0.7500, f1 0.3000, does not beat the baseline)',
    '  2. logreg  0.4500  (accuracy 0.7000, f1 0.3000, does not beat the baseline)',
    'no champion: no model beats the majority-class baseline on roc_auc: the best, mlp, scores 0.48 against 0.5',
    '2 models evaluated; full table: dvc metrics show (experiments: dvc exp show --only-changed)',
  ]);
});

test('a champion in the new shape, and the baseline taken from the eval files when compare has none', async () => {
  await write('metrics/eval/a.json', evalOf('a', 0.7, 0.81, { roc_auc: 0.5 }));
  await write('metrics/eval/b.json', evalOf('b', 0.4, 0.6, { roc_auc: 0.5 }));
  await write('metrics/compare.json', {
    metric: 'roc_auc',
    champion: { model: 'a', score: 0.7 },
    registered_model: 'clf',
    alias: 'champion',
    ranking: [
      { rank: 1, model: 'a', score: 0.7 },
      { rank: 2, model: 'b', score: 0.4 },
    ],
  });
  const lines = await summary();
  expect(lines[0]).toBe('ranking by test roc_auc (higher is better; majority-class baseline 0.5000):');
  expect(lines[1]).toBe('  1. a  0.7000  (accuracy 0.8100, f1 0.3000, champion)');
  expect(lines[2]).toBe('  2. b  0.4000  (accuracy 0.6000, f1 0.3000, does not beat the baseline)');
  expect(lines[3]).toBe('champion: a → clf @champion');
});

test('the shape before this session (best/registered, test_ keys, no baseline)', async () => {
  await write('metrics/eval/x.json', evalOf('x', 0.64, 0.62));
  await write('metrics/compare.json', {
    metric: 'test_roc_auc',
    higher_is_better: true,
    best: { model: 'x', run_id: 'r', score: 0.64 },
    registered: { name: 'clf', version: '3', alias: 'champion' },
    ranking: [{ rank: 1, model: 'x', run_id: 'r', score: 0.64, test_accuracy: 0.62, test_f1: 0.3 }],
  });
  expect(await summary()).toEqual([
    'ranking by test roc_auc (higher is better):',
    '  1. x  0.6400  (accuracy 0.6200, f1 0.3000, champion)',
    'champion: x → clf v3 @champion',
    '1 model evaluated; full table: dvc metrics show (experiments: dvc exp show --only-changed)',
  ]);
});

test('only eval files (compare has not run): ranks them itself; unreadable and missing files are left out', async () => {
  await write('metrics/eval/slow.json', evalOf('slow', 0.6, 0.7));
  await write('metrics/eval/fast.json', evalOf('fast', 0.65, 0.71));
  await write('metrics/eval/broken.json', '{ not json');
  await write('metrics/data_quality.json', { rows: {} });
  const lines = await summary();
  expect(lines.slice(0, 3)).toEqual([
    'ranking by test roc_auc (higher is better):',
    '  1. fast  0.6500  (accuracy 0.7100, f1 0.3000)',
    '  2. slow  0.6000  (accuracy 0.7000, f1 0.3000)',
  ]);
  expect(lines.join('\n')).not.toMatch(/broken|champion|data:/);
});

test('no metrics at all', async () => {
  await rm(join(dir, 'metrics'), { recursive: true });
  expect(await summary()).toEqual(['no metrics found (run the pipeline first)']);
});
