/** `name` filters of the server's `*.get_all*` are regular expressions: this matches exactly `name`. */
export function exactNameRegex(name: string): string {
  return `^${name.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')}$`;
}

/** Names of tasks, models and projects: at least 3 characters (the server's rule: 400/800 otherwise). */
export const MIN_NAME_LENGTH = 3;
