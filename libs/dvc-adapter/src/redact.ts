/** Redaction of credentials before text reaches a message, a log line or a result. */

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"]+@/gi;
/** Option names whose values are secrets (DVC remote options and common environment variables). */
const SECRET_NAME = /(secret|passw|token|credential|connection_string|sas|private|(^|[_.-])key($|[_.-])|account_key|access_key)/i;
const KEY_VALUE = /\b([A-Za-z0-9_.-]*(?:secret|password|passwd|token|connection_string|sas_token|account_key|access_key_id|access_key)[A-Za-z0-9_.-]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;'"]+)/gi;

export const REDACTED = '***';

/** True when a config option / environment variable name holds a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Replaces URL user-info (`scheme://user:pass@` → `scheme://***@`), `secret_key = value` pairs and known secret values. */
export function redactText(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  out = out.replace(URL_USERINFO, `$1${REDACTED}@`);
  out = out.replace(KEY_VALUE, (_m, key: string, sep: string) => `${key}${sep}${REDACTED}`);
  return out;
}

/**
 * Redacts a dvc argument list: every argument through {@link redactText}, and the value that follows a secret option
 * name in `remote modify <name> <option> <value>` / `config <section.option> <value>`.
 */
export function redactArgs(args: readonly string[], secrets: Iterable<string> = []): string[] {
  const list = [...secrets];
  const out = args.map((a) => redactText(a, list));
  const positional = args.filter((a) => !a.startsWith('-'));
  const isRemoteModify = positional[0] === 'remote' && positional[1] === 'modify';
  const isConfig = positional[0] === 'config';
  if (isRemoteModify || isConfig) {
    const optionPos = isRemoteModify ? 3 : 1;
    const option = positional[optionPos];
    const value = positional[optionPos + 1];
    if (option !== undefined && value !== undefined && isSecretName(option)) {
      const idx = args.lastIndexOf(value);
      if (idx >= 0) out[idx] = REDACTED;
    }
  }
  return out;
}
