/**
 * zod schemas of the server's objects and responses, after `apiserver/schema/services/*.conf` (the clearml-server
 * 2.x schemas; fields the server may add later pass through: every object is `.loose()`).
 */
import { z } from 'zod';

export const taskTypes = [
  'training',
  'testing',
  'inference',
  'data_processing',
  'application',
  'monitor',
  'controller',
  'optimizer',
  'service',
  'qc',
  'custom',
] as const;
export type TaskType = (typeof taskTypes)[number];

export const taskStatuses = ['created', 'queued', 'in_progress', 'stopped', 'published', 'publishing', 'closed', 'failed', 'completed', 'unknown'] as const;
export type TaskStatus = (typeof taskStatuses)[number];

/** A string the server may also return as null. */
const str = z.string().nullish().transform((v) => v ?? undefined);
/** A reference the `*_ex` endpoints join into `{id, name}`: kept as the id. */
const ref = z
  .union([z.string(), z.object({ id: z.string() }).loose()])
  .nullish()
  .transform((v) => (v === null || v === undefined ? undefined : typeof v === 'string' ? v : v.id));

/** `{project: {id, name}}` (what `get_all_ex` returns) also sets `project_name`. */
function joinNames(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  const p = o['project'];
  if (typeof p === 'object' && p !== null && typeof (p as { name?: unknown }).name === 'string' && o['project_name'] === undefined) {
    return { ...o, project_name: (p as { name: string }).name };
  }
  return v;
}

const strArray = z
  .array(z.string())
  .nullish()
  .transform((v) => v ?? []);

export const paramsItemSchema = z
  .object({ section: str, name: str, value: z.union([z.string(), z.number(), z.boolean()]).nullish().transform((v) => (v === null || v === undefined ? '' : String(v))), type: str, description: str })
  .loose();
export type ParamsItem = z.output<typeof paramsItemSchema>;

export const configurationItemSchema = z.object({ name: str, value: str, type: str, description: str }).loose();
export type ConfigurationItem = z.output<typeof configurationItemSchema>;

export const scriptSchema = z
  .object({
    binary: str,
    repository: str,
    tag: str,
    branch: str,
    version_num: str,
    entry_point: str,
    working_dir: str,
    requirements: z.record(z.string(), z.unknown()).nullish(),
    diff: str,
  })
  .loose();
export type Script = z.output<typeof scriptSchema>;

export const artifactSchema = z
  .object({
    key: z.string(),
    type: z.string(),
    mode: z.enum(['input', 'output']).nullish(),
    uri: str,
    content_size: z.number().nullish(),
    hash: str,
    timestamp: z.number().nullish(),
    type_data: z.object({ preview: str, content_type: str, data_hash: str }).loose().nullish(),
    display_data: z.array(z.array(z.unknown())).nullish(),
  })
  .loose();
export type Artifact = z.output<typeof artifactSchema>;

export const taskModelItemSchema = z.object({ name: z.string(), model: ref, updated: str }).loose();

export const lastMetricsEventSchema = z
  .object({
    metric: str,
    variant: str,
    value: z.number().nullish(),
    min_value: z.number().nullish(),
    min_value_iteration: z.number().nullish(),
    max_value: z.number().nullish(),
    max_value_iteration: z.number().nullish(),
    first_value: z.number().nullish(),
    first_value_iteration: z.number().nullish(),
    mean_value: z.number().nullish(),
    count: z.number().nullish(),
    x_axis_label: str,
  })
  .loose();
export type LastMetricsEvent = z.output<typeof lastMetricsEventSchema>;

/** `last_metrics`: metric hash → variant hash → the last/min/max values (names inside each event). */
export const lastMetricsSchema = z.record(z.string(), z.record(z.string(), lastMetricsEventSchema));

/** The object as the schema defines it (before the `*_ex` joins are folded in). */
export const taskObjectSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.string().nullish(),
    status: z.string().nullish(),
    project: ref,
    /** Set when the server joined the project (`get_all_ex`). */
    project_name: str,
    parent: ref,
    comment: str,
    user: ref,
    company: ref,
    created: str,
    started: str,
    completed: str,
    last_update: str,
    last_change: str,
    status_changed: str,
    status_reason: str,
    status_message: str,
    published: str,
    last_iteration: z.number().nullish(),
    tags: strArray,
    system_tags: strArray,
    script: scriptSchema.nullish(),
    execution: z
      .object({
        queue: str,
        parameters: z.record(z.string(), z.unknown()).nullish(),
        artifacts: z.array(artifactSchema).nullish(),
        model_desc: z.record(z.string(), z.unknown()).nullish(),
        framework: str,
        docker_cmd: str,
      })
      .loose()
      .nullish(),
    output: z.object({ destination: str, model: str, result: str, error: str }).loose().nullish(),
    models: z.object({ input: z.array(taskModelItemSchema).nullish(), output: z.array(taskModelItemSchema).nullish() }).loose().nullish(),
    hyperparams: z.record(z.string(), z.record(z.string(), paramsItemSchema)).nullish(),
    configuration: z.record(z.string(), configurationItemSchema).nullish(),
    last_metrics: lastMetricsSchema.nullish(),
    runtime: z.record(z.string(), z.unknown()).nullish(),
    container: z.record(z.string(), z.unknown()).nullish(),
  })
  .loose();
export const taskSchema = z.preprocess(joinNames, taskObjectSchema);
export type Task = z.output<typeof taskSchema>;

export const projectSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    basename: str,
    description: str,
    parent: ref,
    created: str,
    last_update: str,
    tags: strArray,
    system_tags: strArray,
    default_output_destination: str,
  })
  .loose();
export type Project = z.output<typeof projectSchema>;

/** The object as the schema defines it (before the `*_ex` joins are folded in). */
export const modelObjectSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    project: ref,
    project_name: str,
    task: ref,
    parent: ref,
    user: ref,
    comment: str,
    created: str,
    last_update: str,
    tags: strArray,
    system_tags: strArray,
    framework: str,
    design: z.record(z.string(), z.unknown()).nullish(),
    labels: z.record(z.string(), z.number()).nullish(),
    uri: str,
    ready: z.boolean().nullish(),
    last_iteration: z.number().nullish(),
    last_metrics: lastMetricsSchema.nullish(),
    metadata: z.record(z.string(), z.object({ key: str, type: str, value: str }).loose()).nullish(),
  })
  .loose();
export const modelSchema = z.preprocess(joinNames, modelObjectSchema);
export type Model = z.output<typeof modelSchema>;

export const queueSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    display_name: str,
    created: str,
    tags: strArray,
    system_tags: strArray,
    entries: z.array(z.object({ task: z.string(), added: str }).loose()).nullish(),
  })
  .loose();
export type Queue = z.output<typeof queueSchema>;

export const idResponse = z.object({ id: z.string() }).loose();
export const updatedResponse = z.object({ updated: z.number().nullish(), fields: z.record(z.string(), z.unknown()).nullish() }).loose();
