import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MlflowClient } from '@mlops-ts/mlflow-client';
import { OutputSet, StageInputError } from '@mlops-ts/stage-kit';
import {
  clearmlTaskSnapshots,
  metricDisagreements,
  mlflowRunSnapshot,
  publishClearmlChampionModel,
  rankByMetric,
  rankingCsv,
  rankingDisagreements,
  registerChampion,
  tagClearmlChampion,
  TRACKER_NAMES,
  type Candidate,
  type ClearmlModelChampion,
  type ClearmlSinkClient,
  type CompareParams,
  type MetricDisagreement,
  type RankedCandidate,
  type RankingDisagreement,
  type RunRecord,
  type TrackedRunSnapshot,
} from '@mlops-ts/tracking';
import { z } from 'zod';
import { METRIC_NAMES } from './evaluate.js';
import { readRunRecord, runRecordPath } from './records.js';

/** What compare reads from `metrics/eval/<model>.json`: the model's scalars and the baseline's. */
const EvalMetricsSchema = z.looseObject({
  model: z.string(),
  baseline: z.record(z.string(), z.unknown()),
});

/** What `openRegistry` opens: each tracker that answered, and the configured ones that did not. */
export interface OpenedRegistry {
  /** MLflow: read to cross-check and rank, the champion registered under `compare.alias`. */
  client?: MlflowClient;
  /** ClearML: read to cross-check and rank; the champion's task and output model get the tag `compare.alias`. */
  clearml?: Pick<ClearmlSinkClient, 'transport'>;
  /** Configured trackers that could not be opened: one line each naming the server (no credentials). */
  unavailable?: { tracker: string; error: string }[];
  close(): Promise<void>;
}

export interface CompareModelsOptions {
  models: readonly string[];
  compare: CompareParams;
  /** Folder of the evaluate stage's metrics files (DVC-versioned): the ranking's only source. */
  metricsDir: string;
  recordsDir: string;
  /** ranking JSON; the CSV goes beside it. */
  out: string;
  /**
   * Opens the trackers; both are read to rank the recorded runs and cross-check them against the metrics files.
   * Omit to rank only. Opened only when some model has a tracked run record. A tracker that cannot be opened is
   * listed in `unavailable` (or the whole call throws): the ranking is still written, `result.unavailable` says so.
   */
  openRegistry?: () => Promise<OpenedRegistry>;
  log?: (line: string) => void;
}

/** One tracker's ranking of the recorded runs, by `compare.metric` as the files are ranked. */
export interface TrackerRanking {
  tracker: string;
  ranking: RankedCandidate[];
}

export interface CompareResult {
  ranking: RankedCandidate[];
  baseline: number | null;
  champion: { model: string; score: number } | null;
  /** Why there is no champion, or why it was not registered. */
  reason?: string;
  registered?: { name: string; version: string; alias: string; changed: boolean };
  /** The champion's ClearML task, tagged `compare.alias` (the tag removed from the tasks in `removedFrom`). */
  clearmlTagged?: { taskId: string; tag: string; removedFrom: string[]; changed: boolean };
  /** The champion's ClearML output model: tagged `compare.alias` and published (the tag removed from `removedFrom`). */
  clearmlModel?: ClearmlModelChampion & { tag: string };
  /**
   * The trackers' view of each model's recorded run against the metrics files: which runs were read, each tracker's
   * ranking of them (params included), and where a tracker disagrees (a metric value, the order, the best model) or
   * could not be read. compare.json's `trackers` block is the deterministic summary of it.
   */
  crossCheck?: {
    checked: { model: string; tracker: string; runId: string }[];
    disagreements: MetricDisagreement[];
    rankings: TrackerRanking[];
    rankingDisagreements: RankingDisagreement[];
    unreadable: { model: string; tracker: string; error: string }[];
    /** model → its ClearML task's output models (name, id), where the champion's model is looked up without a record. */
    clearmlOutputModels?: Record<string, { name: string; model: string }[]>;
  };
  /** Configured trackers that could not be opened (compare.json is written all the same; the app exits 1). */
  unavailable?: { tracker: string; error: string }[];
}

type Links = { mlflow: string | null; clearml: string | null };

/** A run record's links to its runs (absent tracker: null). */
function linksOf(record: RunRecord | undefined): Links {
  const mlflow = record?.urls?.['mlflow'] ?? (record?.ref['mlflow'] && !record.urls ? record.url : undefined);
  return { mlflow: mlflow ?? null, clearml: record?.urls?.['clearml'] ?? null };
}

const numberOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

async function readEvalMetrics(dir: string, model: string): Promise<{ metrics: Record<string, number>; baseline: Record<string, number> }> {
  const file = join(dir, `${model}.json`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new StageInputError(`${file} not found: run the evaluate@${model} stage first`);
  }
  const parsed = EvalMetricsSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new StageInputError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')} (rerun evaluate@${model})`);
  const pick = (o: Record<string, unknown>) => Object.fromEntries(METRIC_NAMES.flatMap((k) => { const v = numberOrNull(o[k]); return v === null ? [] : [[k, v]]; }));
  return { metrics: pick(parsed.data), baseline: pick(parsed.data.baseline) };
}

/**
 * The compare stage: ranks the models by `compare.metric` from the DVC-versioned metrics files, crowns the best
 * only when it beats the majority-class baseline, and registers it under `compare.alias` only when the champion
 * changes (MLflow alias; ClearML tag on its task and output model, the model published). Each tracker's ranking of
 * the recorded runs is a check against the files. `metrics/compare.json` has no timestamps or versions: its links
 * change only when the runs do; it says why there is no champion and where the trackers disagree.
 */
export async function compareModels(o: CompareModelsOptions): Promise<CompareResult> {
  const log = o.log ?? (() => undefined);
  const metric = o.compare.metric;
  const higher = o.compare.higher_is_better;
  const candidates: Candidate[] = [];
  const baselines: number[] = [];
  const fileMetrics: Record<string, Record<string, number>> = {};
  for (const model of o.models) {
    const { metrics, baseline } = await readEvalMetrics(o.metricsDir, model);
    fileMetrics[model] = { ...Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`test_${k}`, v])), ...Object.fromEntries(Object.entries(baseline).map(([k, v]) => [`baseline_test_${k}`, v])) };
    candidates.push({ model, metrics, params: {} });
    const b = baseline[metric];
    if (b !== undefined) baselines.push(b);
  }
  if (!(METRIC_NAMES as readonly string[]).includes(metric)) throw new StageInputError(`compare.metric: the evaluate stage writes no metric "${metric}" (it writes ${METRIC_NAMES.join(', ')})`);
  const ranking = rankByMetric(candidates, metric, higher);
  const best = ranking[0];
  const baseline = baselines.length > 0 ? (higher ? Math.max(...baselines) : Math.min(...baselines)) : null;
  const beats = (score: number | null) => score !== null && (baseline === null || (higher ? score > baseline : score < baseline));
  for (const r of ranking) log(`${r.rank}. ${r.model.padEnd(16)} ${metric}=${r.score ?? 'n/a'}${beats(r.score) ? '' : ' (does not beat the baseline)'}`);

  let champion: CompareResult['champion'] = null;
  let reason: string | undefined;
  if (!best || best.score === null) reason = `no model has metric ${metric}`;
  else if (!beats(best.score)) reason = `no model beats the majority-class baseline on ${metric}: the best, ${best.model}, scores ${best.score} against ${baseline}`;
  else champion = { model: best.model, score: best.score };

  const result: CompareResult = { ranking, baseline, champion, ...(reason ? { reason } : {}) };
  if (reason) log(`${reason}; nothing registered`);
  const records: Record<string, RunRecord | undefined> = {};
  for (const model of o.models) records[model] = await readRunRecord(o.recordsDir, model);
  const tracked = Object.values(records).some((r) => r && Object.keys(r.ref).length > 0);
  let registry: OpenedRegistry | undefined;
  const unavailable: { tracker: string; error: string }[] = [];
  if (o.openRegistry && tracked) {
    try {
      registry = await o.openRegistry();
      unavailable.push(...(registry.unavailable ?? []));
    } catch (error) {
      unavailable.push({ tracker: 'trackers', error: firstLine(error) });
    }
  }
  try {
    if (registry) result.crossCheck = await crossCheck(registry, records, fileMetrics, ranking, metric, higher, log);
    if (unavailable.length > 0) result.unavailable = unavailable;
    await writeSummary(o, result, records, beats);
    if (champion && o.openRegistry) Object.assign(result, await register(o, registry, records[champion.model], champion.model, ranking[0]!, result.crossCheck, log));
  } finally {
    await registry?.close();
  }
  return result;
}

const firstLine = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

/** metrics/compare.json (deterministic: the same runs and files give the same bytes) and the CSV beside it. */
async function writeSummary(o: CompareModelsOptions, result: CompareResult, records: Record<string, RunRecord | undefined>, beats: (score: number | null) => boolean): Promise<void> {
  const metricKeys = [...METRIC_NAMES];
  const { ranking, champion, reason, baseline, crossCheck: cc } = result;
  const order = (names: Iterable<string>) => TRACKER_NAMES.filter((t) => new Set(names).has(t));
  const read = order((cc?.checked ?? []).map((c) => c.tracker));
  const orderIssues = cc?.rankingDisagreements ?? [];
  const summary = {
    metric: o.compare.metric,
    higher_is_better: o.compare.higher_is_better,
    baseline: { name: 'majority_class', score: baseline },
    champion: champion ? { ...champion, links: linksOf(records[champion.model]) } : null,
    ...(reason ? { reason } : {}),
    registered_model: o.compare.registered_model,
    alias: o.compare.alias,
    ranking: ranking.map((r) => ({ rank: r.rank, model: r.model, score: r.score, beats_baseline: beats(r.score), ...Object.fromEntries(metricKeys.map((k) => [k, r.metrics[k] ?? null])), links: linksOf(records[r.model]) })),
    trackers: {
      /** Trackers whose recorded runs were read. */
      read,
      /** Configured trackers that could not be opened (the stage exits 1 after writing this file). */
      unavailable: order((result.unavailable ?? []).map((u) => u.tracker)),
      /** Each tracker's ranking of the runs it holds agrees with the files' (null: no tracker read). */
      ranking_agrees: read.length === 0 ? null : orderIssues.length === 0,
      rankings: Object.fromEntries((cc?.rankings ?? []).map((t) => [t.tracker, t.ranking.map((r) => ({ rank: r.rank, model: r.model, score: r.score }))])),
      disagreements: [...orderIssues.map(rankingLine), ...(cc?.disagreements ?? []).map(metricLine)],
      unreadable: (cc?.unreadable ?? []).map(({ model, tracker }) => ({ model, tracker })),
    },
  };
  const out = new OutputSet();
  try {
    await out.json(o.out, summary);
    await out.file(o.out.replace(/\.json$/, '') + '.csv', rankingCsv(ranking, metricKeys, { runIds: false }));
    await out.commit();
  } catch (error) {
    await out.discard();
    throw error;
  }
}

const TRACKER_LABEL: Record<string, string> = { mlflow: 'MLflow', clearml: 'ClearML' };
const label = (tracker: string) => TRACKER_LABEL[tracker] ?? tracker;

function rankingLine(d: RankingDisagreement): string {
  return d.kind === 'order'
    ? `${label(d.tracker)} ranks ${d.tracker_order.join(' > ')}, the metrics files rank ${d.file_order.join(' > ')}`
    : `${label(d.tracker)}'s best is ${d.tracker_order[0]}, the metrics files' best is ${d.file_order[0]}`;
}

function metricLine(d: MetricDisagreement): string {
  return `${label(d.tracker)} run of ${d.model} says ${d.metric}=${d.tracker_value ?? '(missing)'}, ${d.model}'s metrics file says ${d.file}`;
}

/**
 * The metrics the evaluate stage logs as `test_<name>`, back under their file names, for a tracker's ranking. A value
 * the cross-check accepts (within float32 rounding of the file's) ranks as the file's, so two models a rounding apart
 * cannot swap places; one further off is a disagreement of its own and ranks as the tracker holds it.
 */
function testMetricsOf(held: Record<string, number>, file: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    METRIC_NAMES.flatMap((k) => {
      const v = held[`test_${k}`];
      if (v === undefined) return [];
      const f = file[`test_${k}`];
      return [[k, f !== undefined && metricDisagreements('', '', { m: f }, { m: v }).length === 0 ? f : v]];
    }),
  );
}

/**
 * Reads each recorded run in every tracker it went to (metrics, params), ranks each tracker's runs by the metric as
 * the files are ranked, and says where a tracker disagrees with the files: a metric value, the order, the best model.
 */
async function crossCheck(
  registry: OpenedRegistry,
  records: Record<string, RunRecord | undefined>,
  files: Record<string, Record<string, number>>,
  fileRanking: readonly RankedCandidate[],
  metric: string,
  higher: boolean,
  log: (line: string) => void,
): Promise<NonNullable<CompareResult['crossCheck']>> {
  const out: NonNullable<CompareResult['crossCheck']> = { checked: [], disagreements: [], rankings: [], rankingDisagreements: [], unreadable: [] };
  const snapshots: Record<string, { model: string; runId: string; snapshot: TrackedRunSnapshot }[]> = { mlflow: [], clearml: [] };
  const entries = Object.entries(records).filter((e): e is [string, RunRecord] => e[1] !== undefined);
  if (registry.client) {
    for (const [model, record] of entries) {
      const runId = record.ref['mlflow'];
      if (!runId) continue;
      try {
        snapshots['mlflow']!.push({ model, runId, snapshot: await mlflowRunSnapshot(registry.client, runId) });
      } catch (error) {
        out.unreadable.push({ model, tracker: 'mlflow', error: firstLine(error) });
      }
    }
  }
  if (registry.clearml) {
    const tasks = entries.flatMap(([model, record]) => (record.ref['clearml'] && !record.ref['clearml'].startsWith('offline-') ? [{ model, runId: record.ref['clearml'] }] : []));
    try {
      const held = await clearmlTaskSnapshots(registry.clearml, tasks.map((t) => t.runId));
      for (const t of tasks) {
        const snapshot = held.get(t.runId);
        if (snapshot) snapshots['clearml']!.push({ ...t, snapshot });
        else out.unreadable.push({ model: t.model, tracker: 'clearml', error: `task ${t.runId} not found on the server` });
      }
    } catch (error) {
      for (const t of tasks) out.unreadable.push({ model: t.model, tracker: 'clearml', error: firstLine(error) });
    }
  }
  const fileOrder = fileRanking.map((r) => r.model);
  for (const [tracker, runs] of Object.entries(snapshots)) {
    if (runs.length === 0) continue;
    for (const r of runs) {
      out.checked.push({ model: r.model, tracker, runId: r.runId });
      out.disagreements.push(...metricDisagreements(r.model, tracker, files[r.model] ?? {}, r.snapshot.metrics));
    }
    const ranking = rankByMetric(
      runs.map((r) => ({ model: r.model, runId: r.runId, metrics: testMetricsOf(r.snapshot.metrics, files[r.model] ?? {}), params: r.snapshot.params })),
      metric,
      higher,
    );
    out.rankings.push({ tracker, ranking });
    out.rankingDisagreements.push(...rankingDisagreements(tracker, fileOrder, ranking.map((r) => r.model)));
  }
  out.clearmlOutputModels = Object.fromEntries((snapshots['clearml'] ?? []).map((r) => [r.model, r.snapshot.outputModels ?? []]));
  const trackers = out.rankings.map((r) => r.tracker).join(' and ') || 'no tracker';
  if (out.disagreements.length === 0 && out.rankingDisagreements.length === 0 && out.unreadable.length === 0) {
    log(`cross-check: ${out.checked.length} runs in ${trackers} hold the metrics the files say and rank the models as they do`);
  }
  for (const d of out.rankingDisagreements) log(`cross-check: ${rankingLine(d)}`);
  for (const d of out.disagreements) log(`cross-check: ${metricLine(d)}`);
  for (const u of out.unreadable) log(`cross-check: could not read the ${label(u.tracker)} run of ${u.model}: ${u.error}`);
  return out;
}

async function register(
  o: CompareModelsOptions,
  registry: OpenedRegistry | undefined,
  record: RunRecord | undefined,
  model: string,
  best: RankedCandidate,
  cc: CompareResult['crossCheck'],
  log: (line: string) => void,
): Promise<Partial<CompareResult>> {
  if (!record || Object.keys(record.ref).length === 0) {
    const reason = record
      ? `${model}'s run was not tracked (${runRecordPath(o.recordsDir, model)}): champion ${model} not registered`
      : `no run record ${runRecordPath(o.recordsDir, model)} (trained elsewhere; rerun evaluate@${model} to link a run): champion ${model} not registered`;
    log(reason);
    return { reason };
  }
  if (!registry) return {}; // no tracker could be opened: result.unavailable says so
  const out: Partial<CompareResult> = {};
  const alias = o.compare.alias;
  const taskId = record.ref['clearml'];
  if (registry.clearml && taskId && !taskId.startsWith('offline-')) {
    const tagged = await tagClearmlChampion(registry.clearml, taskId, alias);
    out.clearmlTagged = { ...tagged, tag: alias };
    log(
      tagged.changed
        ? `tagged ClearML task ${taskId} (${model}) ${alias}${tagged.removedFrom.length ? `, removed the tag from ${tagged.removedFrom.join(', ')}` : ''}`
        : `ClearML task ${taskId} (${model}) already is tagged ${alias}`,
    );
    // The model the train (or linked evaluate) stage registered on the task: the run record's, else the task's own.
    const outputs = cc?.clearmlOutputModels?.[model] ?? [];
    const modelId = record.loggedModels?.['clearml'] ?? (outputs.find((m) => m.name === 'model') ?? outputs.at(-1))?.model;
    if (!modelId) log(`ClearML task ${taskId} (${model}) has no output model: no ClearML model published as ${alias}`);
    else {
      const champ = await publishClearmlChampionModel(registry.clearml, modelId, alias);
      out.clearmlModel = { ...champ, tag: alias };
      const did = [...(champ.published ? ['published'] : []), ...(champ.changed ? [`tagged ${alias}`] : [])];
      log(
        champ.changed
          ? `${did.join(' and ')} ClearML model ${modelId} (${model})${champ.removedFrom.length ? `, removed the tag from ${champ.removedFrom.join(', ')}` : ''}`
          : `ClearML model ${modelId} (${model}) already is published and tagged ${alias}`,
      );
    }
  }
  if (!record.ref['mlflow'] || !record.loggedModelId || !registry.client) {
    if (registry.unavailable?.some((u) => u.tracker === 'mlflow')) return out;
    const reason = `${model}'s run was not tracked in MLflow (${runRecordPath(o.recordsDir, model)}): champion ${model} not registered`;
    log(reason);
    return { ...out, reason };
  }
  const registration = await registerChampion({
    client: registry.client,
    name: o.compare.registered_model,
    best: { ...best, runId: record.ref['mlflow'], loggedModelId: record.loggedModelId },
    metric: o.compare.metric,
    alias,
  });
  const { version, changed } = registration;
  log(
    changed
      ? `registered ${o.compare.registered_model} version ${version} (${model}) as @${alias}`
      : `@${alias} already is ${o.compare.registered_model} version ${version} (${model}, same run and model): alias confirmed, nothing registered`,
  );
  return { ...out, registered: { name: o.compare.registered_model, version, alias, changed } };
}
