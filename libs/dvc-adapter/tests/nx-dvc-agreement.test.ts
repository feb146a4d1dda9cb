/**
 * Nx and DVC agree about a pipeline: a temp git repo with a 3-stage DVC pipeline (node -e commands, seconds to run)
 * and a minimal Nx workspace whose nx.json lists this plugin. Real dvc (project venv) and real Nx 22.
 *   a: data/raw.txt (dvc add'ed) → out/a.txt         params a.n (through ${} templating)
 *   b: out/a.txt → out/b.txt                          params b.factor
 *   c: out/b.txt → metrics/c.json (metric, no cache)  params c
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { createDvcNodes } from '../src/nx-plugin.js';
import { createNxDvcWorkspace, nxCacheHits as cacheHits, type NxDvcWorkspace } from './nx-workspace.js';

const DVC_YAML = `stages:
  a:
    cmd: node -e "const fs=require('fs');fs.mkdirSync('out',{recursive:true});fs.writeFileSync('out/a.txt',fs.readFileSync('data/raw.txt','utf8').repeat(\${a.n}))"
    deps: [data/raw.txt]
    outs: [out/a.txt]
  b:
    cmd: node -e "const fs=require('fs');const p=require('yaml').parse(fs.readFileSync('params.yaml','utf8'));fs.writeFileSync('out/b.txt',String(fs.readFileSync('out/a.txt','utf8').length*p.b.factor))"
    deps: [out/a.txt]
    params: [b.factor]
    outs: [out/b.txt]
  c:
    cmd: node -e "const fs=require('fs');fs.mkdirSync('metrics',{recursive:true});fs.writeFileSync('metrics/c.json',JSON.stringify({value:Number(fs.readFileSync('out/b.txt','utf8'))}))"
    deps: [out/b.txt]
    params: [c]
    metrics: [{metrics/c.json: {cache: false}}]
`;

let w: NxDvcWorkspace;
let ws: string;
const dvc = (...args: string[]): Promise<string> => w.dvc(...args);
const nx = (...args: string[]): Promise<string> => w.nx(...args);
const dvcStatus = (): Promise<Record<string, unknown>> => w.dvcStatus();

async function cacheEntries(): Promise<Set<string>> {
  const dir = join(ws, '.nx/cache');
  if (!existsSync(dir)) return new Set();
  return new Set((await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && /^\d+$/.test(e.name)).map((e) => e.name));
}

async function setFactor(n: number): Promise<void> {
  await writeFile(join(ws, 'params.yaml'), `a: { n: 3 }\nb: { factor: ${n} }\nc: { label: total }\n`);
}

beforeAll(async () => {
  w = await createNxDvcWorkspace({ prefix: 'dvc-nx', files: { 'data/raw.txt': 'hello\n', 'dvc.yaml': DVC_YAML } });
  ws = w.dir;
  await setFactor(2);
  await dvc('add', '-q', 'data/raw.txt');
  await w.git('add', '-A');
  await w.git('commit', '-qm', 'fixture');
});

afterAll(async () => {
  await w?.remove();
});

describe('Nx targets derived from dvc.yaml agree with DVC', () => {
  it('derives the targets from the real files: pointer for DVC-tracked data, upstream outputs for stage outs', async () => {
    const [[file, result] = ['', {}]] = await createDvcNodes(['dvc.yaml'], { projectName: 'pipeline' }, { workspaceRoot: ws });
    expect(file).toBe('dvc.yaml');
    const targets = result.projects?.['.']?.targets ?? {};
    expect(Object.keys(targets)).toEqual(['dvc-a', 'dvc-b', 'dvc-c']);
    expect(targets['dvc-a']?.inputs).toContain('{workspaceRoot}/data/raw.txt.dvc');
    expect(JSON.stringify(targets['dvc-a']?.inputs)).not.toContain('"{workspaceRoot}/data/raw.txt"');
    expect(targets['dvc-b']?.dependsOn).toEqual(['dvc-a']);
    expect(targets['dvc-b']?.options.command).toContain('--dvc .venv/bin/dvc');
    expect(targets['dvc-c']?.outputs).toContain('{workspaceRoot}/metrics/c.json');
  });

  it('after dvc repro, a second repro is a no-op and dvc status is clean', async () => {
    const first = await dvc('repro');
    expect(first).toMatch(/Running stage 'a'/);
    expect(first).toMatch(/Running stage 'c'/);
    const second = await dvc('repro');
    expect(second).not.toMatch(/Running stage/);
    expect(second).toMatch(/Stage 'b' didn't change, skipping/);
    expect(await dvcStatus()).toEqual({});
  });

  let firstEntries: Set<string>;
  let firstB: string;

  it('Nx runs every stage once (three cache entries) and DVC stays clean', async () => {
    const out1 = await nx('run', 'pipeline:dvc-c');
    expect(cacheHits(out1)).toEqual({ 'dvc-a': false, 'dvc-b': false, 'dvc-c': false });
    firstEntries = await cacheEntries();
    expect(firstEntries.size).toBe(3);
    expect(await dvcStatus()).toEqual({});
    firstB = await readFile(join(ws, 'out/b.txt'), 'utf8');
    expect(firstB).toBe(String('hello\n'.length * 3 * 2));
  });

  it('a param of the middle stage makes DVC and Nx see it and what follows as stale, not what precedes', async () => {
    await setFactor(5);
    const status = await dvcStatus();
    expect(Object.keys(status)).toEqual(['b']);
    expect(JSON.stringify(status['b'])).toContain('b.factor');

    const out = await nx('run', 'pipeline:dvc-c');
    // Nx: a from cache (same hash), b and c run (new hashes: two new cache entries, the old three kept)
    expect(cacheHits(out)).toEqual({ 'dvc-a': true, 'dvc-b': false, 'dvc-c': false });
    const entries = await cacheEntries();
    const added = [...entries].filter((e) => !firstEntries.has(e));
    expect(added).toHaveLength(2);
    expect([...firstEntries].every((e) => entries.has(e))).toBe(true);
    // DVC, run by those targets, re-ran b and c as well: c's dep (b's out) changed
    expect(out).toMatch(/Running stage 'b'/);
    expect(out).toMatch(/Running stage 'c'/);
    expect(out).not.toMatch(/Running stage 'a'/);
    expect(await readFile(join(ws, 'out/b.txt'), 'utf8')).toBe(String('hello\n'.length * 3 * 5));
    expect(await dvcStatus()).toEqual({});
  });

  it('restoring stages from the Nx cache leaves dvc status clean (dvc.lock put back in agreement)', async () => {
    // Back to the first value: b comes from its first cache entry while dvc.lock still describes factor 5;
    // c's outs are deleted on top, so its restore has to bring files back as well.
    await setFactor(2);
    await rm(join(ws, 'metrics/c.json'));
    expect(Object.keys(await dvcStatus()).sort()).toEqual(['b', 'c']);
    const out = await nx('run', 'pipeline:dvc-c');
    expect(cacheHits(out)).toEqual({ 'dvc-a': true, 'dvc-b': true, 'dvc-c': true });
    expect(out).not.toMatch(/Running stage/);
    expect(await cacheEntries()).toHaveProperty('size', 5);
    expect(await readFile(join(ws, 'out/b.txt'), 'utf8')).toBe(firstB);
    expect(JSON.parse(await readFile(join(ws, 'metrics/c.json'), 'utf8'))).toEqual({ value: Number(firstB) });
    const lock = parseYaml(await readFile(join(ws, 'dvc.lock'), 'utf8')) as {
      stages: Record<string, { params?: Record<string, Record<string, unknown>> }>;
    };
    expect(lock.stages['b']?.params?.['params.yaml']?.['b.factor']).toBe(2);
    expect(await dvcStatus()).toEqual({});
    const repro = await dvc('repro');
    expect(repro).not.toMatch(/Running stage/);
    // the restored outs are in DVC's cache too (dvc commit after the restore), so dvc push would have them
    const dataStatus = JSON.parse(await dvc('data', 'status', '--json')) as { not_in_cache?: string[] };
    expect(dataStatus.not_in_cache ?? []).toEqual([]);
  });
});
