/** dvc.yaml → stages → Nx targets, as pure functions over a fixture (no processes). */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateNodesV2, PostTasksExecution } from '@nx/devkit';
import { parse as parseYaml } from 'yaml';
import {
  DvcYamlError,
  classifyDep,
  createNodesV2,
  mergeLockEntry,
  postTasksExecution,
  resolveDvcYaml,
  stageOutRefs,
  stageTargets,
} from '../src/nx-plugin.js';
import type { DvcNxPluginOptions, NxTarget } from '../src/nx-plugin.js';
import { pythonFloatRepr } from '../src/nx/interpolate.js';

// The plugin's structural types must be what Nx 22 expects (checked by the spec typecheck).
const _nodes: CreateNodesV2<DvcNxPluginOptions> = createNodesV2;
const _post: PostTasksExecution<DvcNxPluginOptions> = postTasksExecution as PostTasksExecution<DvcNxPluginOptions>;
void _nodes;
void _post;

const PARAMS = `
data: { path: data/raw/flights.parquet, rows: 1000 }
featurize: { scale: standard, seed: 7 }
models:
  cnn: { epochs: 2, lr: 0.01 }
  mlp: { epochs: 3, lr: 1.0e-5 }
sweep_lrs: [0.1, 1.0]
`;

const DVC_YAML = `
vars:
  - shared.yaml
  - { out_dir: data/prepared }
stages:
  prepare:
    cmd: node apps/prepare/src/main.ts --rows \${data.rows}
    deps: [apps/prepare/src, libs/data-prep/src, '\${data.path}']
    params: [data]
    outs: ['\${out_dir}/data.parquet']
    metrics: [{ metrics/data_quality.json: { cache: false } }]
  featurize:
    cmd: node apps/featurize/src/main.ts
    deps: [apps/featurize/src, data/prepared/data.parquet, node_modules/some-pkg/file.bin]
    params: [featurize, { custom.yaml: [thresholds.delay] }]
    outs: [data/features]
  train:
    foreach: \${models}
    do:
      cmd: node apps/train/src/main.ts --model \${key} --epochs \${item.epochs}
      deps: [data/features/train.parquet, apps/train/src]
      params: ['models.\${key}']
      outs: ['models/\${key}']
  sweep:
    matrix:
      lr: \${sweep_lrs}
      width: [64, 128]
    cmd: node sweep.js --lr \${item.lr} --width \${item.width} --tag \${shared.tag}
    outs: ['sweeps/\${key}.json']
  check:
    foreach: [small, big]
    do:
      wdir: checks
      cmd: node check.js \${item}
      deps: [../data/features]
      plots: ['\${item}.csv']
      always_changed: true
`;

const FILES: Record<string, string> = {
  'params.yaml': PARAMS,
  'shared.yaml': 'shared: { tag: v1 }\n',
  'custom.yaml': 'thresholds: { delay: 15 }\n',
};
const readFixture = (rel: string): string | undefined => FILES[rel];

describe('resolveDvcYaml', () => {
  const stages = resolveDvcYaml(DVC_YAML, { file: 'dvc.yaml', readFile: readFixture });
  const byName = new Map(stages.map((s) => [s.name, s]));

  it('expands foreach (dict and list) and matrix with the names DVC gives them', () => {
    expect(stages.map((s) => s.name)).toEqual([
      'prepare',
      'featurize',
      'train@cnn',
      'train@mlp',
      'sweep@0.1-64',
      'sweep@0.1-128',
      'sweep@1.0-64',
      'sweep@1.0-128',
      'check@small',
      'check@big',
    ]);
    expect(byName.get('train@mlp')?.group).toBe('train');
  });

  it('interpolates params.yaml, vars files and inline vars into cmd, deps and outs', () => {
    const prepare = byName.get('prepare');
    expect(prepare?.cmd).toBe('node apps/prepare/src/main.ts --rows 1000');
    expect(prepare?.deps).toEqual(['apps/prepare/src', 'libs/data-prep/src', 'data/raw/flights.parquet']);
    expect(prepare?.outs).toEqual([
      { path: 'data/prepared/data.parquet', kind: 'outs', cache: true, persist: false },
      { path: 'metrics/data_quality.json', kind: 'metrics', cache: false, persist: false },
    ]);
    expect(byName.get('train@cnn')?.cmd).toBe('node apps/train/src/main.ts --model cnn --epochs 2');
    expect(byName.get('sweep@1.0-128')?.cmd).toBe('node sweep.js --lr 1.0 --width 128 --tag v1');
    expect(byName.get('sweep@0.1-64')?.outs[0]?.path).toBe('sweeps/0.1-64.json');
  });

  it('records declared params plus the params.yaml keys templates read (DVC tracks both)', () => {
    const prepare = byName.get('prepare');
    expect(prepare?.params).toEqual([{ file: 'params.yaml', keys: ['data', 'data.rows', 'data.path'] }]);
    expect(byName.get('featurize')?.params).toEqual([
      { file: 'params.yaml', keys: ['featurize'] },
      { file: 'custom.yaml', keys: ['thresholds.delay'] },
    ]);
    // ${item.epochs} comes from the foreach item, not from a file: only the declared key
    expect(byName.get('train@mlp')?.params).toEqual([{ file: 'params.yaml', keys: ['models.mlp'] }]);
    // sweep reads shared.tag from a vars file: tracked against that file
    expect(byName.get('sweep@0.1-64')?.params).toEqual([{ file: 'shared.yaml', keys: ['shared.tag'] }]);
  });

  it('applies wdir to deps and outs and keeps always_changed', () => {
    const check = byName.get('check@big');
    expect(check?.wdir).toBe('checks');
    expect(check?.deps).toEqual(['data/features']);
    expect(check?.outs).toEqual([{ path: 'checks/big.csv', kind: 'plots', cache: false, persist: false }]);
    expect(check?.alwaysChanged).toBe(true);
  });

  it('names the stage and the key when a template refers to a missing value', () => {
    const bad = 'stages:\n  s:\n    cmd: echo ${nope.deeper}\n';
    expect(() => resolveDvcYaml(bad, { file: 'sub/dvc.yaml', readFile: readFixture })).toThrow(DvcYamlError);
    expect(() => resolveDvcYaml(bad, { file: 'sub/dvc.yaml', readFile: readFixture })).toThrow(/sub\/dvc\.yaml: stages\.s.*'nope\.deeper'/);
  });

  it('rejects a foreach over a scalar and a missing vars file', () => {
    const scalar = 'stages:\n  s:\n    foreach: ${data.rows}\n    do: { cmd: echo }\n';
    expect(() => resolveDvcYaml(scalar, { readFile: readFixture })).toThrow(/stages\.s\.foreach: expected list\/dictionary/);
    const missing = 'vars: [nothere.yaml]\nstages: {}\n';
    expect(() => resolveDvcYaml(missing, { readFile: readFixture })).toThrow(/'nothere\.yaml' does not exist/);
  });
});

describe('pythonFloatRepr', () => {
  it.each([
    [0.1, '0.1'],
    [1, '1.0'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [1.5e-7, '1.5e-07'],
    [123.456, '123.456'],
    [1e16, '1e+16'],
    [2 ** 60, '1.152921504606847e+18'],
    [-2.5, '-2.5'],
  ])('%s → %s (as Python prints it)', (n, expected) => {
    expect(pythonFloatRepr(n)).toBe(expected);
  });
});

describe('stageTargets', () => {
  const stages = resolveDvcYaml(DVC_YAML, { file: 'dvc.yaml', readFile: readFixture });
  const targetName = (s: string): string => `dvc-${s}`;
  const outs = stageOutRefs({ project: 'pipeline', projectRoot: '', stages, targetName });
  const targets = stageTargets({
    project: 'pipeline',
    projectRoot: '',
    stages,
    facts: {
      outs,
      exists: (p) => p === 'data/raw/flights.parquet.dvc',
      isIgnored: (p) => p.startsWith('node_modules/'),
    },
    targetName,
    cli: 'node cli.js',
    dvcBin: '.venv/bin/dvc',
    snapshotPath: (s) => `.dvc/tmp/nx-stages/${s}.lock.json`,
  });
  const t = (name: string): NxTarget => {
    const target = targets[name];
    if (!target) throw new Error(`no target ${name} (have ${Object.keys(targets).join(', ')})`);
    return target;
  };

  it('has one target per expanded stage', () => {
    expect(Object.keys(targets)).toEqual(stages.map((s) => `dvc-${s.name}`));
  });

  it('runs the stage alone through the project dvc and snapshots its lock entry', () => {
    expect(t('dvc-train@cnn').options.command).toBe(
      'node cli.js run --dvc-yaml dvc.yaml --stage train@cnn --dvc .venv/bin/dvc --snapshot .dvc/tmp/nx-stages/train@cnn.lock.json',
    );
    expect(t('dvc-prepare').parallelism).toBe(false);
  });

  it('keys committed code by its files and raw data by its .dvc pointer (never the gitignored data)', () => {
    const inputs = t('dvc-prepare').inputs;
    expect(inputs).toContain('{workspaceRoot}/apps/prepare/src/**/*');
    expect(inputs).toContain('{workspaceRoot}/libs/data-prep/src/**/*');
    expect(inputs).toContain('{workspaceRoot}/data/raw/flights.parquet.dvc');
    expect(inputs).not.toContain('{workspaceRoot}/data/raw/flights.parquet');
    expect(t('dvc-prepare').dependsOn).toEqual([]);
  });

  it('keys upstream outs by the upstream task outputs and depends on that task', () => {
    const featurize = t('dvc-featurize');
    expect(featurize.dependsOn).toEqual(['dvc-prepare']);
    expect(featurize.inputs).toContainEqual({ dependentTasksOutputFiles: 'data/prepared/data.parquet' });
    // only the prepared data, not the metrics file prepare also writes
    expect(JSON.stringify(featurize.inputs)).not.toContain('data_quality');
    // a file inside an upstream out folder (train reads data/features/train.parquet of featurize)
    expect(t('dvc-train@mlp').dependsOn).toEqual(['dvc-featurize']);
    expect(t('dvc-train@mlp').inputs).toContainEqual({ dependentTasksOutputFiles: 'data/features/train.parquet' });
  });

  it('hashes params through the fingerprint command and ignored, unpointed deps by content', () => {
    const runtime = t('dvc-featurize').inputs.find((i): i is { runtime: string } => typeof i === 'object' && 'runtime' in i);
    expect(runtime?.runtime).toBe('node cli.js fingerprint --dvc-yaml dvc.yaml --stage featurize --hash node_modules/some-pkg/file.bin');
    expect(t('dvc-featurize').inputs).toContainEqual({ externalDependencies: [] });
  });

  it('caches outs, metrics, plots and the lock snapshot; never caches always_changed stages', () => {
    expect(t('dvc-prepare').outputs).toEqual([
      '{workspaceRoot}/data/prepared/data.parquet',
      '{workspaceRoot}/metrics/data_quality.json',
      '{workspaceRoot}/.dvc/tmp/nx-stages/prepare.lock.json',
    ]);
    expect(t('dvc-check@small').outputs).toContain('{workspaceRoot}/checks/small.csv');
    expect(t('dvc-check@small').cache).toBe(false);
    expect(t('dvc-prepare').cache).toBe(true);
  });

  it('prefixes paths of a nested dvc.yaml with its folder and depends across projects', () => {
    const sub = resolveDvcYaml('stages:\n  use:\n    cmd: echo\n    deps: [../data/features/test.parquet]\n    outs: [r.txt]\n', {
      readFile: () => undefined,
    });
    const nested = stageTargets({
      project: 'pipeline-reports',
      projectRoot: 'reports',
      stages: sub,
      facts: { outs, exists: () => false, isIgnored: () => false },
      targetName,
      cli: 'node cli.js',
      dvcBin: 'dvc',
      snapshotPath: (s) => `.dvc/tmp/nx-stages/reports/${s}.lock.json`,
    });
    expect(nested['dvc-use']?.dependsOn).toEqual([{ projects: ['pipeline'], target: 'dvc-featurize' }]);
    expect(nested['dvc-use']?.outputs[0]).toBe('{workspaceRoot}/reports/r.txt');
  });
});

describe('classifyDep', () => {
  it('prefers upstream outs, then the nearest .dvc pointer of the path or a parent folder, then git ignore', () => {
    const facts = {
      outs: [{ path: 'out/x', project: 'p', target: 'dvc-x', stage: 'x' }],
      exists: (p: string) => p === 'data/raw.dvc',
      isIgnored: (p: string) => p === 'cache/y',
    };
    expect(classifyDep('out/x/part.csv', { project: 'p', stage: 'z' }, facts).kind).toBe('upstream');
    expect(classifyDep('out/x', { project: 'p', stage: 'x' }, facts).kind).toBe('committed');
    expect(classifyDep('data/raw/a.csv', { project: 'p', stage: 'z' }, facts)).toEqual({ kind: 'pointer', pointer: 'data/raw.dvc' });
    expect(classifyDep('cache/y', { project: 'p', stage: 'z' }, facts).kind).toBe('ignored');
  });
});

describe('mergeLockEntry', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dvc-nx-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replaces one stage, keeps the others, and writes nothing when the entry already matches', async () => {
    const lock = join(dir, 'dvc.lock');
    await writeFile(
      lock,
      "schema: '2.0'\nstages:\n  a:\n    cmd: echo a\n    outs:\n    - path: a.txt\n      md5: aaa\n  b:\n    cmd: echo b\n    params:\n      params.yaml:\n        b.k: 1\n",
    );
    const entry = { cmd: 'echo b', params: { 'params.yaml': { 'b.k': 2 } }, outs: [{ path: 'b.txt', md5: 'bbb' }] };
    expect(await mergeLockEntry(lock, 'b', entry)).toBe(true);
    const doc = parseYaml(await readFile(lock, 'utf8')) as { schema: string; stages: Record<string, unknown> };
    expect(doc.schema).toBe('2.0');
    expect(doc.stages['b']).toEqual(entry);
    expect(doc.stages['a']).toEqual({ cmd: 'echo a', outs: [{ path: 'a.txt', md5: 'aaa' }] });
    expect(await mergeLockEntry(lock, 'b', entry)).toBe(false);
  });

  it('creates dvc.lock when there is none', async () => {
    const lock = join(dir, 'dvc.lock');
    expect(await mergeLockEntry(lock, 's', { cmd: 'x' })).toBe(true);
    expect(parseYaml(await readFile(lock, 'utf8'))).toEqual({ schema: '2.0', stages: { s: { cmd: 'x' } } });
  });
});
