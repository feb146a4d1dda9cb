// The embedded MLflow server command: starts a real `mlflow server`, reports its URI, stops it on SIGTERM.
import { execa } from 'execa';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort, startLocalMlflowServer } from '@mlops-ts/mlflow-client';

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
  await expect(fetch(`${uri}/health`)).rejects.toThrow(/fetch failed/);
}, 180_000);

test('replay without a tracking server (and no embedded server data) says how to give one', async () => {
  const r = await execa('node', ['--conditions=@mlops-ts/source', '--import', tsx, main, 'replay', dir, '--dir', join(dir, 'none')], { cwd: root, reject: false, env: { MLFLOW_TRACKING_URI: '' } });
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toBe(`mlflow: no tracking server: set MLFLOW_TRACKING_URI or pass --uri (no embedded server data in ${join(dir, 'none')} either)`);
});

test('a second start of the same folder reuses the running server; another folder on a held port fails in one line', async () => {
  const server = join(dir, 'twice');
  const port = await freePort();
  const args = ['--conditions=@mlops-ts/source', '--import', tsx, main, 'start', '--dir', server, '--port', String(port)];
  const first = execa('node', [...args, '--info', join(dir, 'first-uri')], { cwd: root, reject: false });
  let uri = '';
  for (let i = 0; i < 240 && !uri; i++) {
    await new Promise((r) => setTimeout(r, 500));
    uri = await readFile(join(dir, 'first-uri'), 'utf8').catch(() => '');
  }
  expect(uri).toBe(`http://127.0.0.1:${port}`);
  const info = await readFile(join(server, `server-${port}.json`), 'utf8');
  // A stage's embedded server on the same folder (another port) meanwhile: it becomes server.json's latest.
  const stage = await startLocalMlflowServer({ dir: server, mlflowBin: join(root, '.venv/bin/mlflow') });
  expect(JSON.parse(await readFile(join(server, 'server.json'), 'utf8'))).toMatchObject({ port: stage.port });

  const second = await execa('node', args, { cwd: root, reject: false });
  expect(second.exitCode, second.stderr).toBe(0);
  expect(second.stderr).toContain(`MLflow UI: ${uri}  (already running, pid ${(JSON.parse(info) as { pid: number }).pid}`);
  expect(await readFile(join(server, `server-${port}.json`), 'utf8')).toBe(info); // not overwritten with a dead pid
  await stage.stop();
  await expect(readFile(join(server, `server-${stage.port}.json`), 'utf8')).rejects.toThrow(/ENOENT/);
  expect((await fetch(`${uri}/health`)).status).toBe(200);

  const other = await execa('node', ['--conditions=@mlops-ts/source', '--import', tsx, main, 'start', '--dir', join(dir, 'other'), '--port', String(port)], { cwd: root, reject: false });
  expect(other.exitCode).toBe(1);
  expect(other.stderr.trim()).toBe(`mlflow: port ${port} on 127.0.0.1 is in use: another process holds it`);

  // The server dies under the command: it says so and names the log (it used to exit 13 without a word).
  process.kill(-(JSON.parse(info) as { pid: number }).pid, 'SIGKILL');
  const r = await first;
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toContain(`mlflow: mlflow server on ${uri} exited by itself (SIGKILL); see ${join(server, 'server.log')}`);
  await expect(fetch(`${uri}/health`)).rejects.toThrow(/fetch failed/);
}, 240_000);
