import { StageInterruptedError, StageParamsError, StageUsageError } from './errors.js';

/**
 * The one table of a stage's exit codes (as DVC's `main()` maps its exceptions):
 *
 * | code | when |
 * | ---- | ---- |
 * | 0    | success, `--help`, `--version` |
 * | 1    | any other failure (a missing input, a server that is down, a library error) |
 * | 2    | bad usage or bad params: `StageUsageError`, `StageParamsError`, commander's parse errors, and the params errors of other libraries (an error `code` ending in `_PARAMS`, or named `ParamsError`) |
 * | 130  | stopped by SIGINT (128 + 2) |
 * | 143  | stopped by SIGTERM (128 + 15) |
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, sigint: 130, sigterm: 143 } as const;

/** The exit code for an error a stage ended with; see {@link EXIT}. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof StageInterruptedError) return error.signal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
  if (error instanceof StageParamsError || error instanceof StageUsageError) return EXIT.usage;
  const e = error as { code?: unknown; name?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return EXIT.ok;
  if (code.startsWith('commander.')) return EXIT.usage;
  if (code.endsWith('_PARAMS') || e?.name === 'ParamsError') return EXIT.usage;
  return EXIT.failure;
}
