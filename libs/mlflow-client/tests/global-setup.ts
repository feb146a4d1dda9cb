// One real `mlflow server` (SQLite + proxied artifacts in a temp dir) shared by the integration test files.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLocalMlflowServer, type LocalMlflowServer } from '../src/index.js';

export const MLFLOW_BIN = resolve(import.meta.dirname, '../../../.venv/bin/mlflow');

declare module 'vitest' {
  export interface ProvidedContext {
    mlflowUri: string;
  }
}

let server: LocalMlflowServer | undefined;
let dir: string | undefined;

export async function setup(project: TestProject) {
  dir = await mkdtemp(join(tmpdir(), 'mlflow-client-shared-'));
  const t0 = Date.now();
  server = await startLocalMlflowServer({ dir, mlflowBin: MLFLOW_BIN });
  console.log(`[mlflow-client tests] shared mlflow server ${server.uri} ready in ${Date.now() - t0} ms`);
  project.provide('mlflowUri', server.uri);
}

export async function teardown() {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}
