/**
 * Client configuration the SDK's way: the `CLEARML_*` environment variables (the caller passes its env in), else
 * the `api` section of `CLEARML_CONFIG_FILE` or `~/clearml.conf` (HOCON, as `clearml-init` writes it). Each
 * variable overrides the file's value for the same setting, as in the SDK.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ClearmlConfigError } from './errors.js';
import { hoconGet, parseHocon, type HoconObject } from './hocon.js';

export const retryOptionsSchema = z.object({
  /** Retries after the first attempt (0 = none). */
  maxRetries: z.number().int().min(0).max(20).default(4),
  initialDelayMs: z.number().int().min(0).default(250),
  maxDelayMs: z.number().int().min(0).default(8000),
  /** HTTP statuses that are retried (with backoff) besides connection errors. */
  statuses: z.array(z.number().int()).default([429, 502, 503, 504]),
});
export type RetryOptions = z.output<typeof retryOptionsSchema>;

const urlString = z
  .string()
  .trim()
  .refine((s) => /^https?:\/\/[^\s/]+/i.test(s), 'must be an http(s) URL')
  .transform((s) => s.replace(/\/+$/, ''));

export const clearmlConfigSchema = z.object({
  /** The API server, e.g. `http://127.0.0.1:8008` (api.api_server). */
  apiHost: urlString,
  /** The web UI, e.g. `http://127.0.0.1:8080` (api.web_server); derived from apiHost when omitted. */
  webHost: urlString.optional(),
  /** The fileserver, e.g. `http://127.0.0.1:8081` (api.files_server); derived from apiHost when omitted. */
  filesHost: urlString.optional(),
  credentials: z.object({ accessKey: z.string().min(1), secretKey: z.string().min(1) }),
  retries: retryOptionsSchema.partial().optional(),
  /** Per-request timeout (headers and body), default 60 s. */
  timeoutMs: z.number().int().positive().optional(),
  /** Pin the API version requested in the path (`/v2.23/…`); the server must speak at least this (and at least 2.23). Default: the newest the server speaks. */
  apiVersion: z
    .string()
    .regex(/^\d+\.\d+$/)
    .optional(),
  /** Where the values came from (for messages): `env`, a file path, or `options`. */
  source: z.string().optional(),
});
export type ClearmlConfig = z.input<typeof clearmlConfigSchema>;
export type ResolvedClearmlConfig = z.output<typeof clearmlConfigSchema> & { webHost: string; filesHost: string };

/** Validate a config object (throws {@link ClearmlConfigError} naming the field) and fill in derived hosts. */
export function resolveClearmlConfig(config: ClearmlConfig): ResolvedClearmlConfig {
  const parsed = clearmlConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.');
    // Never echo a credential value.
    throw new ClearmlConfigError(`Invalid ClearML config${config.source ? ` (${config.source})` : ''}: ${key || 'value'}: ${issue.message}`, { key });
  }
  const c = parsed.data;
  const derived = deriveHosts(c.apiHost);
  return { ...c, webHost: c.webHost ?? derived.webHost, filesHost: c.filesHost ?? derived.filesHost };
}

/**
 * Web and files hosts the SDK's way (`Session.get_app_server_host` / `get_files_server_host`): `:8008` → `:8080` /
 * `:8081`; `api.` → `app.` / `files.`; otherwise the API host itself.
 */
export function deriveHosts(apiHost: string): { webHost: string; filesHost: string } {
  const u = new URL(apiHost);
  const path = u.pathname.replace(/\/+$/, '');
  if (u.port === '8008') {
    const at = (port: string) => `${u.protocol}//${u.hostname}:${port}${path}`;
    return { webHost: at('8080'), filesHost: at('8081') };
  }
  for (const [api, app, files] of [
    ['demoapi.', 'demoapp.', 'demofiles.'],
    ['api.', 'app.', 'files.'],
  ] as const) {
    if (u.hostname.startsWith(api)) {
      const rest = u.hostname.slice(api.length) + (u.port ? `:${u.port}` : '');
      return { webHost: `${u.protocol}//${app}${rest}${path}`, filesHost: `${u.protocol}//${files}${rest}${path}` };
    }
  }
  const same = `${u.protocol}//${u.host}${path}`;
  return { webHost: same, filesHost: same };
}

export interface ConfigFromEnvOptions {
  /** Config file to read instead of CLEARML_CONFIG_FILE / ~/clearml.conf. */
  configFile?: string;
  /** Reads a file; returns undefined when it does not exist. Default: node:fs. */
  readFile?: (path: string) => string | undefined;
  /** Home folder for `~/clearml.conf`. Default: os.homedir(). */
  homeDir?: string;
}

const pick = (env: Record<string, string | undefined>, ...names: string[]): string | undefined => {
  for (const n of names) {
    const v = env[n]?.trim();
    if (v) return v;
  }
  return undefined;
};

function defaultReadFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw new ClearmlConfigError(`Cannot read ClearML config file ${path}: ${(e as Error).message}`, { file: path }, e);
  }
}

function expandHome(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p;
}

/** The `api` section of a clearml.conf as this client uses it (string values only; no validation yet). */
export interface ClearmlConfFile {
  apiServer?: string | undefined;
  webServer?: string | undefined;
  filesServer?: string | undefined;
  accessKey?: string | undefined;
  secretKey?: string | undefined;
}

/** Read the `api` section from a clearml.conf text (throws {@link HoconParseError} on a syntax error). */
export function readClearmlConf(text: string, file?: string, env?: Record<string, string | undefined>): ClearmlConfFile {
  const doc: HoconObject = parseHocon(text, { ...(file !== undefined ? { file } : {}), ...(env ? { env } : {}) });
  const str = (key: string): string | undefined => {
    const v = hoconGet(doc, key);
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v === 'object') throw new ClearmlConfigError(`${file ?? 'clearml.conf'}: ${key} must be a string, not an ${Array.isArray(v) ? 'array' : 'object'}`, { file, key });
    return String(v);
  };
  return {
    apiServer: str('api.api_server') ?? str('api.host'),
    webServer: str('api.web_server'),
    filesServer: str('api.files_server'),
    accessKey: str('api.credentials.access_key'),
    secretKey: str('api.credentials.secret_key'),
  };
}

/**
 * Configuration from the environment the caller passes in (`process.env` in an app), falling back to the `api`
 * section of `CLEARML_CONFIG_FILE` (or `~/clearml.conf` when that variable is unset). Returns `undefined` when
 * neither names an API host or credentials; throws {@link ClearmlConfigError} when they are half there.
 *
 * Variables (the SDK's, with the legacy `TRAINS_*` names): `CLEARML_API_HOST`, `CLEARML_WEB_HOST`,
 * `CLEARML_FILES_HOST`, `CLEARML_API_ACCESS_KEY`, `CLEARML_API_SECRET_KEY`, `CLEARML_CONFIG_FILE`.
 */
export function clearmlConfigFromEnv(env: Record<string, string | undefined>, opts: ConfigFromEnvOptions = {}): ResolvedClearmlConfig | undefined {
  const readFile = opts.readFile ?? defaultReadFile;
  const home = opts.homeDir ?? homedir();
  const override = opts.configFile ?? pick(env, 'CLEARML_CONFIG_FILE', 'TRAINS_CONFIG_FILE');
  const candidates = override ? [expandHome(override, home)] : [join(home, 'trains.conf'), join(home, 'clearml.conf')];
  let file: string | undefined;
  let conf: ClearmlConfFile = {};
  for (const c of candidates.reverse()) {
    // ~/clearml.conf wins over the legacy ~/trains.conf
    const text = readFile(c);
    if (text !== undefined) {
      file = c;
      conf = readClearmlConf(text, c, env);
      break;
    }
  }
  const apiHost = pick(env, 'CLEARML_API_HOST', 'TRAINS_API_HOST') ?? conf.apiServer;
  const accessKey = pick(env, 'CLEARML_API_ACCESS_KEY', 'TRAINS_API_ACCESS_KEY') ?? conf.accessKey;
  const secretKey = pick(env, 'CLEARML_API_SECRET_KEY', 'TRAINS_API_SECRET_KEY') ?? conf.secretKey;
  const webHost = pick(env, 'CLEARML_WEB_HOST', 'TRAINS_WEB_HOST') ?? conf.webServer;
  const filesHost = pick(env, 'CLEARML_FILES_HOST', 'TRAINS_FILES_HOST') ?? conf.filesServer;
  if (!apiHost && !accessKey && !secretKey) return undefined;
  const where = file ? `the environment and ${file}` : 'the environment';
  if (!apiHost) throw new ClearmlConfigError(`ClearML credentials are set but no API host: set CLEARML_API_HOST or api.api_server (${where})`, { file, key: 'CLEARML_API_HOST' });
  if (!accessKey || !secretKey) {
    const missing = !accessKey ? 'CLEARML_API_ACCESS_KEY (api.credentials.access_key)' : 'CLEARML_API_SECRET_KEY (api.credentials.secret_key)';
    throw new ClearmlConfigError(`ClearML API host ${apiHost} is set but ${missing} is not (${where})`, { file, key: missing.split(' ')[0] });
  }
  return resolveClearmlConfig({
    apiHost,
    ...(webHost ? { webHost } : {}),
    ...(filesHost ? { filesHost } : {}),
    credentials: { accessKey, secretKey },
    source: file ? (pick(env, 'CLEARML_API_HOST') ? `env + ${file}` : file) : 'env',
  });
}
