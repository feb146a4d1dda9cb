import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { exitCodeOf } from './exit-codes.js';

/**
 * Runs a stage's main function: an error prints `<stage>: <message>` (one line per line of the message, no stack;
 * the message already names the file, key or server) and returns the exit code `exitCodeOf` maps it to.
 * `defineStage(...).main` does this too; `runStage` is for CLIs that are not a pipeline stage.
 */
export async function runStage(stage: string, main: () => Promise<unknown>, write: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  try {
    await main();
    return 0;
  } catch (error) {
    const code = exitCodeOf(error);
    const c = (error as { code?: unknown }).code;
    if (typeof c === 'string' && c.startsWith('commander.')) return code;
    const message = error instanceof Error ? error.message : String(error);
    write(message.split('\n').map((line) => `${stage}: ${line.trim()}\n`).join(''));
    return code;
  }
}

export interface GitFacts {
  commit?: string;
  branch?: string;
  /** Uncommitted changes to tracked files. */
  dirty?: boolean;
}

/** The repository's HEAD commit and branch, or nothing outside a git checkout. */
export async function gitFacts(cwd: string): Promise<GitFacts> {
  const git = (args: string[]) => promisify(execFile)('git', args, { cwd }).then((r) => r.stdout.trim());
  try {
    const commit = await git(['rev-parse', 'HEAD']);
    const branch = await git(['rev-parse', '--abbrev-ref', 'HEAD']).catch(() => '');
    const dirty = (await git(['status', '--porcelain', '--untracked-files=no']).catch(() => '')) !== '';
    return { commit, ...(branch && branch !== 'HEAD' ? { branch } : {}), dirty };
  } catch {
    return {};
  }
}
