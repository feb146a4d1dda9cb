#!/usr/bin/env node
// The pipeline's embedded MLflow server, the replay of what runs spilled while a server was unreachable, and the
// import of runs kept offline (tracking.offline_fallback's offline-run.json).
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { ensureLocalMlflowServer, findMlflowBin, MlflowClient, mlflowConfigFromEnv, parseMlflowConfig, redactedUri, replaySpill, type MlflowConfig } from '@mlops-ts/mlflow-client';
import { runStage } from '@mlops-ts/stage-kit';
import { importRecordedRun, MlflowTracker, readRecordedRun } from '@mlops-ts/tracking';

const log = (line: string) => process.stderr.write(`[mlflow] ${line}\n`);
/** The workspace's `.venv/bin/mlflow`: found from the current folder, else from this checkout. */
const mlflowBin = (): string => {
  const here = findMlflowBin(process.cwd());
  return here === 'mlflow' ? findMlflowBin(import.meta.dirname) : here;
};
const program = new Command('mlflow').description('Local MLflow server, spill replay and offline-run import.').exitOverride();

program
  .command('start')
  .description('Serve MLflow (SQLite + served artifacts in --dir) on 127.0.0.1 until interrupted; reuses the server of --dir when one already runs.')
  .option('--dir <dir>', 'server folder (mlflow.db, artifacts/)', '.mlflow')
  .option('--port <port>', 'port (default: a free one)', (v) => Number.parseInt(v, 10))
  .option('--info <file>', 'write the tracking URI to this file once the server is ready')
  .action(async (opts: { dir: string; port?: number; info?: string }) => {
    const server = await ensureLocalMlflowServer({ dir: resolve(opts.dir), mlflowBin: mlflowBin(), ...(opts.port ? { port: opts.port } : {}), log });
    if (opts.info) await writeFile(opts.info, server.uri);
    if (server.reused) {
      log(`MLflow UI: ${server.uri}  (already running, pid ${server.pid}, data in ${server.dir})`);
      return;
    }
    log(`MLflow UI: ${server.uri}  (data in ${server.dir}; Ctrl-C stops it)`);
    let stopping = false;
    const stopped = new Promise<'stopped'>((done) => {
      const stop = () => {
        stopping = true;
        void server.stop().then(() => done('stopped'), () => done('stopped'));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    // A server that dies by itself is an error with its log named, not a silent exit.
    const ended = await Promise.race([stopped, (server.exited ?? stopped).then((e) => (stopping ? stopped : e))]);
    if (ended !== 'stopped') {
      await server.stop();
      throw new Error(`mlflow server on ${server.uri} exited by itself (${ended.signal ?? `exit code ${ended.exitCode}`}); see ${server.logFile}`);
    }
  });

/**
 * The server to deliver to: --uri, else MLFLOW_TRACKING_URI, else the embedded server of --dir (the running one, or
 * started for the replay) when that folder holds a tracking database.
 */
async function connect(opts: { uri?: string; dir: string }): Promise<{ config: MlflowConfig; stop(): Promise<void> }> {
  const config = mlflowConfigFromEnv(process.env, opts.uri ? { trackingUri: opts.uri } : {});
  if (config) return { config, stop: async () => undefined };
  const dir = resolve(opts.dir);
  if (!existsSync(join(dir, 'mlflow.db'))) {
    throw new Error(`no tracking server: set MLFLOW_TRACKING_URI or pass --uri (no embedded server data in ${opts.dir} either)`);
  }
  const server = await ensureLocalMlflowServer({ dir, mlflowBin: mlflowBin(), log });
  return { config: parseMlflowConfig({ trackingUri: server.uri }), stop: () => server.stop() };
}

async function importFile(client: MlflowClient, file: string): Promise<boolean> {
  const recorded = await readRecordedRun(file);
  const tracker = new MlflowTracker({ client, spillDir: resolve('.mlflow-spill'), log, source: { name: `import ${file}`, type: 'LOCAL' } });
  const r = await importRecordedRun({ tracker, recorded, recordFile: file, log });
  if (!r.alreadyImported) log(`imported ${file} as MLflow run ${r.runId}: ${r.metrics} metric points, ${r.artifacts} artifacts, ${r.models} models${r.url ? ` — ${r.url}` : ''}`);
  if (r.pending) log(r.pending);
  return r.delivered;
}

const isSpill = (p: string) => !p.endsWith('.json') || p.endsWith('.run.json');

program
  .command('replay')
  .description('Deliver what runs spilled while the tracking server was unreachable (metrics, params, tags, artifacts, models, end status); a recorded offline-run.json is imported.')
  .argument('<path...>', 'spill folder (e.g. .mlflow-spill), spill file, or offline-run.json')
  .option('--uri <uri>', 'tracking server (default MLFLOW_TRACKING_URI, else the embedded server of --dir)')
  .option('--dir <dir>', 'embedded server folder', '.mlflow')
  .action(async (paths: string[], opts: { uri?: string; dir: string }) => {
    const server = await connect(opts);
    const client = new MlflowClient(server.config);
    try {
      for (const p of paths) {
        if (!isSpill(p)) {
          await importFile(client, p);
          continue;
        }
        const r = await replaySpill({ client, path: resolve(p), onProgress: (i) => log(`${i.file}: ${i.what ?? 'record'} ${i.record}/${i.records}`) });
        const runs = r.runs.map((x) => `run ${x.runId}: ${x.artifacts} artifacts, ${x.models.length} models${x.ended ? `, ended ${x.ended}` : ''}`);
        log(`replayed ${p} to ${redactedUri(server.config.trackingUri)}: ${r.metrics} metric points, ${r.params} params, ${r.tags} tags${runs.length ? `; ${runs.join('; ')}` : ''}`);
      }
    } finally {
      await client.close();
      await server.stop();
    }
  });

program
  .command('import')
  .description('Send runs kept offline (.mlops/runs/<m>.offline-run.json, written with tracking.offline_fallback) to MLflow as new runs.')
  .argument('<file...>', 'offline-run.json files')
  .option('--uri <uri>', 'tracking server (default MLFLOW_TRACKING_URI, else the embedded server of --dir)')
  .option('--dir <dir>', 'embedded server folder', '.mlflow')
  .action(async (files: string[], opts: { uri?: string; dir: string }) => {
    const server = await connect(opts);
    const client = new MlflowClient(server.config);
    try {
      for (const f of files) await importFile(client, f);
    } finally {
      await client.close();
      await server.stop();
    }
  });

process.exitCode = await runStage('mlflow', () => program.parseAsync());
