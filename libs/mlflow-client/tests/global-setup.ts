// Real `mlflow server`s for the integration tests, started once and in parallel (each start takes seconds):
// - shared: SQLite + proxied artifacts, used by most test files;
// - logger: on its own port and DB, killed and restarted by logger.test.ts;
// - auth: the basic-auth app, when Flask-WTF (mlflow[auth]) is installed in the venv.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLocalMlflowServer, type LocalMlflowServer } from '../src/index.js';

const VENV = resolve(import.meta.dirname, '../../../.venv/bin');

declare module 'vitest' {
  export interface ProvidedContext {
    mlflowUri: string;
    loggerServer: { uri: string; port: number; pid: number; dir: string };
    authServer: { uri: string; password: string } | null;
  }
}

const servers: LocalMlflowServer[] = [];
let root: string | undefined;

export async function setup(project: TestProject) {
  root = await mkdtemp(join(tmpdir(), 'mlflow-client-tests-'));
  const t0 = Date.now();
  const mlflowBin = join(VENV, 'mlflow');
  const authAvailable = (await execa(join(VENV, 'python'), ['-c', 'import flask_wtf'], { reject: false })).exitCode === 0;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const [shared, logger, auth] = await Promise.all([
    startLocalMlflowServer({ dir: join(root, 'shared'), mlflowBin }),
    startLocalMlflowServer({ dir: join(root, 'logger'), mlflowBin }),
    authAvailable ? startLocalMlflowServer({ dir: join(root, 'auth'), mlflowBin, basicAuth: { adminUsername: 'admin', adminPassword: password } }) : undefined,
  ]);
  servers.push(shared, logger, ...(auth ? [auth] : []));
  console.log(`[mlflow-client tests] ${servers.length} mlflow servers ready in ${Date.now() - t0} ms${authAvailable ? '' : ' (no Flask-WTF in the venv: basic-auth server skipped)'}`);
  project.provide('mlflowUri', shared.uri);
  project.provide('loggerServer', { uri: logger.uri, port: logger.port, pid: logger.pid, dir: logger.dir });
  project.provide('authServer', auth ? { uri: auth.uri, password } : null);
}

export async function teardown() {
  await Promise.all(servers.map((s) => s.stop()));
  if (root) await rm(root, { recursive: true, force: true });
}
