import { execa } from 'execa';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { clearmlSdkEnv, repoRoot } from '../../../tools/testing/clearml-server.js';
import { ClearmlClient } from '../src/index.js';
import { hasServer, serverInfo, testConfig } from './helpers.js';

describe.skipIf(!hasServer)('README', () => {
  test('the example runs against the server as it is written', async () => {
    const readme = await readFile(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Example'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toBeDefined();
    // inside the package folder, so that '@mlops-ts/clearml-client' and zod resolve as for a user of the package
    const file = join(import.meta.dirname, `.readme-example-${process.pid}.ts`);
    await writeFile(file, code!);
    const client = new ClearmlClient(testConfig());
    const before = new Set((await client.projects.list({ namePrefix: 'mlops-ts-readme-' })).map((p) => p.id));
    try {
      const env = clearmlSdkEnv(serverInfo(), import.meta.dirname);
      const r = await execa('node', ['--conditions=@mlops-ts/source', '--import', 'tsx', file], {
        cwd: repoRoot,
        env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
        extendEnv: false,
        reject: false,
        timeout: 60_000,
      });
      expect(r.exitCode, r.stderr).toBe(0);
      const params = /^task readme example: status completed, params (\{.*\})$/m.exec(r.stdout)?.[1];
      expect(params && JSON.parse(params)).toEqual({ 'General/lr': '0.01', 'General/epochs': '3' });
      expect(r.stdout).toMatch(/^loss last\/min: 0\.4\d* \/ 0\.4\d*$/m);
      expect(r.stdout).toMatch(/^artifact sha256 [0-9a-f]{64}, model [0-9a-f]{32} published: true$/m);
      expect(r.stdout).toContain(`open: ${serverInfo().webHost}/projects/`);
      expect(r.stdout + r.stderr).not.toContain(serverInfo().secretKey);
    } finally {
      await rm(file, { force: true });
      // the example's project (and its parent) go again
      for (const p of (await client.projects.list({ namePrefix: 'mlops-ts-readme-' })).filter((x) => !before.has(x.id) && !x.parent)) {
        await client.projects.delete(p.id, { force: true, deleteContents: true }).catch(() => undefined);
      }
      await client.close();
    }
  });
});
