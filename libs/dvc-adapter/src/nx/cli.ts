/**
 * The command the generated Nx targets call (from the workspace root):
 *   run         --dvc-yaml <path> --stage <name> --dvc <bin> --snapshot <path>   dvc repro --single-item, then snapshot the lock entry
 *   fingerprint --dvc-yaml <path> --stage <name> [--hash <path>]...              print what Nx hashes besides files (JSON)
 *   restore     --dvc-yaml <path> --stage <name> --snapshot <path>               merge a snapshot back into dvc.lock
 */
import { parseArgs } from 'node:util';
import { stageFingerprint } from './fingerprint.js';

const USAGE = 'usage: cli.js run|fingerprint|restore --dvc-yaml <path> --stage <name> [--dvc <bin>] [--snapshot <path>] [--hash <path>]...';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      'dvc-yaml': { type: 'string' },
      stage: { type: 'string' },
      dvc: { type: 'string' },
      snapshot: { type: 'string' },
      hash: { type: 'string', multiple: true },
    },
    strict: true,
  });
  const dvcYaml = values['dvc-yaml'];
  const stage = values.stage;
  if (!dvcYaml || !stage) throw new Error(`--dvc-yaml and --stage are required. ${USAGE}`);
  const workspaceRoot = process.cwd();
  switch (command) {
    case 'fingerprint': {
      const fp = await stageFingerprint({ workspaceRoot, dvcYaml, stage, hashPaths: values.hash ?? [] });
      process.stdout.write(`${JSON.stringify(fp)}\n`);
      return 0;
    }
    case 'run': {
      if (!values.snapshot) throw new Error(`--snapshot is required for run. ${USAGE}`);
      const { runStage } = await import('./run.js');
      await runStage({ workspaceRoot, dvcYaml, stage, dvcBin: values.dvc ?? 'dvc', snapshot: values.snapshot });
      return 0;
    }
    case 'restore': {
      if (!values.snapshot) throw new Error(`--snapshot is required for restore. ${USAGE}`);
      const { restoreStageLock } = await import('./run.js');
      const changed = await restoreStageLock({ workspaceRoot, snapshot: values.snapshot });
      process.stderr.write(`[dvc-nx] ${stage}: dvc.lock ${changed ? 'updated from the snapshot' : 'already matches'}\n`);
      return 0;
    }
    default:
      throw new Error(`unknown command '${command ?? ''}'. ${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`[dvc-nx] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
