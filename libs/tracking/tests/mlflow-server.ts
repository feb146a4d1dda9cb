// A real `mlflow server` (SQLite, served artifacts) for one test file: started before its tests, stopped after.
import { MlflowClient, startLocalMlflowServer, type LocalMlflowServer } from '@mlops-ts/mlflow-client';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MLFLOW_BIN = resolve(import.meta.dirname, '../../../.venv/bin/mlflow');

export interface TestMlflowServer {
  /** A temp folder for the test's files; the server's data is in `<dir>/server`. */
  dir: string;
  server: LocalMlflowServer;
  client: MlflowClient;
}

/** Registers beforeAll/afterAll hooks; the fields are set once the file's beforeAll hooks ran. */
export function useMlflowServer(prefix: string): TestMlflowServer {
  const ctx = {} as TestMlflowServer;
  beforeAll(async () => {
    ctx.dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    ctx.server = await startLocalMlflowServer({ dir: join(ctx.dir, 'server'), mlflowBin: MLFLOW_BIN });
    ctx.client = new MlflowClient({ trackingUri: ctx.server.uri });
  });
  afterAll(async () => {
    await ctx.client?.close();
    await ctx.server?.stop();
    if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}
