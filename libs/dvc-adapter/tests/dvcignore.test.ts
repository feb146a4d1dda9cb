// The .dvcignore reading the Nx fingerprint uses agrees with DVC itself: `dvc check-ignore` (real dvc, project venv)
// is the oracle over a tree with root and nested .dvcignore files, negations, anchored and folder-only rules.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { stageTargets } from '../src/nx-plugin.js';
import { DvcIgnore, parseDvcignore } from '../src/nx/dvcignore.js';
import { DVC_BIN, makeRepo, type TempRepo } from './helpers.js';

let repo: TempRepo;
const FILES = [
  'src/main.ts', 'src/main.test.ts', 'src/deep/x.test.ts', 'src/deep/keep.test.ts', 'src/deep/y.ts',
  'src/build/out.js', 'build/top.js', 'docs/notes.md', 'docs/a/b/notes.md', 'lib/sub/local.tmp', 'lib/sub/ok.ts',
  'lib/other.tmp', 'data[1].csv', 'weird name.ts',
];
beforeAll(async () => {
  repo = await makeRepo('dvcignore');
  for (const f of FILES) {
    await mkdir(join(repo.dir, dirname(f)), { recursive: true });
    await writeFile(join(repo.dir, f), f);
  }
  await writeFile(join(repo.dir, '.dvcignore'), '# comment\n*.test.ts\n!keep.test.ts\n/build/\ndocs/**/notes.md\ndata\\[1\\].csv\n');
  await writeFile(join(repo.dir, 'lib/sub/.dvcignore'), '*.tmp\n');
});
afterAll(() => repo?.cleanup());

test('every file of the tree is ignored exactly when dvc check-ignore says so', async () => {
  const r = await execa(DVC_BIN, ['check-ignore', ...FILES], { cwd: repo.dir, reject: false });
  const dvcIgnored = new Set(r.stdout.split('\n').filter(Boolean));
  // a few facts, so that the oracle itself is checked
  expect(dvcIgnored.has('src/main.test.ts')).toBe(true);
  expect(dvcIgnored.has('src/deep/keep.test.ts')).toBe(false);
  expect(dvcIgnored.has('lib/sub/local.tmp')).toBe(true);
  expect(dvcIgnored.has('lib/other.tmp')).toBe(false);
  const ignore = await DvcIgnore.load(repo.dir);
  const ours = new Set<string>();
  for (const f of FILES) if (await ignore.ignores(f, false)) ours.add(f);
  expect([...ours].sort()).toEqual([...dvcIgnored].sort());
  expect(await ignore.files('src')).toEqual(['build/out.js', 'deep/keep.test.ts', 'deep/y.ts', 'main.ts']); // /build/ is anchored at the root
  expect(await ignore.files('')).toEqual(FILES.filter((f) => !dvcIgnored.has(f)).concat('.dvcignore', 'lib/sub/.dvcignore').sort());
});

test('parseDvcignore skips comments and blank lines and keeps negations', () => {
  const rules = parseDvcignore('# c\n\n*.log\n!keep.log\nout/\n', '');
  expect(rules.map((r) => [r.negate, r.dirOnly])).toEqual([[false, false], [true, false], [false, true]]);
});

test('with .dvcignore rules, committed code deps are hashed by the fingerprint (which applies them), not by Nx globs', () => {
  const base = {
    project: 'pipeline',
    projectRoot: '',
    stages: [{ name: 's', group: 's', cmd: 'x', wdir: '', deps: ['src'], outs: [], params: [], alwaysChanged: false, frozen: false }],
    facts: { outs: [], exists: () => false, isIgnored: () => false },
    targetName: (s: string) => `dvc-${s}`,
    cli: 'cli',
    dvcBin: 'dvc',
    snapshotPath: (s: string) => `.dvc/tmp/${s}.json`,
  } satisfies Parameters<typeof stageTargets>[0];
  const plain = stageTargets(base)['dvc-s']!.inputs;
  expect(plain).toContain('{workspaceRoot}/src/**/*');
  const ignored = stageTargets({ ...base, dvcignore: true })['dvc-s']!.inputs;
  expect(ignored.filter((i) => typeof i === 'string')).toEqual([]);
  expect(ignored).toContainEqual({ runtime: 'cli fingerprint --dvc-yaml dvc.yaml --stage s --hash src' });
});
