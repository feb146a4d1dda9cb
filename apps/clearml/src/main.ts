#!/usr/bin/env node
// `npm run clearml -- import <session.zip|dir> [--task <id>]`: deliver an offline session (the official SDK's format,
// written by the SDK's Task.set_offline(True), by OfflineSession, or by an EventsLogger whose server stayed down) to
// the ClearML server configured in the environment (CLEARML_API_HOST + keys, or clearml.conf).
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { ClearmlClient, type ClearmlConfig, ClearmlOfflineSessionError, deliverSpillFile, importOfflineSession, readOfflineSession, readSpillFile, SPILL_SUFFIX } from '@mlops-ts/clearml-client';
import { runStage, StageUsageError } from '@mlops-ts/stage-kit';
import { registerPipelineCommand } from './pipeline.js';
import { clearmlConfigOrUsage } from './shared.js';
import { registerSweepCommand } from './sweep.js';

const log = (line: string) => process.stderr.write(`[clearml] ${line}\n`);
const program = new Command('clearml').description('ClearML from the command line.').exitOverride();

program
  .command('import')
  .description('Import an offline session (folder or zip in the SDK\'s format) into the ClearML server of CLEARML_API_HOST / clearml.conf; prints the task\'s web page.')
  .argument('<session>', 'offline session (the folder holding task.json, or its .zip), or an EventsLogger spill file (*.events.jsonl)')
  .option('--task <id>', 'continue this task instead of creating one (default: the task the session names, else a new task)')
  .option('--iteration-offset <n>', 'add n to every event\'s iteration', (v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new StageUsageError(`--iteration-offset: not an integer: ${v}`);
    return n;
  })
  .action(async (session: string, opts: { task?: string; iterationOffset?: number }) => {
    const path = resolve(session);
    if (!existsSync(path)) throw new StageUsageError(`no offline session at ${session}`);
    const config = (): ClearmlConfig => clearmlConfigOrUsage(process.env);
    if (path.endsWith(SPILL_SUFFIX)) {
      // a spill file an EventsLogger left when its process ended before close()
      const events = await readSpillFile(path).catch((e: unknown) => {
        throw new StageUsageError((e as Error).message, { cause: e });
      });
      const c = config();
      log(`delivering ${events.length} events of ${session} into ${c.apiHost}`);
      const client = new ClearmlClient(c);
      try {
        const r = await deliverSpillFile(path, { transport: client.transport, ...(opts.task ? { taskId: opts.task } : {}), log });
        log(`task ${r.taskIds.join(', ')}: ${r.added} events${r.refused ? ` (${r.refused} refused; ${session} kept)` : `; ${session} removed`}`);
        process.stdout.write(`${r.taskIds.map((id) => client.webUrl(id)).join('\n')}\n`);
        if (r.refused) throw new Error(`the server refused ${r.refused} of ${r.sent} events of ${session}`);
      } finally {
        await client.close();
      }
      return;
    }
    // the session is read (and checked) before anything talks to a server: bad input is exit 2
    const read = await readOfflineSession(path).catch((e: unknown) => {
      throw e instanceof ClearmlOfflineSessionError ? new StageUsageError(e.message, { cause: e }) : e;
    });
    let client: ClearmlClient | undefined;
    try {
      const c = config();
      log(`importing ${session} (${read.metrics.length + read.logs.length} events, ${read.task.execution?.artifacts?.length ?? 0} artifacts, ${read.task.offline_output_models?.length ?? 0} models) into ${c.apiHost}`);
      client = new ClearmlClient(c);
      const r = await importOfflineSession(read, {
        client,
        ...(opts.task ? { previousTaskId: opts.task } : {}),
        ...(opts.iterationOffset ? { iterationOffset: opts.iterationOffset } : {}),
        log,
      });
      log(`${r.continued ? 'continued' : 'created'} task ${r.taskId}: ${r.events.added} events${r.events.refused ? ` (${r.events.refused} refused)` : ''}, ${r.artifacts.length} artifacts, ${r.models.length} models, status ${r.status}`);
      process.stdout.write(`${r.webUrl ?? r.taskId}\n`);
    } finally {
      if (read.temporary) await rm(read.folder, { recursive: true, force: true });
      await client?.close();
    }
  });

registerPipelineCommand(program, { env: process.env, cwd: process.cwd(), log, out: (l) => process.stdout.write(`${l}\n`) });
registerSweepCommand(program, { env: process.env, cwd: process.cwd(), log, out: (l) => process.stdout.write(`${l}\n`) });
process.exitCode = await runStage('clearml', () => program.parseAsync());
