import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MlflowClient } from '@mlops-ts/mlflow-client';
import { OutputSet, StageInputError } from '@mlops-ts/stage-kit';
import {
  clearmlTaskMetrics,
  metricDisagreements,
  mlflowRunMetrics,
  rankByMetric,
  rankingCsv,
  registerChampion,
  tagClearmlChampion,
  type Candidate,
  type ClearmlSinkClient,
  type CompareParams,
  type MetricDisagreement,
  type RankedCandidate,
  type RunRecord,
} from '@mlops-ts/tracking';
import { z } from 'zod';
import { METRIC_NAMES } from './evaluate.js';
import { readRunRecord, runRecordPath } from './records.js';

/** What compare reads from `metrics/eval/<model>.json`: the model's scalars and the baseline's. */
const EvalMetricsSchema = z.looseObject({
  model: z.string(),
  baseline: z.record(z.string(), z.unknown()),
});

export interface CompareModelsOptions {
  models: readonly string[];
  compare: CompareParams;
  /** Folder of the evaluate stage's metrics files (DVC-versioned): the ranking's only source. */
  metricsDir: string;
  recordsDir: string;
  /** ranking JSON; the CSV goes beside it. */
  out: string;
  /**
   * Opens the trackers (`client`: MLflow, registry of the champion; `clearml`: the champion's task gets the tag
   * `compare.alias`); both are read to cross-check each model's recorded run against the metrics files. Omit to
   * rank only. Opened only when some model has a tracked run record.
   */
  openRegistry?: () => Promise<{ client?: MlflowClient; clearml?: Pick<ClearmlSinkClient, 'transport'>; close(): Promise<void> }>;
  log?: (line: string) => void;
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
  /**
   * The trackers' metrics of each model's recorded run against the metrics files (not in compare.json, which stays
   * deterministic): which runs were read, and where a tracker disagrees (or could not be read).
   */
  crossCheck?: { checked: { model: string; tracker: string; runId: string }[]; disagreements: MetricDisagreement[]; unreadable: { model: string; tracker: string; error: string }[] };
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
 * changes. `metrics/compare.json` is deterministic (no run ids, no versions) and says why there is no champion.
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
  if (o.openRegistry && tracked) {
    const registry = await o.openRegistry();
    try {
      result.crossCheck = await crossCheck(registry, records, fileMetrics, log);
      if (champion) Object.assign(result, await register(o, registry, champion.model, ranking[0]!, log));
    } finally {
      await registry.close();
    }
  } else if (champion && o.openRegistry) {
    Object.assign(result, await register(o, undefined, champion.model, ranking[0]!, log));
  }

  const metricKeys = [...METRIC_NAMES];
  const summary = {
    metric,
    higher_is_better: higher,
    baseline: { name: 'majority_class', score: baseline },
    champion,
    ...(reason ? { reason } : {}),
    registered_model: o.compare.registered_model,
    alias: o.compare.alias,
    ranking: ranking.map((r) => ({ rank: r.rank, model: r.model, score: r.score, beats_baseline: beats(r.score), ...Object.fromEntries(metricKeys.map((k) => [k, r.metrics[k] ?? null])) })),
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
  return result;
}

/** Reads each recorded run's metrics in every tracker it went to and says where they disagree with the files. */
async function crossCheck(
  registry: { client?: MlflowClient; clearml?: Pick<ClearmlSinkClient, 'transport'> },
  records: Record<string, RunRecord | undefined>,
  files: Record<string, Record<string, number>>,
  log: (line: string) => void,
): Promise<NonNullable<CompareResult['crossCheck']>> {
  const out: NonNullable<CompareResult['crossCheck']> = { checked: [], disagreements: [], unreadable: [] };
  for (const [model, record] of Object.entries(records)) {
    if (!record) continue;
    const readers: [string, string | undefined, ((id: string) => Promise<Record<string, number>>) | undefined][] = [
      ['mlflow', record.ref['mlflow'], registry.client ? (id) => mlflowRunMetrics(registry.client!, id) : undefined],
      ['clearml', record.ref['clearml'], registry.clearml && !record.ref['clearml']?.startsWith('offline-') ? (id) => clearmlTaskMetrics(registry.clearml!, id) : undefined],
    ];
    for (const [tracker, runId, read] of readers) {
      if (!runId || !read) continue;
      try {
        const held = await read(runId);
        out.checked.push({ model, tracker, runId });
        out.disagreements.push(...metricDisagreements(model, tracker, files[model] ?? {}, held));
      } catch (error) {
        out.unreadable.push({ model, tracker, error: (error instanceof Error ? error.message : String(error)).split('\n')[0]! });
      }
    }
  }
  const trackers = [...new Set(out.checked.map((c) => c.tracker))].join(' and ') || 'no tracker';
  if (out.disagreements.length === 0 && out.unreadable.length === 0) log(`cross-check: ${out.checked.length} runs in ${trackers} hold the metrics the files say`);
  for (const d of out.disagreements) log(`cross-check: ${d.tracker} run of ${d.model} says ${d.metric}=${d.tracker_value ?? '(missing)'}, ${d.model}'s metrics file says ${d.file}`);
  for (const u of out.unreadable) log(`cross-check: could not read the ${u.tracker} run of ${u.model}: ${u.error}`);
  return out;
}

async function register(
  o: CompareModelsOptions,
  opened: { client?: MlflowClient; clearml?: Pick<ClearmlSinkClient, 'transport'>; close(): Promise<void> } | undefined,
  model: string,
  best: RankedCandidate,
  log: (line: string) => void,
): Promise<Partial<CompareResult>> {
  const record = await readRunRecord(o.recordsDir, model);
  if (!record || Object.keys(record.ref).length === 0) {
    const reason = record
      ? `${model}'s run was not tracked (${runRecordPath(o.recordsDir, model)}): champion ${model} not registered`
      : `no run record ${runRecordPath(o.recordsDir, model)} (trained elsewhere; rerun evaluate@${model} to link a run): champion ${model} not registered`;
    log(reason);
    return { reason };
  }
  const registry = opened ?? (await o.openRegistry!());
  try {
    const out: Partial<CompareResult> = {};
    const taskId = record.ref['clearml'];
    if (registry.clearml && taskId && !taskId.startsWith('offline-')) {
      const tagged = await tagClearmlChampion(registry.clearml, taskId, o.compare.alias);
      out.clearmlTagged = { ...tagged, tag: o.compare.alias };
      log(
        tagged.changed
          ? `tagged ClearML task ${taskId} (${model}) ${o.compare.alias}${tagged.removedFrom.length ? `, removed the tag from ${tagged.removedFrom.join(', ')}` : ''}`
          : `ClearML task ${taskId} (${model}) already is tagged ${o.compare.alias}`,
      );
    }
    if (!record.ref['mlflow'] || !record.loggedModelId || !registry.client) {
      const reason = `${model}'s run was not tracked in MLflow (${runRecordPath(o.recordsDir, model)}): champion ${model} not registered`;
      log(reason);
      return { ...out, reason };
    }
    const registration = await registerChampion({
      client: registry.client,
      name: o.compare.registered_model,
      best: { ...best, runId: record.ref['mlflow'], loggedModelId: record.loggedModelId },
      metric: o.compare.metric,
      alias: o.compare.alias,
    });
    const { version, changed } = registration;
    log(
      changed
        ? `registered ${o.compare.registered_model} version ${version} (${model}) as @${o.compare.alias}`
        : `@${o.compare.alias} already is ${o.compare.registered_model} version ${version} (${model}, same run and model): alias confirmed, nothing registered`,
    );
    return { ...out, registered: { name: o.compare.registered_model, version, alias: o.compare.alias, changed } };
  } finally {
    if (!opened) await registry.close();
  }
}
