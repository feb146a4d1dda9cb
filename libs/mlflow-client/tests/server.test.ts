import { execa } from 'execa';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLocalMlflowServer, findMlflowBin, findRunningLocalServer, MlflowServerError, parseMlflowConfig, resolveTrackingServer, startLocalMlflowServer } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mlflow-server-helper-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test('a server that cannot start gives MlflowServerError with the end of its log', async () => {
  const fake = join(dir, 'fake-mlflow');
  await writeFile(fake, '#!/bin/sh\necho "Error: no such option: --bogus" >&2\nexit 2\n');
  await chmod(fake, 0o755);
  const err = await startLocalMlflowServer({ dir: join(dir, 'd1'), mlflowBin: fake, startTimeoutMs: 20_000 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(MlflowServerError);
  expect((err as Error).message).toMatch(/exited before becoming healthy/);
  expect((err as MlflowServerError).logTail).toContain('no such option');
  const missing = await startLocalMlflowServer({ dir: join(dir, 'd2'), mlflowBin: join(dir, 'nope') }).catch((e: unknown) => e);
  expect(missing).toBeInstanceOf(MlflowServerError);
  expect((missing as Error).message).toMatch(/exited before becoming healthy/);
});

test('the venv mlflow is found walking up from a nested folder', () => {
  expect(findMlflowBin(join(import.meta.dirname, 'fixtures'))).toBe(join(import.meta.dirname, '../../../.venv/bin/mlflow'));
  expect(findMlflowBin('/')).toBe('mlflow');
});

test('a configured tracking URI is used as is (no embedded server)', async () => {
  const r = await resolveTrackingServer({ config: parseMlflowConfig({ trackingUri: 'http://mlflow.example:5000' }), localDir: join(dir, 'unused') });
  expect(r.embedded).toBeUndefined();
  expect(r.config.trackingUri).toBe('http://mlflow.example:5000');
});

test('a stale server.json (its process gone) is no running server; a port held by another process fails naming the port', async () => {
  const d = join(dir, 'stale');
  await mkdir(d, { recursive: true });
  // A pid that surely is not alive: a child that has exited.
  const child = execa('true');
  await child;
  const pid = child.pid!;
  await writeFile(join(d, 'server.json'), JSON.stringify({ uri: 'http://127.0.0.1:9', port: 9, pid }));
  expect(await findRunningLocalServer(d)).toBeUndefined();
  await writeFile(join(d, 'server.json'), 'not json');
  expect(await findRunningLocalServer(d)).toBeUndefined();

  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  const port = (holder.address() as AddressInfo).port;
  try {
    const err = await ensureLocalMlflowServer({ dir: d, port, mlflowBin: join(dir, 'never-started') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowServerError);
    expect((err as Error).message).toBe(`port ${port} on 127.0.0.1 is in use: another process holds it`);
    expect(await readFile(join(d, 'server.json'), 'utf8')).toBe('not json'); // left alone
  } finally {
    holder.close();
  }
});
