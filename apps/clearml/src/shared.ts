// What the clearml subcommands share: the server configuration from the environment, and Ctrl-C handling.
import { ClearmlConfigError, clearmlConfigFromEnv, type ClearmlConfig } from '@mlops-ts/clearml-client';
import { StageUsageError } from '@mlops-ts/stage-kit';

/** The ClearML server of CLEARML_API_HOST + keys, or clearml.conf; none, or a bad one, is a usage error (exit 2). */
export function clearmlConfigOrUsage(env: Record<string, string | undefined>): ClearmlConfig {
  let c;
  try {
    c = clearmlConfigFromEnv(env);
  } catch (e) {
    throw e instanceof ClearmlConfigError ? new StageUsageError(e.message, { cause: e }) : e;
  }
  if (!c) throw new StageUsageError('no ClearML server configured: set CLEARML_API_HOST, CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY, or write ~/clearml.conf (CLEARML_CONFIG_FILE)');
  return c;
}

/**
 * SIGINT / SIGTERM abort `signal` (saying `<signal>: stopping <what>`) until `dispose()`; `received()` names the one
 * that came, so the command can exit as interrupted rather than failed.
 */
export function abortOnSignals(what: string, log: (line: string) => void): { signal: AbortSignal; received(): 'SIGINT' | 'SIGTERM' | undefined; dispose(): void } {
  const abort = new AbortController();
  let got: 'SIGINT' | 'SIGTERM' | undefined;
  const on = (s: 'SIGINT' | 'SIGTERM') => () => {
    got = s;
    log(`${s}: stopping ${what}`);
    abort.abort();
  };
  const onInt = on('SIGINT');
  const onTerm = on('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  return {
    signal: abort.signal,
    received: () => got,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
