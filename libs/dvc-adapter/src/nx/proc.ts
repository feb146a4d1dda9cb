/**
 * A minimal promise wrapper over child_process.spawn (no shell) for the code Nx loads as a plugin. Nx loads plugins
 * with require(); through the workspace's TypeScript loader that turns execa's ESM-only dependencies into failing
 * require() calls, so the plugin graph keeps to node: built-ins. The stage CLI (run.ts) uses execa.
 */
import { spawn } from 'node:child_process';

export interface ProcResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Set when the process could not start (e.g. ENOENT). */
  error?: Error;
}

export function runProcess(file: string, args: readonly string[], options: { cwd: string; input?: string }): Promise<ProcResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(file, args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'], shell: false });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (error) => resolvePromise({ exitCode: null, stdout, stderr, error }));
    child.on('close', (code) => resolvePromise({ exitCode: code, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
