// The README's events and offline-session examples run as written (project name made unique), and what they log
// is on the server.
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { clearmlSdkEnv } from '../../../tools/testing/clearml-server.js';
import { tsx } from '../../../tools/testing/stage-cli.js';
import { ClearmlClient } from '../src/index.js';
import { countPoints, poll, readScalars } from './events-support.js';
import { hasServer, serverInfo, testConfig, uniqueProjectName } from './helpers.js';

async function runExample(heading: string, project: string): Promise<string> {
  const readme = await readFile(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf(heading)))?.[1];
  if (!code) throw new Error(`README has no ts block after ${heading}`);
  // inside the package folder, so that '@mlops-ts/clearml-client' resolves as for a user of the package
  const file = join(import.meta.dirname, `.readme-events-${process.pid}-${Date.now()}.ts`);
  const cwd = await mkdtemp(join(tmpdir(), 'cml-readme-'));
  await writeFile(file, code.replaceAll("project: 'demo'", `project: '${project}'`));
  try {
    const r = await execa('node', ['--conditions=@mlops-ts/source', '--import', tsx, file], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '', HOME: cwd, ...clearmlSdkEnv(serverInfo(), cwd) },
      extendEnv: false,
      reject: false,
      timeout: 60_000,
    });
    if (r.exitCode !== 0) throw new Error(`README example after ${heading} failed: ${r.stderr}`);
    expect(r.stdout + r.stderr).not.toContain(serverInfo().secretKey);
    return r.stdout;
  } finally {
    await rm(file, { force: true });
    await rm(cwd, { recursive: true, force: true });
  }
}

describe.skipIf(!hasServer)('README examples (events, offline sessions)', () => {
  test('the EventsLogger example delivers its events', async () => {
    const out = await runExample('### Events: scalars', uniqueProjectName('readme-events'));
    const m = /^delivered 9 events: (\S+\/tasks\/(\w+))$/m.exec(out);
    expect(m, out).not.toBeNull();
    const client = new ClearmlClient(testConfig());
    try {
      const h = await poll(() => readScalars(client.transport, m![2]!), (x) => countPoints(x) >= 3);
      expect(h['loss']!['train']!.x).toEqual([1, 2, 3]);
    } finally {
      await client.close();
    }
  });

  test('the OfflineSession example writes a session and imports it', async () => {
    const out = await runExample('### Offline sessions', uniqueProjectName('readme-offline'));
    expect(out).toMatch(/^session: \S+\/offline-[0-9a-f]{32}\.zip$/m);
    expect(out).toMatch(/^imported as \w+: 4 events, artifacts metrics, models mlp, completed$/m);
  });
});
