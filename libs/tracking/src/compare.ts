import { MlflowNotFoundError, type MlflowClient, type ModelVersion, type Run } from '@mlops-ts/mlflow-client';

/** Tags the pipeline stages put on every run, so runs can be found and compared later. */
export const PipelineTags = {
  model: 'mlops.model',
  pipelineRunId: 'mlops.pipeline_run_id',
  dvcStage: 'mlops.dvc_stage',
  datasetMd5: 'mlops.dataset_md5',
  loggedModelId: 'mlops.logged_model_id',
} as const;

export interface Candidate {
  /** The tracker run holding the model; absent when the run record is missing (ranked from metrics files). */
  runId?: string;
  runName?: string;
  /** Model name from params (`models.<name>`). */
  model: string;
  metrics: Record<string, number>;
  params: Record<string, string>;
  loggedModelId?: string;
}

export interface RankedCandidate extends Candidate {
  rank: number;
  /** The ranking metric's value; `null` when the run has none (ranked last). */
  score: number | null;
}

/**
 * Orders candidates by `metric` (higher first when `higherIsBetter`). Runs without the metric, or with NaN, come
 * last; ties keep the model-name order so the ranking is deterministic.
 */
export function rankByMetric(candidates: readonly Candidate[], metric: string, higherIsBetter: boolean): RankedCandidate[] {
  const scored = candidates.map((c) => {
    const v = c.metrics[metric];
    return { ...c, score: v === undefined || Number.isNaN(v) ? null : v };
  });
  scored.sort((a, b) => {
    if (a.score === null || b.score === null) return a.score === b.score ? a.model.localeCompare(b.model) : a.score === null ? 1 : -1;
    const d = higherIsBetter ? b.score - a.score : a.score - b.score;
    return d !== 0 ? d : a.model.localeCompare(b.model);
  });
  return scored.map((c, i) => ({ ...c, rank: i + 1 }));
}

function candidateOf(run: Run): Candidate {
  const tags = Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
  const metrics = Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, Number(m.value)]));
  const params = Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value]));
  const loggedModelId = tags[PipelineTags.loggedModelId];
  return {
    runId: run.info.run_id,
    runName: run.info.run_name ?? tags['mlflow.runName'] ?? run.info.run_id,
    model: tags[PipelineTags.model] ?? run.info.run_name ?? run.info.run_id,
    metrics,
    params,
    ...(loggedModelId ? { loggedModelId } : {}),
  };
}

/**
 * Finds the runs to compare in MLflow — by run id (the ids the train stages recorded) or by pipeline-run id tag —
 * and ranks them. Every requested run id must be found: a missing one is an error naming it.
 */
export async function rankMlflowRuns(opts: {
  client: MlflowClient;
  experiment: string;
  runIds?: readonly string[];
  pipelineRunId?: string;
  metric: string;
  higherIsBetter: boolean;
}): Promise<RankedCandidate[]> {
  const experiment = await opts.client.getExperimentByName(opts.experiment);
  if (!experiment) throw new Error(`MLflow experiment "${opts.experiment}" does not exist`);
  const filters: string[] = [];
  if (opts.runIds && opts.runIds.length > 0) filters.push(`attributes.run_id IN (${opts.runIds.map((id) => `'${id.replace(/'/g, '')}'`).join(', ')})`);
  if (opts.pipelineRunId) filters.push(`tags.\`${PipelineTags.pipelineRunId}\` = '${opts.pipelineRunId.replace(/'/g, '')}'`);
  if (filters.length === 0) throw new Error('rankMlflowRuns needs runIds or a pipelineRunId');
  const runs = await opts.client.searchAllRuns({ experimentIds: [experiment.experiment_id], filter: filters.join(' AND ') });
  const found = new Set(runs.map((r) => r.info.run_id));
  const missing = (opts.runIds ?? []).filter((id) => !found.has(id));
  if (missing.length > 0) throw new Error(`MLflow runs not found in experiment "${opts.experiment}": ${missing.join(', ')}`);
  return rankByMetric(runs.map(candidateOf), opts.metric, opts.higherIsBetter);
}

/** What `registerChampion` did: the version the alias points at, and whether it is new. */
export type ChampionRegistration = ModelVersion & {
  /** `true`: a new model version was created; `false`: the alias already pointed at this run and model (confirmed). */
  changed: boolean;
};

/**
 * Registers the best candidate's logged model under `name` and points `alias` (default "champion") at it — only when
 * the champion changes: when the alias's current version is the same run and logged model, the alias is confirmed
 * and no version is created.
 */
export async function registerChampion(opts: {
  client: MlflowClient;
  name: string;
  best: RankedCandidate;
  metric: string;
  alias?: string;
}): Promise<ChampionRegistration> {
  const alias = opts.alias ?? 'champion';
  if (!opts.best.loggedModelId || !opts.best.runId) throw new Error(`model ${opts.best.model} has no recorded run with a logged model (tag ${PipelineTags.loggedModelId})`);
  const current = await opts.client.getModelVersionByAlias(opts.name, alias).catch((error: unknown) => {
    if (error instanceof MlflowNotFoundError) return undefined;
    throw error;
  });
  // The version's model: its model_id where the server returns it, else the `models:/<id>` source it was created from.
  const sameModel = (v: ModelVersion) => v.model_id === opts.best.loggedModelId || v.source === `models:/${opts.best.loggedModelId}`;
  if (current && current.run_id === opts.best.runId && sameModel(current)) {
    await opts.client.setRegisteredModelAlias(opts.name, alias, current.version);
    return { ...current, changed: false };
  }
  const version = await opts.client.registerModel({
    name: opts.name,
    modelId: opts.best.loggedModelId,
    runId: opts.best.runId,
    alias,
    tags: { [PipelineTags.model]: opts.best.model, 'mlops.rank_metric': opts.metric, 'mlops.rank_score': String(opts.best.score) },
  });
  return { ...version, changed: true };
}

/**
 * CSV of a ranking: rank, model, run id, score, then the given metric columns. `runIds: false` leaves the run id
 * column out (a DVC-versioned file that must stay the same for the same results).
 */
export function rankingCsv(ranked: readonly RankedCandidate[], metricKeys: readonly string[], opts: { runIds?: boolean } = {}): string {
  const ids = opts.runIds ?? true;
  const cell = (v: string | number | null | undefined): string => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const header = ['rank', 'model', ...(ids ? ['run_id'] : []), 'score', ...metricKeys];
  const rows = ranked.map((r) => [r.rank, r.model, ...(ids ? [r.runId] : []), r.score, ...metricKeys.map((k) => r.metrics[k])].map(cell).join(','));
  return [header.join(','), ...rows].join('\n') + '\n';
}
