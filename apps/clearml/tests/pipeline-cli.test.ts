// `npm run clearml -- pipeline`: a temp git + DVC repository run as a ClearML pipeline through the CLI against the
// real server: the web link on stdout; an unknown queue is one error line and exit 1; Ctrl-C (SIGINT) stops the
// running step (status stopped), marks the controller stopped and exits 130.
import { execa } from 'execa';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { z } from 'zod';
import { ClearmlClient, parsePipelineConfig } from '@mlops-ts/clearml-client';
import { requireClearml, uniqueProjectName, type ClearmlServerAvailable } from '../../../tools/testing/clearml-server.js';
import { root, runStageCli, tsx } from '../../../tools/testing/stage-cli.js';

const server = inject('clearml');
const DVC = join(root, '.venv', 'bin', 'dvc');

async function repoWith(stages: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'clearml-pipeline-cli-'));
  await writeFile(join(dir, 'dvc.yaml'), JSON.stringify({ stages }, null, 2)); // JSON is YAML
  await writeFile(join(dir, '.gitignore'), '.venv\n');
  await mkdir(join(dir, '.venv', 'bin'), { recursive: true });
  await symlink(DVC, join(dir, '.venv', 'bin', 'dvc'));
  const run = (file: string, args: string[]) => execa(file, args, { cwd: dir });
  await run('git', ['init', '-q', '-b', 'main']);
  await run('git', ['config', 'user.email', 'test@example.com']);
  await run('git', ['config', 'user.name', 'test']);
  await run(DVC, ['init', '-q']);
  await run(DVC, ['config', 'core.analytics', 'false']);
  await run('git', ['add', '-A']);
  await run('git', ['commit', '-q', '-m', 'fixture']);
  return dir;
}

describe.skipIf(!server.available)('npm run clearml -- pipeline', () => {
  let s: ClearmlServerAvailable;
  let env: Record<string, string>;
  let client: ClearmlClient;
  const dirs: string[] = [];
  beforeAll(async () => {
    s = requireClearml(server);
    const scratch = await mkdtemp(join(tmpdir(), 'clearml-pipeline-cli-env-'));
    dirs.push(scratch);
    env = {
      CLEARML_API_HOST: s.apiHost,
      CLEARML_WEB_HOST: s.webHost,
      CLEARML_FILES_HOST: s.filesHost,
      CLEARML_API_ACCESS_KEY: s.accessKey,
      CLEARML_API_SECRET_KEY: s.secretKey,
      CLEARML_CONFIG_FILE: join(scratch, 'no-such-clearml.conf'),
    };
    client = new ClearmlClient({ apiHost: s.apiHost, webHost: s.webHost, filesHost: s.filesHost, credentials: { accessKey: s.accessKey, secretKey: s.secretKey } });
  });
  afterAll(async () => {
    await client?.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  test('local run: the pipeline page on stdout, the stage run through DVC', async () => {
    const dir = await repoWith({ hello: { cmd: 'echo hello > hello.txt', outs: ['hello.txt'] } });
    dirs.push(dir);
    const r = await runStageCli('clearml', ['pipeline', '--project', uniqueProjectName('pipeline-cli'), '--name', 'cli-local'], { cwd: dir, env });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const url = String(r.stdout).trim();
    expect(url).toMatch(new RegExp(`^${s.webHost.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/pipelines/[0-9a-f]+/experiments/[0-9a-f]+$`));
    expect(String(r.stderr)).toContain(`ClearML pipeline page: ${url}`);
    const controllerId = url.split('/').pop()!;
    expect((await client.tasks.get(controllerId)).status).toBe('completed');
    const dag = parsePipelineConfig((await client.tasks.getConfiguration(controllerId, ['Pipeline']))['Pipeline']!.value!);
    expect(dag['hello']!.status).toBe('completed');
    expect((await execa(DVC, ['status', '--json'], { cwd: dir })).stdout.trim()).toBe('{}');
  });

  test('unknown queue: one error line, exit 1', async () => {
    const dir = await repoWith({ hello: { cmd: 'echo hello > hello.txt', outs: ['hello.txt'] } });
    dirs.push(dir);
    const queue = `mlops-ts-test-cli-no-queue-${Date.now().toString(36)}`;
    const r = await runStageCli('clearml', ['pipeline', '--queue', queue, '--project', uniqueProjectName('pipeline-cli')], { cwd: dir, env });
    expect(r.exitCode).toBe(1);
    const errors = String(r.stderr).split('\n').filter((l) => l.startsWith('clearml: '));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`ClearML queue '${queue}' does not exist on ${s.apiHost}`);
  });

  test('Ctrl-C: the running step is stopped, the controller stopped, exit 130', async () => {
    const dir = await repoWith({
      slow: { cmd: 'sleep 60 && echo done > slow.txt', outs: ['slow.txt'] },
      later: { cmd: 'cp slow.txt later.txt', deps: ['slow.txt'], outs: ['later.txt'] },
    });
    dirs.push(dir);
    const child = execa('node', ['--conditions=@mlops-ts/source', '--import', tsx, join(root, 'apps/clearml/src/main.ts'), 'pipeline', '--project', uniqueProjectName('pipeline-cli'), '--name', 'cli-abort'], {
      cwd: dir,
      env,
      reject: false,
      all: true,
    });
    let seen = '';
    await new Promise<void>((ok, fail) => {
      const t = setTimeout(() => fail(new Error(`the step never started:\n${seen}`)), 60_000);
      child.stderr!.on('data', (b: Buffer) => {
        seen += b.toString();
        if (seen.includes("step 'slow': running")) {
          clearTimeout(t);
          ok();
        }
      });
    });
    const t0 = Date.now();
    child.kill('SIGINT');
    const r = await child;
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.exitCode, String(r.all)).toBe(130);
    const url = /ClearML pipeline page: (\S+)/.exec(String(r.all))![1]!;
    const controllerId = url.split('/').pop()!;
    expect((await client.tasks.get(controllerId)).status).toBe('stopped');
    const steps = (
      await client.transport.call('tasks.get_all', { parent: controllerId, search_hidden: true, only_fields: ['id', 'name', 'status'] }, z.object({ tasks: z.array(z.object({ name: z.string(), status: z.string() }).loose()) }))
    ).tasks;
    expect(steps.map((t) => [t.name, t.status])).toEqual([['slow', 'stopped']]);
    const dag = parsePipelineConfig((await client.tasks.getConfiguration(controllerId, ['Pipeline']))['Pipeline']!.value!);
    expect([dag['slow']!.status, dag['later']!.status]).toEqual(['aborted', 'skipped']);
  });
});
