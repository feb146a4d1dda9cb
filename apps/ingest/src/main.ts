/**
 * ingest: makes the DVC-tracked raw data present. For each pointer (default: every data/raw/*.dvc): nothing to do
 * when the file already has the pointer's md5; else `dvc pull`; else materialize it from the npm package pinned in the
 * pointer's `meta.source`, check its md5, store it in DVC's cache and push it to the default remote.
 *
 *   node --conditions=@mlops-ts/source --import tsx apps/ingest/src/main.ts [pointers...] [--cwd dir] [--force]
 */
import { Command } from 'commander';
import { resolve } from 'node:path';
import { createDvc, restoreTrackedData } from '@mlops-ts/dvc-adapter';
import { runStage } from '@mlops-ts/stage-kit';

const log = (message: string) => process.stderr.write(`[ingest] ${message}\n`);

interface CliOptions {
  cwd: string;
  pointerDir: string;
  remote?: string;
  push: boolean;
  force?: boolean;
  dvc?: string;
}

const program = new Command('mlops-ingest')
  .description('Restore DVC-tracked raw data: dvc pull, else materialize it from the pinned npm package (md5-checked).')
  .argument('[pointers...]', '.dvc pointer files, relative to --cwd (default: every *.dvc in --pointer-dir)')
  .option('--cwd <dir>', 'repository root', process.cwd())
  .option('--pointer-dir <dir>', 'folder scanned for pointers when none are given', 'data/raw')
  .option('--remote <name>', 'DVC remote to pull from / push to (default: the configured default remote)')
  .option('--no-push', 'do not push materialized data to the remote')
  .option('--force', 'replace workspace files whose md5 differs from their pointer')
  .option('--dvc <path>', 'dvc executable (default: $MLOPS_DVC_BIN, else the nearest .venv/bin/dvc, else dvc on PATH)')
  .action(async (pointers: string[], options: CliOptions) => {
    const root = resolve(options.cwd);
    const dvcBin = options.dvc ?? process.env['MLOPS_DVC_BIN'];
    const dvc = createDvc({
      cwd: root,
      ...(dvcBin ? { dvcBin } : {}),
      env: { PATH: process.env['PATH'] },
      onProgress: (line) => log(`  dvc: ${line}`),
    });
    const started = Date.now();
    const results = await restoreTrackedData({
      dvc,
      ...(pointers.length > 0 ? { targets: pointers } : {}),
      pointerDir: options.pointerDir,
      ...(options.remote ? { remote: options.remote } : {}),
      push: options.push,
      force: options.force ?? false,
      onProgress: log,
    });
    // onProgress carried the steps (materializing, storing, pushing, warnings); the outcome of a file that needed no
    // step is only in the result: say it once here, then one summary line.
    const counts = new Map<string, number>();
    for (const r of results) {
      if (r.action === 'present') log(`${r.paths.join(', ')}: present, md5 matches ${r.pointer}`);
      if (r.action === 'pulled') log(`${r.paths.join(', ')}: pulled from the remote`);
      const key = r.pushed === false ? `${r.action} (not pushed)` : r.action;
      counts.set(key, (counts.get(key) ?? 0) + r.paths.length);
    }
    const summary = [...counts].map(([action, n]) => `${n} ${action}`).join(', ') || 'nothing to restore';
    log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${summary}`);
  });

// One entry point for every CLI (stage-kit): an error is one line `ingest: <message>` naming the file, the
// md5s or the remote, and exit code 1 (commander's usage errors keep theirs).
process.exitCode = await runStage('ingest', () => program.exitOverride().parseAsync(process.argv));
