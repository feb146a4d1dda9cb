/** The typed wrapper: one method per dvc command the project uses, run with execa (no shell). */
import { execa } from 'execa';
import type { z } from 'zod';
import { resolveDvcBinary } from './binary.js';
import { DvcCommandError, DvcNotFoundError, DvcOutputParseError } from './errors.js';
import {
  flattenExpShow,
  parseCheckoutChanges,
  parseDot,
  parseRemoteList,
  parseReproOutput,
  parseTransferSummary,
  type DagGraph,
  type ExpRow,
  type RemoteInfo,
  type ReproSummary,
} from './parse.js';
import { isSecretName, redactArgs, redactText } from './redact.js';
import {
  CloudStatusJsonSchema,
  DataStatusJsonSchema,
  DiffJsonSchema,
  ExpDiffJsonSchema,
  ExpShowJsonSchema,
  LocalStatusJsonSchema,
  MetricsShowJsonSchema,
  PlotsJsonSchema,
  type ExpStateJson,
} from './schemas.js';

export type ProgressStream = 'stdout' | 'stderr';
/** Receives dvc's log lines (redacted) while long commands run (repro, exp run, push, pull, fetch, add, commit). */
export type DvcProgressListener = (line: string, event: { command: string; stream: ProgressStream }) => void;

export interface CreateDvcOptions {
  /** The repository (or a directory inside it) dvc runs in. */
  cwd: string;
  /** The dvc executable; default: nearest `.venv/bin/dvc` above `cwd`, then `dvc` on `env.PATH` (or the OS lookup). */
  dvcBin?: string;
  /** Extra environment for dvc (merged over the process environment; credentials for remotes go here). */
  env?: Record<string, string | undefined>;
  onProgress?: DvcProgressListener;
  /** Kill dvc after this many milliseconds (default: no limit); the error then has `timedOut: true`. */
  timeoutMs?: number;
  /** Aborting it kills a running dvc; the error then has `isCanceled: true`. */
  cancelSignal?: AbortSignal;
}

/** Config level of `dvc remote` / `dvc config` commands. */
export type ConfigLevel = 'local' | 'project' | 'global' | 'system';

export interface TransferOptions {
  targets?: string[];
  remote?: string;
  jobs?: number;
  /** Also transfer the outputs of the targets' upstream stages. */
  withDeps?: boolean;
  /** Transfer the run cache too (`--run-cache`). */
  runCache?: boolean;
}
export interface TransferResult {
  /** Counts from dvc's summary line, e.g. `{ pushed: 2 }`, `{ fetched: 1, added: 1 }`. */
  counts: Record<string, number>;
  /** For pull: workspace changes (paths). */
  changes: { added: string[]; modified: string[]; deleted: string[] };
  output: string;
}

export interface StatusOptions {
  /** Compare the cache with a remote (`-c`). Implied by `remote`. */
  cloud?: boolean;
  remote?: string;
  targets?: string[];
  withDeps?: boolean;
  jobs?: number;
}
export type StageChange = string | Record<string, Record<string, unknown>>;
export interface LocalStatus {
  kind: 'local';
  clean: boolean;
  /** stage or .dvc file → changes (`"changed command"`, `{ "changed deps": { path: "modified" } }`, ...). */
  stages: Record<string, StageChange[]>;
}
export interface CloudStatus {
  kind: 'cloud';
  clean: boolean;
  /** path → `new` (only in the cache), `deleted` (only in the remote), `missing` (in neither), `modified`. */
  files: Record<string, string>;
}

export interface DataChangeSet {
  added: string[];
  modified: string[];
  deleted: string[];
  renamed: { old: string; new: string }[];
  unknown: string[];
}
export interface DataStatus {
  committed: DataChangeSet;
  uncommitted: DataChangeSet;
  notInCache: string[];
  /** Only filled with `notInRemote: true`. */
  notInRemote: string[];
  untracked: string[];
  unchanged: string[];
  clean: boolean;
}
export interface DataStatusOptions {
  granular?: boolean;
  unchanged?: boolean;
  untrackedFiles?: boolean;
  notInRemote?: boolean;
  remote?: string;
  /** Use cached remote indexes instead of listing the remote (`--no-remote-refresh`). */
  noRemoteRefresh?: boolean;
}

export interface ReproOptions {
  targets?: string[];
  dry?: boolean;
  force?: boolean;
  singleItem?: boolean;
  pull?: boolean;
  allowMissing?: boolean;
  downstream?: boolean;
  forceDownstream?: boolean;
  pipeline?: boolean;
  keepGoing?: boolean;
  noCommit?: boolean;
  noRunCache?: boolean;
}
export interface ReproResult extends ReproSummary {
  /** dvc said nothing changed (`Data and pipelines are up to date.`). */
  upToDate: boolean;
  output: string;
}

export interface RevDiffOptions {
  aRev?: string;
  bRev?: string;
  targets?: string[];
  /** Include unchanged values too. */
  all?: boolean;
}
export interface DiffEntry {
  old: unknown;
  new: unknown;
  diff?: unknown;
}
/** file → key → change. */
export type DiffResult = Record<string, Record<string, DiffEntry>>;

export interface MetricsShowOptions {
  targets?: string[];
  allBranches?: boolean;
  allTags?: boolean;
  allCommits?: boolean;
}
export interface MetricsFile {
  data?: Record<string, unknown> | undefined;
  error?: unknown;
}
/** revision (`workspace` for the working tree) → file → values or error. */
export type MetricsShowResult = Record<string, { files: Record<string, MetricsFile>; error?: unknown }>;

export interface PlotsOptions {
  targets?: string[];
  /** `--split`: keep the data apart from the Vega-Lite template. */
  split?: boolean;
}
export type PlotsResult = z.infer<typeof PlotsJsonSchema>;

export interface ExpRunOptions {
  /** `-S key=value` overrides (`file.yaml:key` for other params files). */
  set?: Record<string, string | number | boolean>;
  queue?: boolean;
  name?: string;
  targets?: string[];
  force?: boolean;
  message?: string;
  /** Run in a temporary directory (`--temp`). */
  temp?: boolean;
  /** Copy untracked/ignored paths into the temp/queue workspace (`-C`). */
  copyPaths?: string[];
}
export interface ExpRunResult {
  /** The experiment name dvc reported. */
  name: string | undefined;
  queued: boolean;
  output: string;
}
export interface ExpShowOptions {
  allCommits?: boolean;
  allBranches?: boolean;
  allTags?: boolean;
  rev?: string[];
  num?: number;
}
export interface ExpShowResult {
  /** The parsed `--json` tree. */
  raw: ExpStateJson[];
  /** One row per workspace / baseline / experiment with flattened params and metrics. */
  rows: ExpRow[];
}

export interface Dvc {
  readonly cwd: string;
  /** The dvc executable in use (resolved at the first command). */
  binary(): Promise<string>;
  version(): Promise<string>;
  /** Runs any dvc command; errors are typed like the others. */
  raw(args: readonly string[], options?: { progress?: boolean }): Promise<{ stdout: string; stderr: string }>;
  init(options?: { noScm?: boolean; force?: boolean; subdir?: boolean }): Promise<void>;
  add(targets: string | string[], options?: { force?: boolean; noCommit?: boolean }): Promise<void>;
  /** Records workspace changes of tracked data into the cache (`dvc commit`); keeps the pointer's `meta`/`desc`. */
  commit(targets?: string | string[], options?: { force?: boolean }): Promise<void>;
  checkout(targets?: string | string[], options?: { force?: boolean }): Promise<void>;
  remoteAdd(name: string, url: string, options?: { default?: boolean; force?: boolean; level?: ConfigLevel }): Promise<void>;
  remoteModify(name: string, option: string, value: string, options?: { level?: ConfigLevel }): Promise<void>;
  remoteUnset(name: string, option: string, options?: { level?: ConfigLevel }): Promise<void>;
  remoteRemove(name: string, options?: { level?: ConfigLevel }): Promise<void>;
  remoteList(options?: { level?: ConfigLevel }): Promise<RemoteInfo[]>;
  /** The default remote's name, or undefined when none is set. */
  remoteDefault(options?: { level?: ConfigLevel }): Promise<string | undefined>;
  remoteSetDefault(name: string | null, options?: { level?: ConfigLevel }): Promise<void>;
  push(options?: TransferOptions): Promise<TransferResult>;
  pull(options?: TransferOptions & { force?: boolean; allowMissing?: boolean }): Promise<TransferResult>;
  fetch(options?: TransferOptions): Promise<TransferResult>;
  status(options: StatusOptions & ({ cloud: true } | { remote: string })): Promise<CloudStatus>;
  status(options?: StatusOptions): Promise<LocalStatus | CloudStatus>;
  dataStatus(options?: DataStatusOptions): Promise<DataStatus>;
  repro(options?: ReproOptions): Promise<ReproResult>;
  dag(options?: { targets?: string[]; outs?: boolean; full?: boolean }): Promise<DagGraph>;
  paramsDiff(options?: RevDiffOptions & { deps?: boolean }): Promise<DiffResult>;
  metricsShow(options?: MetricsShowOptions): Promise<MetricsShowResult>;
  metricsDiff(options?: RevDiffOptions): Promise<DiffResult>;
  plotsShow(options?: PlotsOptions): Promise<PlotsResult>;
  plotsDiff(options?: PlotsOptions & { revisions?: string[] }): Promise<PlotsResult>;
  expRun(options?: ExpRunOptions): Promise<ExpRunResult>;
  expShow(options?: ExpShowOptions): Promise<ExpShowResult>;
  expDiff(options?: { aRev?: string; bRev?: string; all?: boolean }): Promise<{ params: DiffResult; metrics: DiffResult }>;
}

const BASE_ENV: Record<string, string> = {
  DVC_NO_ANALYTICS: '1',
  // Plain output: no pager, no colours, no progress bars meant for a terminal.
  DVC_PAGER: 'cat',
  PAGER: 'cat',
  NO_COLOR: '1',
  TERM: 'dumb',
};

function levelFlag(level: ConfigLevel | undefined): string[] {
  return level ? [`--${level}`] : [];
}
function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
function flag(on: boolean | undefined, name: string): string[] {
  return on ? [name] : [];
}
function opt(value: string | number | undefined, name: string): string[] {
  return value === undefined ? [] : [name, String(value)];
}

/** Drops Python tracebacks (printed by `dvc -v`): the header, the indented frames and the chaining sentences. */
function dropTracebacks(lines: string[]): string[] {
  const out: string[] = [];
  let inTrace = false;
  for (const line of lines) {
    if (/^Traceback \(most recent call last\):/.test(line)) {
      inTrace = true;
      continue;
    }
    if (/^(The above exception was the direct cause|During handling of the above exception)/.test(line)) continue;
    if (inTrace && (line.startsWith(' ') || line === '')) continue;
    inTrace = false;
    out.push(line);
  }
  return out;
}

/**
 * DVC's own error text: the stderr from the first `ERROR:` line on (prefixes and tracebacks removed); without such a
 * line (e.g. a dvc.yaml validation report) the non-warning stderr lines; else the last line of stdout.
 */
export function extractDvcMessage(stderr: string, stdout = ''): string {
  // `ERROR: ...`, or with -v `2024-01-01 10:00:00,123 ERROR: ...`.
  const prefix = /^(?:\d{4}-\d\d-\d\d [\d:,]+ )?ERROR:\s*/;
  const lines = dropTracebacks(stderr.split('\n').map((l) => l.trimEnd()));
  const first = lines.findIndex((l) => prefix.test(l));
  const picked =
    first >= 0
      ? lines.slice(first).map((l) => l.replace(prefix, ''))
      : lines.filter((l) => !/^(?:\d{4}-\d\d-\d\d [\d:,]+ )?WARNING:/.test(l));
  const text = picked.join('\n').replace(/\n{3,}/g, '\n\n').trim();
  // Keep both ends of a long report: the first error and DVC's closing summary.
  if (text) return text.length > 4000 ? `${text.slice(0, 2000)}\n…\n${text.slice(-1500)}` : text;
  return stdout.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? '(no message)';
}

function emptyChangeSet(): DataChangeSet {
  return { added: [], modified: [], deleted: [], renamed: [], unknown: [] };
}
function toChangeSet(raw: z.infer<typeof DataStatusJsonSchema>['committed']): DataChangeSet {
  const set = emptyChangeSet();
  if (!raw) return set;
  for (const key of ['added', 'modified', 'deleted', 'unknown'] as const) {
    for (const entry of raw[key] ?? []) set[key].push(typeof entry === 'string' ? entry : `${entry.old} -> ${entry.new}`);
  }
  for (const entry of raw.renamed ?? []) if (typeof entry !== 'string') set.renamed.push({ old: entry.old, new: entry.new });
  return set;
}

/** Creates a {@link Dvc} bound to a repository directory. Nothing runs until the first method call. */
export function createDvc(options: CreateDvcOptions): Dvc {
  const cwd = options.cwd;
  const env: Record<string, string | undefined> = { ...BASE_ENV, ...options.env };
  const secrets = new Set<string>();
  for (const [key, value] of Object.entries(options.env ?? {})) if (value && isSecretName(key)) secrets.add(value);
  let binaryPromise: Promise<string> | undefined;
  const binary = (): Promise<string> => {
    binaryPromise ??= resolveDvcBinary({
      cwd,
      ...(options.dvcBin !== undefined ? { dvcBin: options.dvcBin } : {}),
      ...(options.env?.['PATH'] !== undefined ? { pathEnv: options.env['PATH'] } : {}),
    });
    return binaryPromise;
  };

  async function run(args: readonly string[], runOptions: { progress?: boolean } = {}) {
    const bin = await binary();
    const shownArgs = redactArgs(args, secrets);
    const command = `dvc ${shownArgs.join(' ')}`;
    const listener = runOptions.progress ? options.onProgress : undefined;
    const lineTap = (stream: ProgressStream) =>
      function* (line: unknown) {
        if (listener && typeof line === 'string' && line.trim()) listener(redactText(line, secrets), { command, stream });
        yield line;
      };
    const result = await execa(bin, [...args], {
      cwd,
      env,
      reject: false,
      stdin: 'ignore',
      ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
      ...(options.cancelSignal !== undefined ? { cancelSignal: options.cancelSignal } : {}),
      ...(listener ? { stdout: [lineTap('stdout')], stderr: [lineTap('stderr')] } : {}),
    });
    const stdout = String(result.stdout ?? '');
    const stderr = String(result.stderr ?? '');
    const code = (result as { code?: string }).code;
    if (result.failed && result.exitCode === undefined && (code === 'ENOENT' || code === 'EACCES')) {
      throw new DvcNotFoundError([bin], { detail: `could not start it (${code})`, cause: result });
    }
    if (result.failed) {
      const safeStderr = redactText(stderr, secrets);
      const safeStdout = redactText(stdout, secrets);
      throw new DvcCommandError({
        args: shownArgs,
        exitCode: result.exitCode,
        signal: result.signal,
        timedOut: result.timedOut,
        timeoutMs: options.timeoutMs,
        isCanceled: result.isCanceled,
        stderr: safeStderr,
        stdout: safeStdout,
        dvcMessage: extractDvcMessage(safeStderr, safeStdout),
        cwd,
      });
    }
    return { stdout, stderr, exitCode: result.exitCode ?? 0, shownArgs };
  }

  async function runJson<T>(args: readonly string[], schema: z.ZodType<T>): Promise<T> {
    const { stdout, shownArgs } = await run(args);
    // dvc writes the JSON document as the last thing on stdout; anything before it is a log line.
    const start = stdout.search(/^[[{]/m);
    const text = start >= 0 ? stdout.slice(start) : stdout;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new DvcOutputParseError({ args: shownArgs, output: redactText(stdout.slice(0, 500), secrets), issues: `not JSON (${(err as Error).message})` });
    }
    const parsed = schema.safeParse(doc);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new DvcOutputParseError({ args: shownArgs, output: redactText(stdout.slice(0, 500), secrets), issues });
    }
    return parsed.data;
  }

  async function transfer(verb: 'push' | 'pull' | 'fetch', o: TransferOptions & { force?: boolean; allowMissing?: boolean } = {}): Promise<TransferResult> {
    const args = [
      verb,
      ...opt(o.remote, '--remote'),
      ...opt(o.jobs, '--jobs'),
      ...flag(o.withDeps, '--with-deps'),
      ...flag(o.runCache, '--run-cache'),
      ...flag(o.force, '--force'),
      ...flag(o.allowMissing, '--allow-missing'),
      ...list(o.targets),
    ];
    const { stdout } = await run(args, { progress: true });
    return { counts: parseTransferSummary(stdout), changes: parseCheckoutChanges(stdout), output: redactText(stdout, secrets) };
  }

  // Revisions first: `--targets` takes every argument after it.
  const revArgs = (o: RevDiffOptions) => [
    ...list(o.aRev),
    ...list(o.bRev),
    ...flag(o.all, '--all'),
    ...(o.targets && o.targets.length > 0 ? ['--targets', ...o.targets] : []),
  ];
  const toDiff = (d: z.infer<typeof DiffJsonSchema>): DiffResult => d as DiffResult;

  async function status(o: StatusOptions = {}): Promise<LocalStatus | CloudStatus> {
    const cloud = Boolean(o.cloud || o.remote);
    const args = ['status', '--json', ...flag(o.cloud, '--cloud'), ...opt(o.remote, '--remote'), ...flag(o.withDeps, '--with-deps'), ...opt(o.jobs, '--jobs'), ...list(o.targets)];
    if (cloud) {
      const files = await runJson(args, CloudStatusJsonSchema);
      return { kind: 'cloud', clean: Object.keys(files).length === 0, files };
    }
    const stages = await runJson(args, LocalStatusJsonSchema);
    return { kind: 'local', clean: Object.keys(stages).length === 0, stages };
  }

  const dvc: Dvc = {
    cwd,
    binary,
    async version() {
      return (await run(['--version'])).stdout.trim();
    },
    async raw(args, o = {}) {
      const { stdout, stderr } = await run(args, { progress: o.progress ?? false });
      return { stdout, stderr };
    },
    async init(o = {}) {
      await run(['init', ...flag(o.noScm, '--no-scm'), ...flag(o.force, '--force'), ...flag(o.subdir, '--subdir')]);
    },
    async add(targets, o = {}) {
      await run(['add', ...flag(o.force, '--force'), ...flag(o.noCommit, '--no-commit'), ...list(targets)], { progress: true });
    },
    async commit(targets, o = {}) {
      await run(['commit', ...flag(o.force, '--force'), ...list(targets)], { progress: true });
    },
    async checkout(targets, o = {}) {
      await run(['checkout', ...flag(o.force, '--force'), ...list(targets)], { progress: true });
    },
    async remoteAdd(name, url, o = {}) {
      const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]+)@/i.exec(url)?.[1];
      const password = userinfo?.split(':').slice(1).join(':');
      if (password) secrets.add(password);
      await run(['remote', 'add', ...levelFlag(o.level), ...flag(o.default, '--default'), ...flag(o.force, '--force'), name, url]);
    },
    async remoteModify(name, option, value, o = {}) {
      if (isSecretName(option)) secrets.add(value);
      await run(['remote', 'modify', ...levelFlag(o.level), name, option, value]);
    },
    async remoteUnset(name, option, o = {}) {
      await run(['remote', 'modify', ...levelFlag(o.level), '--unset', name, option]);
    },
    async remoteRemove(name, o = {}) {
      await run(['remote', 'remove', ...levelFlag(o.level), name]);
    },
    async remoteList(o = {}) {
      const { stdout } = await run(['remote', 'list', ...levelFlag(o.level)]);
      return parseRemoteList(stdout).map((r) => ({ ...r, url: redactText(r.url, []) }));
    },
    async remoteDefault(o = {}) {
      try {
        const name = (await run(['remote', 'default', ...levelFlag(o.level)])).stdout.trim();
        return name === '' ? undefined : name;
      } catch (err) {
        // `dvc remote default` exits 1 printing "No default remote set" when there is none.
        if (err instanceof DvcCommandError && err.exitCode === 1 && /No default remote set/.test(err.stdout + err.stderr)) return undefined;
        throw err;
      }
    },
    async remoteSetDefault(name, o = {}) {
      await run(['remote', 'default', ...levelFlag(o.level), ...(name === null ? ['--unset'] : [name])]);
    },
    push: (o) => transfer('push', o),
    pull: (o) => transfer('pull', o),
    fetch: (o) => transfer('fetch', o),
    status: status as Dvc['status'],
    async dataStatus(o = {}) {
      const raw = await runJson(
        [
          'data',
          'status',
          '--json',
          ...flag(o.granular, '--granular'),
          ...flag(o.unchanged, '--unchanged'),
          ...(o.untrackedFiles ? ['--untracked-files', 'all'] : []),
          ...flag(o.notInRemote, '--not-in-remote'),
          ...opt(o.remote, '--remote'),
          ...flag(o.noRemoteRefresh, '--no-remote-refresh'),
        ],
        DataStatusJsonSchema,
      );
      const committed = toChangeSet(raw.committed);
      const uncommitted = toChangeSet(raw.uncommitted);
      const notInCache = raw.not_in_cache ?? [];
      const notInRemote = raw.not_in_remote ?? [];
      const dirty = [committed, uncommitted].some((s) => s.added.length + s.modified.length + s.deleted.length + s.renamed.length + s.unknown.length > 0);
      return {
        committed,
        uncommitted,
        notInCache,
        notInRemote,
        untracked: raw.untracked ?? [],
        unchanged: raw.unchanged ?? [],
        clean: !dirty && notInCache.length === 0 && notInRemote.length === 0,
      };
    },
    async repro(o = {}) {
      const args = [
        'repro',
        ...flag(o.dry, '--dry'),
        ...flag(o.force, '--force'),
        ...flag(o.singleItem, '--single-item'),
        ...flag(o.pull, '--pull'),
        ...flag(o.allowMissing, '--allow-missing'),
        ...flag(o.downstream, '--downstream'),
        ...flag(o.forceDownstream, '--force-downstream'),
        ...flag(o.pipeline, '--pipeline'),
        ...flag(o.keepGoing, '--keep-going'),
        ...flag(o.noCommit, '--no-commit'),
        ...flag(o.noRunCache, '--no-run-cache'),
        ...list(o.targets),
      ];
      const { stdout, stderr } = await run(args, { progress: true });
      const output = redactText(`${stdout}\n${stderr}`, secrets);
      return { ...parseReproOutput(output), upToDate: /Data and pipelines are up to date\./.test(stdout), output };
    },
    async dag(o = {}) {
      const { stdout } = await run(['dag', '--dot', ...flag(o.outs, '--outs'), ...flag(o.full, '--full'), ...list(o.targets)]);
      return parseDot(stdout);
    },
    async paramsDiff(o = {}) {
      return toDiff(await runJson(['params', 'diff', '--json', ...flag(o.deps, '--deps'), ...revArgs(o)], DiffJsonSchema));
    },
    async metricsShow(o = {}) {
      const raw = await runJson(
        [
          'metrics',
          'show',
          '--json',
          ...flag(o.allBranches, '--all-branches'),
          ...flag(o.allTags, '--all-tags'),
          ...flag(o.allCommits, '--all-commits'),
          ...list(o.targets),
        ],
        MetricsShowJsonSchema,
      );
      const out: MetricsShowResult = {};
      for (const [rev, entry] of Object.entries(raw)) {
        out[rev === '' ? 'workspace' : rev] = { files: entry.data ?? {}, ...(entry.error !== undefined ? { error: entry.error } : {}) };
      }
      return out;
    },
    async metricsDiff(o = {}) {
      return toDiff(await runJson(['metrics', 'diff', '--json', ...revArgs(o)], DiffJsonSchema));
    },
    async plotsShow(o = {}) {
      return runJson(['plots', 'show', '--json', ...flag(o.split, '--split'), ...list(o.targets)], PlotsJsonSchema);
    },
    async plotsDiff(o = {}) {
      const targets = o.targets && o.targets.length > 0 ? ['--targets', ...o.targets] : [];
      return runJson(['plots', 'diff', ...list(o.revisions), '--json', ...flag(o.split, '--split'), ...targets], PlotsJsonSchema);
    },
    async expRun(o = {}) {
      const sets = Object.entries(o.set ?? {}).flatMap(([k, v]) => ['--set-param', `${k}=${String(v)}`]);
      const args = [
        'exp',
        'run',
        ...sets,
        ...flag(o.queue, '--queue'),
        ...opt(o.name, '--name'),
        ...flag(o.force, '--force'),
        ...opt(o.message, '--message'),
        ...flag(o.temp, '--temp'),
        ...(o.copyPaths ?? []).flatMap((p) => ['--copy-paths', p]),
        ...list(o.targets),
      ];
      const { stdout, stderr } = await run(args, { progress: true });
      const output = redactText(`${stdout}\n${stderr}`, secrets);
      const queued = /Queued experiment '([^']+)'/.exec(output);
      const ran = /Ran experiment\(s\): (.+)/.exec(output);
      return { name: queued?.[1] ?? ran?.[1]?.split(',')[0]?.trim(), queued: Boolean(o.queue), output };
    },
    async expShow(o = {}) {
      const raw = await runJson(
        [
          'exp',
          'show',
          '--json',
          ...flag(o.allCommits, '--all-commits'),
          ...flag(o.allBranches, '--all-branches'),
          ...flag(o.allTags, '--all-tags'),
          ...(o.rev ?? []).flatMap((r) => ['--rev', r]),
          ...opt(o.num, '--num'),
        ],
        ExpShowJsonSchema,
      );
      return { raw, rows: flattenExpShow(raw) };
    },
    async expDiff(o = {}) {
      const raw = await runJson(['exp', 'diff', '--json', ...flag(o.all, '--all'), ...list(o.aRev), ...list(o.bRev)], ExpDiffJsonSchema);
      return { params: toDiff(raw.params), metrics: toDiff(raw.metrics) };
    },
  };
  return dvc;
}
