// Read-backs for the contract suite: what each tracker holds for a run, through that tracker's own API, in one
// tracker-neutral shape so the same assertions run against every sink.
import type { MlflowClient } from '@mlops-ts/mlflow-client';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { metricKeyOf, PROPERTIES_SECTION, type MemoryTracker, type RunStatus } from '../src/index.js';

export interface ReadBack {
  params: Record<string, string>;
  /** key → [step, value] in step order. */
  metrics: Record<string, [number, number][]>;
  tags: Record<string, string>;
  /** Dataset digests by input name. */
  inputs: Record<string, string>;
  /** Names of the figures. */
  figures: string[];
  /** The bytes of an artifact logged as `plots/history.json`. */
  artifact(key: string): Promise<Buffer>;
  artifactKeys: string[];
  /** The run's model: its id in the tracker and its labels, when the tracker keeps them. */
  model: { id: string; labels?: string[] } | undefined;
  status: RunStatus | undefined;
}

export function memoryReader(tracker: MemoryTracker) {
  return async (runId: string): Promise<ReadBack> => {
    const r = tracker.runs.find((x) => x.runId === runId)!;
    const metrics: ReadBack['metrics'] = {};
    for (const m of r.metrics) (metrics[m.key] ??= []).push([m.step, m.value]);
    return {
      params: r.params,
      metrics,
      tags: { ...r.options.tags, ...r.tags },
      inputs: Object.fromEntries(r.inputs.map((i) => [i.name, i.digest])),
      figures: Object.keys(r.figures).sort(),
      artifactKeys: r.artifacts.map((a) => (a.artifactPath ? `${a.artifactPath}/${a.localPath.split('/').pop()}` : a.localPath.split('/').pop()!)),
      artifact: async (key) => readFile(r.artifacts.find((a) => key.endsWith(a.localPath.split('/').pop()!))!.localPath),
      model: r.models[0] ? { id: `${r.runId}/${r.models[0].name}`, ...(r.models[0].labels ? { labels: r.models[0].labels } : {}) } : undefined,
      status: r.status,
    };
  };
}

export function mlflowReader(client: MlflowClient) {
  return async (runId: string): Promise<ReadBack> => {
    const run = await client.getRun(runId);
    const metrics: ReadBack['metrics'] = {};
    for (const m of run.data.metrics ?? []) {
      const history = await client.getMetricHistory(runId, m.key);
      metrics[m.key] = history.map((h) => [Number(h.step), Number(h.value)] as [number, number]).sort((a, b) => a[0] - b[0]);
    }
    const tags = Object.fromEntries((run.data.tags ?? []).filter((t) => !t.key.startsWith('mlflow.')).map((t) => [t.key, t.value]));
    const figures = (await client.listArtifacts(runId, 'figures')).map((f) => f.path.replace(/^figures\//, '')).filter((p) => p.endsWith('.html')).map((p) => p.replace(/\.html$/, '')).sort();
    const models = await client.searchLoggedModels({ experimentIds: [run.info.experiment_id] });
    const model = models.items.find((m) => m.info.source_run_id === runId);
    const keys = [...(await client.listArtifacts(runId, 'plots')).map((f) => f.path)];
    return {
      params: Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value])),
      metrics,
      tags,
      inputs: Object.fromEntries((run.inputs?.dataset_inputs ?? []).map((d) => [d.dataset.name, d.dataset.digest])),
      figures,
      artifactKeys: keys,
      artifact: async (key) => {
        const dir = await mkdtemp(join(tmpdir(), 'contract-mlflow-'));
        try {
          const local = await client.downloadArtifacts(runId, key, dir);
          return await readFile(local);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
      model: model ? { id: model.info.model_id } : undefined,
      status: run.info.status as RunStatus,
    };
  };
}

const HyperSchema = z.record(z.string(), z.record(z.string(), z.looseObject({ value: z.string().optional() })));
const TaskSchema = z.object({
  task: z.looseObject({
    id: z.string(),
    status: z.string(),
    tags: z.array(z.string()).nullish(),
    hyperparams: HyperSchema.nullish(),
    configuration: z.record(z.string(), z.looseObject({ value: z.string().optional() })).nullish(),
    execution: z.looseObject({ artifacts: z.array(z.looseObject({ key: z.string(), uri: z.string().optional(), mode: z.string().optional() })).nullish() }).nullish(),
    models: z.looseObject({ output: z.array(z.looseObject({ name: z.string(), model: z.string() })).nullish() }).nullish(),
  }),
});
const HistogramSchema = z.record(z.string(), z.record(z.string(), z.looseObject({ x: z.array(z.number()), y: z.array(z.number()) })));
const PlotsSchema = z.looseObject({ plots: z.array(z.looseObject({ metric: z.string(), variant: z.string() })) });
const ModelSchema = z.object({ model: z.looseObject({ id: z.string(), labels: z.record(z.string(), z.number()).nullish() }) });

/** The parts of a ClearML client the reader calls. */
export interface ClearmlReadClient {
  transport: { call<S extends z.ZodType>(endpoint: string, body: unknown, schema: S): Promise<z.output<S>>; authorization(): Promise<string> };
}

const STATUS: Record<string, RunStatus> = { completed: 'FINISHED', failed: 'FAILED', stopped: 'KILLED' };

export function clearmlReader(client: ClearmlReadClient) {
  return async (taskId: string): Promise<ReadBack> => {
    const { task } = await client.transport.call('tasks.get_by_id', { task: taskId }, TaskSchema);
    const params: Record<string, string> = {};
    const tags: Record<string, string> = {};
    for (const [section, values] of Object.entries(task.hyperparams ?? {})) {
      for (const [name, p] of Object.entries(values)) {
        if (section === PROPERTIES_SECTION) tags[name] = p.value ?? '';
        else params[section === 'General' ? name : `${section}.${name}`] = p.value ?? '';
      }
    }
    const histogram = await client.transport.call('events.scalar_metrics_iter_histogram', { task: taskId, key: 'iter' }, HistogramSchema);
    const metrics: ReadBack['metrics'] = {};
    for (const [metric, variants] of Object.entries(histogram)) {
      for (const [variant, series] of Object.entries(variants)) metrics[metricKeyOf(metric, variant)] = series.x.map((x, i) => [x, series.y[i]!] as [number, number]);
    }
    const plots = await client.transport.call('events.get_task_plots', { task: taskId, iters: 1 }, PlotsSchema);
    const inputs: Record<string, string> = {};
    for (const [name, c] of Object.entries(task.configuration ?? {})) {
      if (name.startsWith('Dataset ')) inputs[name.slice('Dataset '.length)] = (JSON.parse(c.value ?? '{}') as { digest: string }).digest;
    }
    const artifacts = (task.execution?.artifacts ?? []).filter((a) => a.mode !== 'input');
    const out = task.models?.output?.[0];
    const model = out ? (await client.transport.call('models.get_by_id', { model: out.model }, ModelSchema)).model : undefined;
    const labelNames = model?.labels ? Object.entries(model.labels).sort((a, b) => a[1] - b[1]).map(([k]) => k) : undefined;
    return {
      params,
      metrics,
      tags,
      inputs,
      figures: [...new Set(plots.plots.map((p) => p.metric))].sort(),
      artifactKeys: artifacts.map((a) => a.key),
      artifact: async (key) => {
        const uri = artifacts.find((a) => a.key === key)?.uri;
        if (!uri) throw new Error(`no artifact ${key}`);
        const res = await fetch(uri, { headers: { Authorization: await client.transport.authorization() } });
        if (!res.ok) throw new Error(`GET ${uri}: HTTP ${res.status}`);
        return Buffer.from(await res.arrayBuffer());
      },
      model: model ? { id: model.id, ...(labelNames ? { labels: labelNames } : {}) } : undefined,
      status: STATUS[task.status],
    };
  };
}
