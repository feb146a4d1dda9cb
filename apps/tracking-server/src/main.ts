#!/usr/bin/env node
// The pipeline's embedded MLflow server and the replay of metric points spilled while a server was unreachable.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { MlflowClient, mlflowConfigFromEnv, redactedUri, replaySpill, startLocalMlflowServer } from '@mlops-ts/mlflow-client';
import { runStage } from '@mlops-ts/stage-kit';

const log = (line: string) => process.stderr.write(`[mlflow] ${line}\n`);
const program = new Command('mlflow').description('Local MLflow server and spill replay.').exitOverride();

program
  .command('start')
  .description('Start `mlflow server` (SQLite + served artifacts in --dir) on 127.0.0.1 and keep it running until interrupted.')
  .option('--dir <dir>', 'server folder (mlflow.db, artifacts/)', '.mlflow')
  .option('--port <port>', 'port (default: a free one)', (v) => Number.parseInt(v, 10))
  .option('--info <file>', 'write the tracking URI to this file once the server is ready')
  .action(async (opts: { dir: string; port?: number; info?: string }) => {
    const server = await startLocalMlflowServer({ dir: resolve(opts.dir), ...(opts.port ? { port: opts.port } : {}), log });
    log(`MLflow UI: ${server.uri}  (data in ${server.dir}; Ctrl-C stops it)`);
    if (opts.info) await writeFile(opts.info, server.uri);
    await new Promise<void>((done) => {
      const stop = () => void server.stop().then(done, done);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  });

program
  .command('replay')
  .description('Deliver metric points spilled while the tracking server was unreachable (MLFLOW_TRACKING_URI, or --uri).')
  .argument('<spill-dir>', 'folder of spill files, e.g. .mlflow-spill')
  .option('--uri <uri>', 'tracking server (default MLFLOW_TRACKING_URI)')
  .action(async (dir: string, opts: { uri?: string }) => {
    const config = mlflowConfigFromEnv(process.env, opts.uri ? { trackingUri: opts.uri } : {});
    if (!config) throw new Error('no tracking server: set MLFLOW_TRACKING_URI or pass --uri');
    const client = new MlflowClient(config);
    try {
      const result = await replaySpill({ client, path: resolve(dir), onProgress: (p) => log(`${p.file}: record ${p.record}/${p.records}`) });
      log(`replayed to ${redactedUri(config.trackingUri)}: ${JSON.stringify(result)}`);
    } finally {
      await client.close();
    }
  });

process.exitCode = await runStage('mlflow', () => program.parseAsync());
