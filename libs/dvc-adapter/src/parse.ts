/** Parsers for the dvc outputs that have no `--json` form (dag, repro, push/pull summaries, remote list). */
import type { ExpRangeJson, ExpStateJson } from './schemas.js';

export interface DagGraph {
  /** Stages and .dvc files (`dir/dvc.yaml:stage` for stages outside the root dvc.yaml), or paths with `outs`. */
  nodes: string[];
  /** `from` must run before `to` (`from` produces something `to` depends on). */
  edges: { from: string; to: string }[];
}

const DOT_ID = String.raw`"((?:[^"\\]|\\.)*)"|([A-Za-z0-9_.]+)`;
const DOT_EDGE = new RegExp(String.raw`^\s*(?:${DOT_ID})\s*->\s*(?:${DOT_ID})\s*(?:\[.*\])?\s*;?\s*$`);
const DOT_NODE = new RegExp(String.raw`^\s*(?:${DOT_ID})\s*(?:\[.*\])?\s*;?\s*$`);

function unquote(quoted: string | undefined, bare: string | undefined): string {
  return quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (bare ?? '');
}

/** Parses `dvc dag --dot` (pydot output: `"a" -> "b";` edges, `"a";` nodes). */
export function parseDot(dot: string): DagGraph {
  const nodes = new Set<string>();
  const edges: { from: string; to: string }[] = [];
  for (const line of dot.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || /^(strict\s+)?(di)?graph\b/.test(trimmed) || trimmed === '}' || trimmed.startsWith('//')) continue;
    const e = DOT_EDGE.exec(trimmed);
    if (e) {
      const from = unquote(e[1], e[2]);
      const to = unquote(e[3], e[4]);
      nodes.add(from);
      nodes.add(to);
      edges.push({ from, to });
      continue;
    }
    const n = DOT_NODE.exec(trimmed);
    if (n && !/^(node|edge|graph)$/.test(n[2] ?? '')) nodes.add(unquote(n[1], n[2]));
  }
  return { nodes: [...nodes], edges };
}

/** `"2 files fetched and 1 file added"` → `{ fetched: 2, added: 1 }`. */
export function parseTransferSummary(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/\b(\d+) files? (\w+)/g)) counts[m[2]!] = (counts[m[2]!] ?? 0) + Number(m[1]);
  return counts;
}

/** Checkout change lines of `dvc pull` (`A\tpath`, `M\tpath`, `D\tpath`). */
export function parseCheckoutChanges(text: string): { added: string[]; modified: string[]; deleted: string[] } {
  const out = { added: [] as string[], modified: [] as string[], deleted: [] as string[] };
  for (const line of text.split('\n')) {
    const m = /^([AMD])\s+(.+)$/.exec(line.trimEnd());
    if (!m) continue;
    const key = m[1] === 'A' ? 'added' : m[1] === 'M' ? 'modified' : 'deleted';
    out[key].push(m[2]!);
  }
  return out;
}

export interface ReproStageRun {
  stage: string;
  commands: string[];
}
export interface ReproSummary {
  /** Stages that ran (with `dry`: would run), in order, with the commands printed for them. */
  ran: ReproStageRun[];
  /** Stages and .dvc files that were unchanged. */
  skipped: string[];
  /** Stages restored from the run cache instead of running. */
  restored: string[];
  /** Stages whose missing outputs were pulled from the remote (`pull: true`). */
  pulled: string[];
}

/** Parses the log of `dvc repro` / `dvc exp run` (`Running stage 'x':`, `> cmd`, `... didn't change, skipping`). */
export function parseReproOutput(text: string): ReproSummary {
  const summary: ReproSummary = { ran: [], skipped: [], restored: [], pulled: [] };
  let current: ReproStageRun | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    let m: RegExpExecArray | null;
    if ((m = /^Running stage '(.+)':$/.exec(line))) {
      current = { stage: m[1]!, commands: [] };
      summary.ran.push(current);
    } else if (current && line.startsWith('> ')) {
      current.commands.push(line.slice(2));
    } else if ((m = /^(?:Stage )?'(.+)' didn't change, skipping$/.exec(line))) {
      summary.skipped.push(m[1]!);
      current = undefined;
    } else if ((m = /^Stage '(.+)' is cached - skipping run, checking out outputs$/.exec(line))) {
      summary.restored.push(m[1]!);
      current = undefined;
    } else if ((m = /^Pulling data for stage: '(.+)'$/.exec(line))) {
      summary.pulled.push(m[1]!);
      current = undefined;
    } else if (line === '') {
      current = undefined;
    }
  }
  return summary;
}

export interface RemoteInfo {
  name: string;
  /** The remote URL with any credentials replaced by `***`. */
  url: string;
  isDefault: boolean;
}

/**
 * Parses `dvc remote list`: `name<TAB>url[<TAB>(default)]` (dvc's console may expand the tabs to spaces; remote names
 * hold no whitespace, so the name ends at the first blank).
 */
export function parseRemoteList(text: string): RemoteInfo[] {
  const remotes: RemoteInfo[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(.*?)(\s+\(default\))?\s*$/.exec(line);
    if (!m) continue;
    remotes.push({ name: m[1]!, url: m[2]!, isDefault: m[3] !== undefined });
  }
  return remotes;
}

/** Nested objects → dotted keys: `{ train: { lr: 1 } }` → `{ "train.lr": 1 }` (arrays are kept as values). */
export function flattenKeys(value: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flattenKeys(v as Record<string, unknown>, key));
    else out[key] = v;
  }
  return out;
}

export interface ExpRow {
  /** `workspace`, a baseline commit, or an experiment. */
  kind: 'workspace' | 'baseline' | 'experiment';
  rev: string;
  name: string | null;
  /** For experiments: the baseline commit they branch from. */
  baselineRev: string | null;
  /** `success` for finished entries, else the executor state (`queued`, `running`, `failed`, ...). */
  state: string;
  timestamp: string | null;
  /** file → dotted key → value. */
  params: Record<string, Record<string, unknown>>;
  metrics: Record<string, Record<string, unknown>>;
  error: string | null;
}

function fileValues(files: Record<string, { data?: Record<string, unknown> | undefined }> | undefined): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [file, entry] of Object.entries(files ?? {})) out[file] = flattenKeys(entry.data ?? {});
  return out;
}

function rowOf(state: ExpStateJson, kind: ExpRow['kind'], baselineRev: string | null, range?: ExpRangeJson): ExpRow {
  return {
    kind,
    rev: state.rev,
    name: range?.name ?? state.name,
    baselineRev,
    state: state.error ? 'failed' : (range?.executor?.state ?? 'success'),
    timestamp: state.data?.timestamp ?? null,
    params: fileValues(state.data?.params),
    metrics: fileValues(state.data?.metrics),
    error: state.error ? (state.error.msg ?? state.error.type ?? 'error') : null,
  };
}

/** Flattens `dvc exp show --json` into one row per workspace / baseline / experiment. */
export function flattenExpShow(states: readonly ExpStateJson[]): ExpRow[] {
  const rows: ExpRow[] = [];
  for (const state of states) {
    const kind = state.rev === 'workspace' ? 'workspace' : 'baseline';
    rows.push(rowOf(state, kind, null));
    for (const range of state.experiments ?? []) {
      for (const exp of range.revs) rows.push(rowOf(exp, 'experiment', state.rev, range));
    }
  }
  return rows;
}
