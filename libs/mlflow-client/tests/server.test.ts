import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findMlflowBin, MlflowServerError, parseMlflowConfig, resolveTrackingServer, startLocalMlflowServer } from '../src/index.js';

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
