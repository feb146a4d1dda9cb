// Temporary git + DVC repositories for the integration tests (real dvc CLI from the project venv).
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createDvc, type CreateDvcOptions, type Dvc } from '../src/index.js';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const DVC_BIN = join(ROOT, '.venv/bin/dvc');

export interface TempRepo {
  dir: string;
  dvc: Dvc;
  git(...args: string[]): Promise<string>;
  write(file: string, content: string | Uint8Array): Promise<void>;
  cleanup(): Promise<void>;
}

/** `git init` + `dvc init` in a fresh temp dir, with a first commit. */
export async function makeRepo(prefix: string, options: Partial<CreateDvcOptions> = {}): Promise<TempRepo> {
  const dir = await mkdtemp(join(tmpdir(), `dvc-adapter-${prefix}-`));
  const git = async (...args: string[]) => (await execa('git', args, { cwd: dir })).stdout;
  await git('init', '-q', '-b', 'main');
  await git('config', 'user.email', 'tests@example.invalid');
  await git('config', 'user.name', 'dvc-adapter tests');
  await git('config', 'commit.gpgsign', 'false');
  const dvc = createDvc({ cwd: dir, dvcBin: DVC_BIN, ...options });
  await dvc.init();
  await git('add', '-A');
  await git('commit', '-q', '-m', 'init');
  return {
    dir,
    dvc,
    git,
    write: (file, content) => writeFile(join(dir, file), content),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A small pipeline: prep copies data.txt, train writes metrics.json and plot.csv from params.yaml. */
export async function writePipeline(repo: TempRepo): Promise<void> {
  await repo.write('data.txt', 'a,b\n1,2\n3,4\n');
  await repo.write('params.yaml', 'train:\n  lr: 0.1\n  epochs: 2\n');
  await repo.write(
    'train.mjs',
    [
      "import { readFileSync, writeFileSync } from 'node:fs';",
      "const lr = Number(/lr:\\s*([\\d.]+)/.exec(readFileSync('params.yaml', 'utf8'))[1]);",
      "readFileSync('prepped.txt');",
      "writeFileSync('metrics.json', JSON.stringify({ acc: Math.round(lr * 200) / 100, loss: Math.round((1 - lr) * 100) / 100 }));",
      "writeFileSync('plot.csv', 'step,loss\\n0,1\\n1,' + (1 - lr).toFixed(2) + '\\n');",
    ].join('\n') + '\n',
  );
  await repo.write(
    'dvc.yaml',
    [
      'stages:',
      '  prep:',
      '    cmd: node -e "require(\'fs\').copyFileSync(\'data.txt\', \'prepped.txt\')"',
      '    deps: [data.txt]',
      '    outs: [prepped.txt]',
      '  train:',
      '    cmd: node train.mjs',
      '    deps: [prepped.txt, train.mjs]',
      '    params: [train.lr, train.epochs]',
      '    metrics:',
      '    - metrics.json:',
      '        cache: false',
      '    plots:',
      '    - plot.csv:',
      '        cache: false',
      '        x: step',
      '        y: loss',
      '',
    ].join('\n'),
  );
}
