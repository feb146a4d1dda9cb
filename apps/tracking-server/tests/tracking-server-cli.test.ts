// The embedded MLflow server command: starts a real `mlflow server`, reports its URI, stops it on SIGTERM.
import { execa } from 'execa';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const main = resolve(import.meta.dirname, '../src/main.ts');
const root = resolve(import.meta.dirname, '../../..');
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracking-server-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test('start serves MLflow on loopback, writes its URI, and stops with the server on SIGTERM', async () => {
  const info = join(dir, 'uri');
  const child = execa('node', ['--conditions=@mlops-ts/source', '--import', tsx, main, 'start', '--dir', join(dir, 'mlflow'), '--info', info], {
    cwd: root,
    reject: false,
  });
  let uri = '';
  for (let i = 0; i < 240 && !uri; i++) {
    await new Promise((r) => setTimeout(r, 500));
    uri = await readFile(info, 'utf8').catch(() => '');
  }
  expect(uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const health = await fetch(`${uri}/health`);
  expect(health.status).toBe(200);
  child.kill('SIGTERM');
  const result = await child;
  expect(result.stderr).toContain(`MLflow UI: ${uri}`);
  await expect(fetch(`${uri}/health`)).rejects.toThrow();
}, 180_000);

test('replay without a tracking server says how to give one', async () => {
  const r = await execa('node', ['--conditions=@mlops-ts/source', '--import', tsx, main, 'replay', dir], { cwd: root, reject: false, env: { MLFLOW_TRACKING_URI: '' } });
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toBe('mlflow: no tracking server: set MLFLOW_TRACKING_URI or pass --uri');
});
