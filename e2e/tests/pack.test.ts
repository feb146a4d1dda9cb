// Each library is packed with `npm pack` from a clean copy of the workspace (its git files, no dist/: the build must
// come from the package's own `prepack`) and installed from its tarball into a scratch project outside the
// workspace — the way another repository uses it — then the example in its README is run there.
import { execa } from 'execa';
import { inject } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { copyWorkspaceFiles } from './workspace-copy.js';
import { clearmlSdkEnv } from '../../tools/testing/clearml-server.js';

const root = resolve(import.meta.dirname, '../..');
const venvBin = join(root, '.venv/bin');

interface PackedLib {
  name: string;
  /** The library's folder in the clean copy. */
  dir: string;
  tarball: string;
  files: string[];
}

/** The first ```ts block under the README's "## Example" heading. */
export function readmeExample(readme: string): string | undefined {
  const section = readme.split(/^## /m).find((s) => /^Example\b/i.test(s));
  return section?.match(/```(?:ts|typescript)\n([\s\S]*?)```/)?.[1];
}

/**
 * A copy of the workspace as a fresh clone has it: the files git tracks plus new unignored ones (so uncommitted work
 * is tested too), no build output. node_modules links to the workspace's installed packages, except the workspace's
 * own packages, which link to the copy's folders.
 */
async function cleanCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mlops-pack-clean-'));
  await copyWorkspaceFiles(dir);
  await mkdir(join(dir, 'node_modules/@mlops-ts'), { recursive: true });
  for (const entry of await readdir(join(root, 'node_modules'))) {
    if (entry !== '@mlops-ts') await symlink(join(root, 'node_modules', entry), join(dir, 'node_modules', entry));
  }
  const rootPkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { workspaces: string[] };
  for (const pattern of rootPkg.workspaces) {
    const parent = pattern.replace(/\/\*$/, '');
    const folders = pattern.endsWith('/*') ? (await readdir(join(dir, parent))).map((f) => posix.join(parent, f)) : [parent];
    for (const folder of folders) {
      if (!existsSync(join(dir, folder, 'package.json'))) continue;
      const { name } = JSON.parse(await readFile(join(dir, folder, 'package.json'), 'utf8')) as { name: string };
      await symlink(join(dir, folder), join(dir, 'node_modules', name));
      // packages npm could not hoist (another version at the root) stay in the package's own node_modules
      if (existsSync(join(root, folder, 'node_modules'))) await symlink(join(root, folder, 'node_modules'), join(dir, folder, 'node_modules'));
    }
  }
  return dir;
}

let clean: string;
let scratch: string;
let packDir: string;
const libs: PackedLib[] = [];

beforeAll(async () => {
  clean = await cleanCopy();
  scratch = await mkdtemp(join(tmpdir(), 'mlops-pack-consumer-'));
  packDir = await mkdtemp(join(tmpdir(), 'mlops-pack-tarballs-'));
  const entries = (await readdir(join(clean, 'libs'))).sort().filter((entry) => existsSync(join(clean, 'libs', entry, 'package.json')));
  // All checked before any pack: a library's prepack (tsc --build) also builds the libraries it references.
  for (const entry of entries) expect(existsSync(join(clean, 'libs', entry, 'dist')), `${entry}: the clean copy has no build output`).toBe(false);
  for (const entry of entries) {
    const dir = join(clean, 'libs', entry);
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name: string };
    const { stdout } = await execa('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: dir });
    const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    libs.push({ name: pkg.name, dir, tarball: join(packDir, info!.filename), files: info!.files.map((f) => f.path).sort() });
  }
  await writeFile(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch-consumer', private: true, type: 'module' }));
  // Libraries depend on each other by version range; installing every tarball at once satisfies those from the
  // tarballs. nodejs-polars declares node >= 22 on its platform packages, so npm skips the optional binary on
  // Node 20: a consumer lists it explicitly (see libs/data-prep/README.md).
  const rootPkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const extras = [`tsx@${rootPkg.devDependencies['tsx']}`, `nodejs-polars-linux-x64-gnu@${rootPkg.devDependencies['nodejs-polars-linux-x64-gnu']}`];
  await execa('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...libs.map((l) => l.tarball), ...extras], { cwd: scratch });
}, 900_000);

afterAll(async () => {
  if (clean) await rm(clean, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
  await rm(packDir, { recursive: true, force: true });
});

test('every library packs the code its prepack built, its README, and the sources its maps point to', async () => {
  expect(libs.map((l) => l.name)).toEqual(expect.arrayContaining(['@mlops-ts/dvc-adapter', '@mlops-ts/mlflow-client', '@mlops-ts/tracking']));
  expect(libs.length).toBe((await readdir(join(root, 'libs'))).filter((d) => existsSync(join(root, 'libs', d, 'package.json'))).length);
  for (const lib of libs) {
    const { stdout } = await execa('tar', ['-tzf', lib.tarball]);
    const files = stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    expect(files.sort(), lib.name).toEqual(lib.files); // what npm reported is what the tarball holds
    for (const f of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts']) expect(files, lib.name).toContain(f);
    expect(files.filter((f) => f.includes('.test.') || f.endsWith('.tsbuildinfo') || f.startsWith('tests/')), lib.name).toEqual([]);
    // every source map (.js.map, .d.ts.map) points at files the package ships
    const maps = files.filter((f) => f.endsWith('.map'));
    expect(maps.length, lib.name).toBeGreaterThanOrEqual(2);
    for (const map of maps) {
      const { sources } = JSON.parse(await readFile(join(lib.dir, map), 'utf8')) as { sources: string[] };
      for (const source of sources) expect(files, `${lib.name}: ${map} → ${source}`).toContain(posix.join(posix.dirname(map), source));
    }
  }
});

test('every library exports from its tarball exactly what its source exports', async () => {
  for (const lib of libs) {
    const script = `const m = await import(${JSON.stringify(lib.name)}); console.log(JSON.stringify(Object.keys(m).sort()));`;
    const { stdout } = await execa('node', ['--input-type=module', '-e', script], { cwd: scratch });
    const packed = JSON.parse(stdout) as string[];
    // this test runs with the workspace's @mlops-ts/source condition: the import below is the TypeScript source
    const source = Object.keys((await import(lib.name)) as object).sort();
    expect(packed, `${lib.name} exports`).toEqual(source);
  }
});

/** The test server's settings for the ClearML client's example (the fixture fails the suite under CI=true when there is none). */
function clearmlEnv(): Record<string, string> {
  const server = inject('clearml');
  if (!server.available) throw new Error(`@mlops-ts/clearml-client's README example needs a ClearML server: ${server.reason}`);
  return clearmlSdkEnv(server, scratch);
}

test("every library's README example runs in the scratch project", async () => {
  for (const lib of libs) {
    const readme = await readFile(join(lib.dir, 'README.md'), 'utf8');
    const example = readmeExample(readme);
    expect(example, `${lib.name}: README.md needs a \`\`\`ts block under "## Example"`).toBeTruthy();
    const file = join(scratch, `example-${lib.name.split('/')[1]}.ts`);
    await writeFile(file, example!);
    const run = await execa('npx', ['tsx', file], {
      cwd: scratch,
      reject: false,
      timeout: 180_000,
      // The ClearML client's example talks to a server: the suite's (tools/testing/clearml-server.ts), never ~/clearml.conf.
      env: { PATH: `${venvBin}:${process.env['PATH']}`, ...(lib.name === '@mlops-ts/clearml-client' ? clearmlEnv() : {}) },
    });
    expect(run.exitCode, `${lib.name} README example failed:\n${run.stdout}\n${run.stderr}`).toBe(0);
  }
}, 900_000);
