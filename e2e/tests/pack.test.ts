// Each library is packed with `npm pack` and installed from its tarball into a scratch project outside the
// workspace — the way another repository uses it — then the example in its README is run there.
import { execa } from 'execa';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const venvBin = join(root, '.venv/bin');

interface PackedLib {
  name: string;
  dir: string;
  tarball: string;
}

/** The first ```ts block under the README's "## Example" heading. */
export function readmeExample(readme: string): string | undefined {
  const section = readme.split(/^## /m).find((s) => /^Example\b/i.test(s));
  return section?.match(/```(?:ts|typescript)\n([\s\S]*?)```/)?.[1];
}

let scratch: string;
let packDir: string;
const libs: PackedLib[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mlops-pack-consumer-'));
  packDir = await mkdtemp(join(tmpdir(), 'mlops-pack-tarballs-'));
  for (const entry of (await readdir(join(root, 'libs'))).sort()) {
    const dir = join(root, 'libs', entry);
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name: string };
    await execa('npx', ['tsc', '--build', 'tsconfig.lib.json'], { cwd: dir });
    const { stdout } = await execa('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: dir });
    const [info] = JSON.parse(stdout) as { filename: string }[];
    libs.push({ name: pkg.name, dir, tarball: join(packDir, info!.filename) });
  }
  await writeFile(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch-consumer', private: true, type: 'module' }));
  // Libraries depend on each other by version range; installing every tarball at once satisfies those from the
  // tarballs. nodejs-polars declares node >= 22 on its platform packages, so npm skips the optional binary on
  // Node 20: a consumer lists it explicitly (see libs/data-prep/README.md).
  const rootPkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const extras = [`tsx@${rootPkg.devDependencies['tsx']}`, `nodejs-polars-linux-x64-gnu@${rootPkg.devDependencies['nodejs-polars-linux-x64-gnu']}`];
  await execa('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...libs.map((l) => l.tarball), ...extras], { cwd: scratch });
}, 600_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
  await rm(packDir, { recursive: true, force: true });
});

test('every library packs its built code and README, and nothing of the workspace', async () => {
  expect(libs.length).toBeGreaterThanOrEqual(5);
  for (const lib of libs) {
    const { stdout } = await execa('tar', ['-tzf', lib.tarball]);
    const files = stdout.split('\n');
    expect(files, lib.name).toContain('package/dist/index.js');
    expect(files, lib.name).toContain('package/dist/index.d.ts');
    expect(files, lib.name).toContain('package/README.md');
    expect(files.filter((f) => f.startsWith('package/src/') || f.includes('.test.')), lib.name).toEqual([]);
  }
});

test('every library imports from the scratch project by its package name', async () => {
  for (const lib of libs) {
    const script = `const m = await import(${JSON.stringify(lib.name)}); console.log(JSON.stringify(Object.keys(m)));`;
    const { stdout } = await execa('node', ['--input-type=module', '-e', script], { cwd: scratch });
    const names = JSON.parse(stdout) as string[];
    expect(names.length, `${lib.name} exports`).toBeGreaterThan(0);
  }
});

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
      env: { PATH: `${venvBin}:${process.env['PATH']}` },
    });
    expect(run.exitCode, `${lib.name} README example failed:\n${run.stdout}\n${run.stderr}`).toBe(0);
  }
}, 900_000);
