import { extractDvcMessage } from './dvc.js';
import { flattenExpShow, flattenKeys, parseCheckoutChanges, parseDot, parseRemoteList, parseReproOutput, parseTransferSummary } from './parse.js';
import { ExpShowJsonSchema } from './schemas.js';

test('parseDot reads quoted node names with colons and edge direction', () => {
  const dot = 'strict digraph {\n"prepare";\n"train@cnn";\n"sub/dvc.yaml:eval";\n"prepare" -> "train@cnn";\n"train@cnn" -> "sub/dvc.yaml:eval";\n}\n';
  expect(parseDot(dot)).toEqual({
    nodes: ['prepare', 'train@cnn', 'sub/dvc.yaml:eval'],
    edges: [
      { from: 'prepare', to: 'train@cnn' },
      { from: 'train@cnn', to: 'sub/dvc.yaml:eval' },
    ],
  });
});

test('parseReproOutput groups commands by stage and collects skipped / pulled stages', () => {
  const log = [
    "'data/raw/flights.parquet.dvc' didn't change, skipping",
    "Stage 'prepare' didn't change, skipping",
    "Running stage 'train@mlp':",
    '> node apps/train/src/main.ts --model mlp',
    '> echo done',
    'Updating lock file \'dvc.lock\'',
    '',
    "Pulling data for stage: 'featurize'",
    "Stage 'evaluate' is cached - skipping run, checking out outputs",
  ].join('\n');
  expect(parseReproOutput(log)).toEqual({
    ran: [{ stage: 'train@mlp', commands: ['node apps/train/src/main.ts --model mlp', 'echo done'] }],
    skipped: ['data/raw/flights.parquet.dvc', 'prepare'],
    restored: ['evaluate'],
    pulled: ['featurize'],
  });
});

test('transfer summaries, checkout changes and remote lists', () => {
  expect(parseTransferSummary('2 files fetched and 1 file added')).toEqual({ fetched: 2, added: 1 });
  expect(parseTransferSummary('Everything is up to date.')).toEqual({});
  expect(parseCheckoutChanges('A\tdata/a.csv\nM       b.bin\n1 file added')).toEqual({ added: ['data/a.csv'], modified: ['b.bin'], deleted: [] });
  expect(parseRemoteList('store   /tmp/my remote dir      (default)\ns3r\ts3://bucket/x\n')).toEqual([
    { name: 'store', url: '/tmp/my remote dir', isDefault: true },
    { name: 's3r', url: 's3://bucket/x', isDefault: false },
  ]);
});

test('extractDvcMessage keeps DVC text after ERROR:, also in verbose form', () => {
  expect(extractDvcMessage("WARNING: x\nERROR: failed to pull - Checkout failed:\ndata.csv\n")).toBe('failed to pull - Checkout failed:\ndata.csv');
  expect(extractDvcMessage('2026-01-01 10:00:00,123 ERROR: boom')).toBe('boom');
  const verbose = [
    "2026-01-01 10:00:00,123 ERROR: failed to transfer 'abc' - Cannot connect",
    'Traceback (most recent call last):',
    '  File "x.py", line 1, in f',
    '    raise OSError()',
    'ConnectionRefusedError: [Errno 111] refused',
    '',
    'The above exception was the direct cause of the following exception:',
    '',
    'Traceback (most recent call last):',
    '  File "y.py", line 2, in g',
    '2026-01-01 10:00:01,000 ERROR: failed to push data to the cloud - 1 files failed to upload',
  ].join('\n');
  expect(extractDvcMessage(verbose)).toBe(
    "failed to transfer 'abc' - Cannot connect\nConnectionRefusedError: [Errno 111] refused\n\nfailed to push data to the cloud - 1 files failed to upload",
  );
  expect(extractDvcMessage('', 'last words\n')).toBe('last words');
  expect(extractDvcMessage("WARNING: w\n'./dvc.yaml' is invalid.\n\nMapping values are not allowed here   \n")).toBe("'./dvc.yaml' is invalid.\n\nMapping values are not allowed here");
});

test('flattenExpShow turns the exp show tree into rows with dotted params', () => {
  const raw = ExpShowJsonSchema.parse([
    { rev: 'workspace', name: null, data: { rev: 'workspace', timestamp: null, params: { 'params.yaml': { data: { train: { lr: 0.1 } } } }, metrics: {}, deps: {}, outs: {}, meta: {} }, error: null, experiments: null },
    {
      rev: 'abc',
      name: 'main',
      data: { rev: 'abc', timestamp: '2026-01-01T00:00:00', params: {}, metrics: { 'm.json': { data: { acc: 0.5 } } }, deps: {}, outs: {}, meta: {} },
      error: null,
      experiments: [
        { name: 'q', executor: { state: 'queued', name: 'dvc-task' }, revs: [{ rev: 'def', name: 'q', data: null, error: null, experiments: null }] },
        { name: 'bad', executor: null, revs: [{ rev: 'fff', name: 'bad', data: null, error: { msg: 'failed', type: 'X' }, experiments: null }] },
      ],
    },
  ]);
  const rows = flattenExpShow(raw);
  expect(rows.map((r) => [r.kind, r.name, r.state, r.baselineRev])).toEqual([
    ['workspace', null, 'success', null],
    ['baseline', 'main', 'success', null],
    ['experiment', 'q', 'queued', 'abc'],
    ['experiment', 'bad', 'failed', 'abc'],
  ]);
  expect(rows[0]!.params).toEqual({ 'params.yaml': { 'train.lr': 0.1 } });
  expect(rows[1]!.metrics).toEqual({ 'm.json': { acc: 0.5 } });
  expect(flattenKeys({ a: { b: [1, 2], c: { d: null } } })).toEqual({ 'a.b': [1, 2], 'a.c.d': null });
});
