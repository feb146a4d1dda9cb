/**
 * Two agreements between DVC and the Nx targets derived from dvc.yaml, in a temp git + DVC + Nx workspace (real dvc
 * from the project venv, real Nx 22, this plugin):
 * - `.dvcignore`: a stage's code dep folder holds a test file DVC ignores; editing it leaves `dvc status` clean and
 *   the Nx task a cache hit, editing the code makes both see the stage as changed.
 * - the git index after an Nx cache restore: with `core.autostage` (DVC stages dvc.lock after every repro), a restore
 *   that rewrites dvc.lock stages it too, so git's index never keeps the lock of other params (`MM dvc.lock`).
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ROOT } from './helpers.js';
import { createNxDvcWorkspace, nxCacheHits, type NxDvcWorkspace } from './nx-workspace.js';

// stage `build`: code in src/ (main.cjs reads params.yaml's build.n), writes out/result.txt
const DVC_YAML = `stages:
  build:
    cmd: node src/main.cjs
    deps: [src]
    params: [build.n]
    outs: [out/result.txt]
`;
const MAIN = (suffix: string) =>
  `const fs = require('fs');\nconst n = /n: (\\d+)/.exec(fs.readFileSync('params.yaml', 'utf8'))[1];\n` +
  `fs.mkdirSync('out', { recursive: true });\nfs.writeFileSync('out/result.txt', 'n=' + n + '${suffix}\\n');\n`;

let w: NxDvcWorkspace;
let ws: string;
const dvc = (...args: string[]): Promise<string> => w.dvc(...args);
const nx = (...args: string[]): Promise<string> => w.nx(...args);
const git = (...args: string[]): Promise<string> => w.git(...args);
const dvcStatus = (): Promise<Record<string, unknown>> => w.dvcStatus();

/** Whether Nx took pipeline:dvc-build from its cache in this `nx run` output. */
function fromCache(output: string): boolean {
  const hit = nxCacheHits(output)['dvc-build'];
  if (hit === undefined) throw new Error(`no task line in:\n${output}`);
  return hit;
}
const setN = (n: number) => writeFile(join(ws, 'params.yaml'), `build:\n  n: ${n}\n`);
const lockN = async (text: string) =>
  (parseYaml(text) as { stages: { build: { params: { 'params.yaml': Record<string, number> } } } }).stages.build.params['params.yaml']['build.n'];

beforeAll(async () => {
  w = await createNxDvcWorkspace({
    prefix: 'dvc-nx-ignore',
    files: { 'src/main.cjs': MAIN(''), 'src/main.test.ts': "test('x', () => {});\n", 'src/nested/deep.test.ts': '// nested test\n', 'dvc.yaml': DVC_YAML },
  });
  ws = w.dir;
  await setN(1);
  await dvc('config', 'core.autostage', 'true');
  // the project's own .dvcignore rule
  await writeFile(join(ws, '.dvcignore'), await readFile(join(ROOT, '.dvcignore'), 'utf8'));
  await git('add', '-A');
  await git('commit', '-qm', 'fixture');
}, 120_000);

afterAll(async () => {
  await w?.remove();
});

describe('.dvcignore applies to DVC and to the Nx hash alike', () => {
  it('the first run executes the stage; DVC is clean after it', async () => {
    const out = await nx('run', 'pipeline:dvc-build');
    expect(fromCache(out)).toBe(false);
    expect(out).toMatch(/Running stage 'build'/);
    expect(await dvcStatus()).toEqual({});
    await git('add', '-A');
    await git('commit', '-qm', 'ran build');
  });

  it('editing test files under the dep folder: dvc status clean, Nx task from its cache', async () => {
    await writeFile(join(ws, 'src/main.test.ts'), "test('y', () => { expect(1).toBe(1); });\n");
    await writeFile(join(ws, 'src/nested/deep.test.ts'), '// edited\n');
    await writeFile(join(ws, 'src/nested/new.test.ts'), '// added\n');
    expect(await dvcStatus()).toEqual({});
    const out = await nx('run', 'pipeline:dvc-build');
    expect(fromCache(out)).toBe(true); // (its replayed log holds the first run's "Running stage" line)
  });

  it('editing the code under the dep folder: DVC sees the stage changed, Nx runs it', async () => {
    await writeFile(join(ws, 'src/main.cjs'), MAIN(' (v2)'));
    expect(await dvcStatus()).toEqual({ build: [{ 'changed deps': { src: 'modified' } }] });
    const out = await nx('run', 'pipeline:dvc-build');
    expect(fromCache(out)).toBe(false);
    expect(out).toMatch(/Running stage 'build'/);
    expect(await readFile(join(ws, 'out/result.txt'), 'utf8')).toBe('n=1 (v2)\n');
    expect(await dvcStatus()).toEqual({});
    await git('add', '-A');
    await git('commit', '-qm', 'v2');
  });
});

describe('the git index after an Nx cache restore', () => {
  it('a restore that rewrites dvc.lock stages it when DVC autostages, so the index agrees with the working tree', async () => {
    // n=2 runs (DVC autostages the lock for n=2), then n=1 again comes from the Nx cache (the v2 run above).
    await setN(2);
    expect(fromCache(await nx('run', 'pipeline:dvc-build'))).toBe(false);
    expect(await lockN(await git('show', ':dvc.lock'))).toBe(2); // what DVC staged
    await setN(1);
    const out = await nx('run', 'pipeline:dvc-build');
    expect(fromCache(out)).toBe(true);
    expect(await readFile(join(ws, 'out/result.txt'), 'utf8')).toBe('n=1 (v2)\n');
    expect(await lockN(await readFile(join(ws, 'dvc.lock'), 'utf8'))).toBe(1);
    expect(await dvcStatus()).toEqual({});
    // index == working tree == HEAD for dvc.lock: no `MM dvc.lock`, and a plain commit records the right lock
    expect(await lockN(await git('show', ':dvc.lock'))).toBe(1);
    expect(await git('status', '--porcelain', '--', 'dvc.lock')).toBe('');
  });

  it('without autostage a restore leaves an index that matched HEAD alone (as DVC does)', async () => {
    await dvc('config', 'core.autostage', 'false');
    await git('commit', '-qam', 'autostage off');
    await setN(2);
    expect(fromCache(await nx('run', 'pipeline:dvc-build'))).toBe(true); // n=2 ran in the test above
    expect(await lockN(await readFile(join(ws, 'dvc.lock'), 'utf8'))).toBe(2);
    expect(await git('status', '--porcelain', '--', 'dvc.lock')).toBe(' M dvc.lock');
    expect(existsSync(join(ws, 'out/result.txt'))).toBe(true);
    expect(await dvcStatus()).toEqual({});
  });

  it('without autostage, an index that already held another lock gets the restored one', async () => {
    await git('add', 'dvc.lock'); // the n=2 lock staged by hand; HEAD has n=1
    expect(await git('status', '--porcelain', '--', 'dvc.lock')).toBe('M  dvc.lock');
    await setN(1);
    expect(fromCache(await nx('run', 'pipeline:dvc-build'))).toBe(true);
    expect(await lockN(await git('show', ':dvc.lock'))).toBe(1);
    expect(await git('status', '--porcelain', '--', 'dvc.lock')).toBe('');
    expect(await dvcStatus()).toEqual({});
  });
});
