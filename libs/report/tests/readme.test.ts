import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const lib = join(import.meta.dirname, '..');

it('the README example runs and prints its conclusions', () => {
  const readme = readFileSync(join(lib, 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
  // Inside the package folder, so `@mlops-ts/report` resolves as it does for a user of the workspace.
  const dir = mkdtempSync(join(lib, '.readme-'));
  try {
    const file = join(dir, 'example.ts');
    writeFileSync(file, code);
    const out = execFileSync(process.execPath, ['--conditions=@mlops-ts/source', '--import', 'tsx', file], { cwd: lib, encoding: 'utf8', timeout: 60_000 });
    expect(out).toMatch(/^best: /m);
    expect(out).toMatch(/^difference:logreg:mlp: /m);
    expect(out).toMatch(/^fit:logreg: /m);
    expect(out).toMatch(/open .*report\.html; \d+ PNGs/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
