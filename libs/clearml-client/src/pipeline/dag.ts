/**
 * The DAG of a pipeline and the `Pipeline` configuration object the controller task carries.
 *
 * The format is the official SDK's (`clearml/automation/controller.py`, `PipelineController._serialize`): a JSON
 * dictionary `step name → node`, each node the fields of `PipelineController.Node` except `job`, `name` and
 * `task_factory_func`, plus `job_id` (the step's task). It is stored on the controller task as configuration
 * `Pipeline` (type `dictionary`), rewritten as the steps move on (`_force_task_configuration_update`). The web UI's
 * pipeline page parses exactly this (`convertPipelineToDagModel`: `parents` per node; `job_id` opens the step's task;
 * `status` colours it, one of {@link pipelineNodeStatuses}); it only draws step states when the controller has the
 * runtime property `_pipeline_hash`.
 */
import { z } from 'zod';
import { ScriptInfoSchema } from './schemas.js';
import { ClearmlPipelineDagError } from './errors.js';

/** `PipelineController.valid_job_status`. */
export const pipelineNodeStatuses = ['pending', 'queued', 'running', 'completed', 'cached', 'failed', 'aborted', 'skipped'] as const;
export type PipelineNodeStatus = (typeof pipelineNodeStatuses)[number];

const paramValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** One step of a pipeline, as the caller describes it. */
export const PipelineStepSchema = z.object({
  /** Unique in the pipeline; the step task's name (at least 3 characters: the server's rule for task names). */
  name: z.string().min(1),
  /** Names of the steps this one waits for. */
  parents: z.array(z.string()).default([]),
  /** Hyperparameters of the step task (section {@link PipelineStepSchema.paramsSection}), e.g. `{ 'train.lr': 0.01 }`. */
  params: z.record(z.string(), paramValue).default({}),
  /** Hyperparameter section the params go in (default `Args`, the SDK's for pipeline args). */
  paramsSection: z.string().min(1).default('Args'),
  /** Files or folders uploaded as artifacts of the step task after it ran (relative to the run's `artifactsRoot`). */
  artifacts: z.array(z.object({ path: z.string().min(1), kind: z.enum(['outs', 'metrics', 'plots']).default('outs') })).default([]),
  /** Task type of the step (default `data_processing`). */
  type: z.enum(['training', 'testing', 'inference', 'data_processing', 'application', 'monitor', 'controller', 'optimizer', 'service', 'qc', 'custom']).default('data_processing'),
  /** Queue mode: what the agent runs (e.g. `{ binary: '/bin/bash', repository, branch, commit, workingDir, entryPoint, diff }`). */
  script: ScriptInfoSchema.optional(),
  /** Shown as the task's description. */
  description: z.string().optional(),
  /** The `stage` of the node (the web UI groups steps of one stage). */
  stage: z.string().optional(),
});
export type PipelineStep = z.input<typeof PipelineStepSchema>;
export type ResolvedPipelineStep = z.output<typeof PipelineStepSchema>;

/** Check names, parents and cycles; the steps in an order where every parent comes before its children. */
export function validateDag(steps: readonly PipelineStep[]): ResolvedPipelineStep[] {
  const parsed: ResolvedPipelineStep[] = [];
  for (const [i, s] of steps.entries()) {
    const r = PipelineStepSchema.safeParse(s);
    if (!r.success) {
      const where = typeof (s as { name?: unknown })?.name === 'string' ? `step '${(s as { name: string }).name}'` : `step #${i + 1}`;
      throw new ClearmlPipelineDagError(`invalid ${where}: ${r.error.issues.map((x) => `${x.path.join('.') || '(step)'}: ${x.message}`).join('; ')}`);
    }
    parsed.push(r.data);
  }
  if (parsed.length === 0) throw new ClearmlPipelineDagError('the pipeline has no steps');
  const byName = new Map<string, ResolvedPipelineStep>();
  for (const s of parsed) {
    if (s.name.trim().length < 3) throw new ClearmlPipelineDagError(`step name '${s.name}' is shorter than 3 characters (the server refuses such task names)`, s.name);
    if (byName.has(s.name)) throw new ClearmlPipelineDagError(`two steps are named '${s.name}'`, s.name);
    byName.set(s.name, s);
  }
  for (const s of parsed) {
    for (const p of s.parents) {
      if (!byName.has(p)) throw new ClearmlPipelineDagError(`step '${s.name}' has parent '${p}', which is not a step of the pipeline`, s.name);
      if (p === s.name) throw new ClearmlPipelineDagError(`step '${s.name}' is its own parent`, s.name);
    }
  }
  // Kahn's algorithm, keeping the given order among ready steps
  const done = new Set<string>();
  const order: ResolvedPipelineStep[] = [];
  let left = [...parsed];
  while (left.length > 0) {
    const ready = left.filter((s) => s.parents.every((p) => done.has(p)));
    if (ready.length === 0) throw new ClearmlPipelineDagError(`the steps ${left.map((s) => `'${s.name}'`).join(', ')} form a cycle`, left[0]?.name);
    for (const s of ready) {
      done.add(s.name);
      order.push(s);
    }
    left = left.filter((s) => !done.has(s.name));
  }
  return order;
}

/** A node of the `Pipeline` configuration (the SDK's `PipelineController.Node` fields + `job_id`). */
export const PipelineNodeSchema = z
  .object({
    base_task_id: z.string().nullable(),
    queue: z.string().nullable(),
    parents: z.array(z.string()),
    timeout: z.number().nullable(),
    parameters: z.record(z.string(), z.unknown()),
    configurations: z.record(z.string(), z.unknown()),
    task_overrides: z.record(z.string(), z.unknown()),
    executed: z.string().nullable(),
    status: z.enum(pipelineNodeStatuses),
    clone_task: z.boolean(),
    job_type: z.string().nullable(),
    job_started: z.number().nullable(),
    job_ended: z.number().nullable(),
    job_code_section: z.string().nullable(),
    skip_job: z.boolean(),
    cache_executed_step: z.boolean(),
    return_artifacts: z.array(z.string()),
    monitor_metrics: z.array(z.unknown()),
    monitor_artifacts: z.array(z.unknown()),
    monitor_models: z.array(z.unknown()),
    explicit_docker_image: z.string().nullable(),
    recursively_parse_parameters: z.boolean(),
    output_uri: z.union([z.string(), z.boolean()]).nullable(),
    draft: z.boolean(),
    continue_behaviour: z.record(z.string(), z.unknown()).nullable(),
    continue_on_fail: z.boolean(),
    continue_on_abort: z.boolean(),
    skip_children_on_abort: z.boolean(),
    skip_children_on_fail: z.boolean(),
    stage: z.string().nullable(),
    job_id: z.string().nullable(),
  })
  .loose();
export type PipelineNode = z.output<typeof PipelineNodeSchema>;
export const PipelineConfigSchema = z.record(z.string(), PipelineNodeSchema);
export type PipelineConfig = z.output<typeof PipelineConfigSchema>;

/** The state of one node while the pipeline runs. */
export interface NodeState {
  status: PipelineNodeStatus;
  /** The step's task, once created. */
  taskId?: string | undefined;
  /** Epoch seconds. */
  jobStarted?: number | undefined;
  jobEnded?: number | undefined;
  /** `executed` in the SDK: the task id once the step ended with a result its children may use. */
  executed?: string | undefined;
  skipped?: boolean;
}

/** `Section/name → value` as the SDK keeps a node's `parameters`. */
export function nodeParameters(step: ResolvedPipelineStep): Record<string, string> {
  return Object.fromEntries(Object.entries(step.params).map(([k, v]) => [`${step.paramsSection}/${k}`, v === null ? '' : String(v)]));
}

/** The `Pipeline` configuration dictionary for the steps in their current states. */
export function pipelineConfig(steps: readonly ResolvedPipelineStep[], states: ReadonlyMap<string, NodeState>, opts: { queue?: string | undefined } = {}): PipelineConfig {
  const out: PipelineConfig = {};
  for (const s of steps) {
    const st = states.get(s.name) ?? { status: 'pending' };
    out[s.name] = {
      base_task_id: st.taskId ?? null,
      queue: opts.queue ?? null,
      parents: [...s.parents],
      timeout: null,
      parameters: nodeParameters(s),
      configurations: {},
      task_overrides: {},
      executed: st.executed ?? null,
      status: st.status,
      clone_task: false,
      job_type: s.type,
      job_started: st.jobStarted ?? null,
      job_ended: st.jobEnded ?? null,
      job_code_section: null,
      skip_job: st.status === 'skipped',
      cache_executed_step: false,
      return_artifacts: [],
      monitor_metrics: [],
      monitor_artifacts: [],
      monitor_models: [],
      explicit_docker_image: null,
      recursively_parse_parameters: false,
      output_uri: null,
      draft: false,
      continue_behaviour: null,
      continue_on_fail: false,
      continue_on_abort: false,
      skip_children_on_abort: true,
      skip_children_on_fail: true,
      stage: s.stage ?? null,
      job_id: st.taskId ?? null,
    };
  }
  return out;
}

/** Parse a `Pipeline` configuration value (as read back from a controller task). */
export function parsePipelineConfig(text: string): PipelineConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ClearmlPipelineDagError(`the Pipeline configuration is not JSON: ${(e as Error).message}`);
  }
  const r = PipelineConfigSchema.safeParse(raw);
  if (!r.success) throw new ClearmlPipelineDagError(`the Pipeline configuration does not have the SDK's node shape: ${r.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** `PipelineController._get_node_color`. */
const NODE_COLORS: Record<PipelineNodeStatus, string> = {
  failed: 'red',
  cached: 'darkslateblue',
  completed: 'blue',
  aborted: 'royalblue',
  queued: '#bdf5bd',
  running: 'green',
  skipped: 'gray',
  pending: 'lightsteelblue',
};

/**
 * The "Pipeline / Execution Flow" plot the SDK reports on the controller (`_update_execution_plot`): a Plotly sankey
 * of the steps (label `name<br />param: value`, colour by status, one link per parent), plus the scatter it adds for
 * steps with neither parents nor children.
 */
export function executionFlowFigure(steps: readonly ResolvedPipelineStep[], states: ReadonlyMap<string, NodeState>): Record<string, unknown> {
  const order = steps.map((s) => s.name);
  const short = (v: unknown) => (String(v).length < 24 ? String(v) : `${String(v).slice(0, 24)} ...`);
  const label = steps.map((s) => [s.name, ...Object.entries(nodeParameters(s)).map(([k, v]) => `${k}: ${short(v)}`)].concat(Object.keys(s.params).length ? [] : ['']).join('<br />'));
  const color = steps.map((s) => NODE_COLORS[states.get(s.name)?.status ?? 'pending']);
  const link = { source: [] as number[], target: [] as number[], value: [] as number[], hovertemplate: '<extra></extra>' };
  steps.forEach((s, i) => {
    for (const p of s.parents) {
      link.source.push(order.indexOf(p));
      link.target.push(i);
      link.value.push(1);
    }
  });
  const singles = order.map((_, i) => i).filter((i) => !link.source.includes(i) && !link.target.includes(i));
  const flow: Record<string, unknown> = {
    link,
    node: { label, color, hovertemplate: '%{label}<extra></extra>' },
    textfont: { color: 'rgba(0,0,0,0)', size: 1 },
    type: 'sankey',
    orientation: 'h',
  };
  if (singles.length === 0) return { data: [flow], layout: { xaxis: { visible: false }, yaxis: { visible: false } } };
  const scatter = {
    x: singles.map((_, i) => i),
    y: singles.map(() => 1),
    text: singles.map((i) => label[i]),
    mode: 'markers',
    hovertemplate: '%{text}<extra></extra>',
    marker: { color: singles.map((i) => color[i]), size: singles.map(() => 40) },
    showlegend: false,
    type: 'scatter',
  };
  if (singles.length === steps.length) return { data: [scatter], layout: { hovermode: 'closest', xaxis: { visible: false }, yaxis: { visible: false } } };
  return {
    data: [{ ...flow, domain: { x: [0, 1], y: [0.2, 1] } }, scatter],
    layout: { autosize: true, hovermode: 'closest', xaxis: { anchor: 'y', domain: [0, 1], visible: false }, yaxis: { anchor: 'x', domain: [0, 0.15], visible: false } },
  };
}
