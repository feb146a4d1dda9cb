import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * Runs a stage's main function: an error prints one line `<stage>: <message>` (no stack; the message already names
 * the file, key or server) and sets exit code 1. `exitCode` on the error (e.g. commander's) is kept.
 */
export async function runStage(stage: string, main: () => Promise<unknown>, write: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  try {
    await main();
    return 0;
  } catch (error) {
    const code = (error as { exitCode?: unknown }).exitCode;
    if ((error as { code?: unknown }).code === 'commander.helpDisplayed' || (error as { code?: unknown }).code === 'commander.version') return 0;
    if (typeof code === 'number' && (error as { code?: string }).code?.startsWith('commander.')) return code;
    write(`${stage}: ${error instanceof Error ? error.message : String(error)}\n`);
    return typeof code === 'number' && code > 0 ? code : 1;
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
