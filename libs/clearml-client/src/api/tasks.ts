import { z } from 'zod';
import { ClearmlValidationError } from '../errors.js';
import type { ClearmlTransport } from '../transport.js';
import { MIN_NAME_LENGTH } from './names.js';
import type { ProjectsApi } from './projects.js';
import type { QueuesApi } from './queues.js';
import type {
  artifactSchema} from './schemas.js';
import {
  configurationItemSchema,
  idResponse,
  paramsItemSchema,
  taskSchema,
  taskTypes,
  updatedResponse,
  type Artifact,
  type ConfigurationItem,
  type Task,
  type TaskType,
} from './schemas.js';

/** Where the code of a task comes from (`script`): what the SDK records and clearml-agent runs. */
export interface ScriptInfo {
  repository?: string;
  /** The commit (`script.version_num`). */
  commit?: string;
  branch?: string;
  tag?: string;
  entryPoint?: string;
  workingDir?: string;
  /** Uncommitted changes (`git diff`), or the whole script for a task without a repository. */
  diff?: string;
  /** Interpreter (`python3`, `/bin/bash`); the server's default is `python`. */
  binary?: string;
  /** e.g. `{ pip: "numpy==2.0\n…" }` */
  requirements?: Record<string, unknown>;
}

export type HyperParamValue = string | number | boolean | null | { value: string | number | boolean | null; type?: string; description?: string };
/** `{ section: { name: value } }`, e.g. `{ General: { lr: 0.01 }, Args: { epochs: 5 } }`. Values are stored as strings. */
export type HyperParamSections = Record<string, Record<string, HyperParamValue>>;
/** What comes back: `{ section: { name: string value } }` (types and descriptions in `getHyperParamItems`). */
export type HyperParamValues = Record<string, Record<string, string>>;

export interface ConfigurationInput {
  /** Text as is, or an object stored as JSON (valid HOCON, as the SDK's `connect_configuration` dictionaries). */
  value: string | Record<string, unknown> | unknown[];
  /** Default: `dictionary` for an object, `text` for a string; or name it (`yaml`, `json`, `hocon`). */
  type?: string;
  description?: string;
}

export interface CreateTaskInput {
  name: string;
  /** Project by full name (created with its parents when missing) … */
  project?: string;
  /** … or by id. */
  projectId?: string;
  /** Default `training`. */
  type?: TaskType;
  tags?: string[];
  systemTags?: string[];
  comment?: string;
  parent?: string;
  script?: ScriptInfo;
  hyperparams?: HyperParamSections;
  configuration?: Record<string, ConfigurationInput>;
  /** Default upload destination (`output.destination`), e.g. the fileserver URL. */
  outputDest?: string;
  container?: { image?: string; arguments?: string; setup_shell_script?: string };
}

export interface StatusOptions {
  /** Allow the change even when the transition is not supported from the current status. */
  force?: boolean;
  reason?: string;
  message?: string;
}

export interface CloneOptions {
  name?: string;
  comment?: string;
  tags?: string[];
  systemTags?: string[];
  projectId?: string;
  /** Project by name (created when missing). */
  project?: string;
  parent?: string;
  hyperparams?: HyperParamSections;
}

export function toScript(s: ScriptInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (s.binary !== undefined) out['binary'] = s.binary;
  if (s.repository !== undefined) out['repository'] = s.repository;
  if (s.commit !== undefined) out['version_num'] = s.commit;
  if (s.branch !== undefined) out['branch'] = s.branch;
  if (s.tag !== undefined) out['tag'] = s.tag;
  if (s.entryPoint !== undefined) out['entry_point'] = s.entryPoint;
  if (s.workingDir !== undefined) out['working_dir'] = s.workingDir;
  if (s.diff !== undefined) out['diff'] = s.diff;
  if (s.requirements !== undefined) out['requirements'] = s.requirements;
  return out;
}

/** `{section: {name: value}}` → the server's `{section: {name: {section, name, value, type?, description?}}}`. */
export function toHyperParams(sections: HyperParamSections): Record<string, Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, Record<string, string>>> = {};
  for (const [section, params] of Object.entries(sections)) {
    if (!section) throw new ClearmlValidationError('hyperparams', 'an empty section name');
    out[section] = {};
    for (const [name, v] of Object.entries(params)) {
      const item = v !== null && typeof v === 'object' ? v : { value: v };
      out[section][name] = {
        section,
        name,
        value: item.value === null || item.value === undefined ? '' : String(item.value),
        ...(item.type !== undefined ? { type: item.type } : {}),
        ...(item.description !== undefined ? { description: item.description } : {}),
      };
    }
  }
  return out;
}

function toConfigurationItem(name: string, c: ConfigurationInput): Record<string, string> {
  const isText = typeof c.value === 'string';
  return {
    name,
    value: isText ? (c.value as string) : JSON.stringify(c.value, null, 2),
    type: c.type ?? (isText ? 'text' : 'dictionary'),
    ...(c.description !== undefined ? { description: c.description } : {}),
  };
}

export function validateName(kind: string, name: string): void {
  if (typeof name !== 'string' || name.trim().length < MIN_NAME_LENGTH) {
    throw new ClearmlValidationError(`${kind} name`, `'${name}' is shorter than ${MIN_NAME_LENGTH} characters (the server answers 400/800)`);
  }
}

const hyperParamsResponse = z.object({
  params: z.array(z.object({ task: z.string(), hyperparams: z.array(paramsItemSchema) }).loose()),
});
const configurationsResponse = z.object({
  configurations: z.array(z.object({ task: z.string(), configuration: z.array(configurationItemSchema) }).loose()),
});

/** `tasks.*`: create, lifecycle, parameters, configuration, artifacts, models, queueing. */
export class TasksApi {
  constructor(
    private readonly transport: ClearmlTransport,
    private readonly projects: ProjectsApi,
    private readonly queues: QueuesApi,
  ) {}

  /** Create a task (status `created`) and return it as the server stores it. */
  async create(input: CreateTaskInput): Promise<Task> {
    validateName('task', input.name);
    const type = input.type ?? 'training';
    if (!(taskTypes as readonly string[]).includes(type)) throw new ClearmlValidationError('task type', `'${type}' is not one of ${taskTypes.join(', ')}`);
    const projectId = input.projectId ?? (input.project !== undefined ? (await this.projects.getOrCreate(input.project)).id : undefined);
    const body: Record<string, unknown> = { name: input.name, type };
    if (projectId) body['project'] = projectId;
    if (input.tags) body['tags'] = input.tags;
    if (input.systemTags) body['system_tags'] = input.systemTags;
    if (input.comment !== undefined) body['comment'] = input.comment;
    if (input.parent) body['parent'] = input.parent;
    if (input.script) body['script'] = toScript(input.script);
    if (input.hyperparams) body['hyperparams'] = toHyperParams(input.hyperparams);
    if (input.configuration) body['configuration'] = Object.fromEntries(Object.entries(input.configuration).map(([k, v]) => [k, toConfigurationItem(k, v)]));
    if (input.outputDest) body['output_dest'] = input.outputDest;
    if (input.container) body['container'] = input.container;
    const { id } = await this.transport.call('tasks.create', body, idResponse);
    return this.get(id);
  }

  async get(id: string): Promise<Task> {
    return (await this.transport.call('tasks.get_by_id', { task: id }, z.object({ task: taskSchema }))).task;
  }

  /** Several tasks by id (one `tasks.get_all` call), in no particular order. */
  async getMany(ids: readonly string[], opts: { onlyFields?: string[] } = {}): Promise<Task[]> {
    if (ids.length === 0) return [];
    const r = await this.transport.call(
      'tasks.get_all',
      { id: ids, ...(opts.onlyFields ? { only_fields: [...new Set(['id', 'name', ...opts.onlyFields])] } : {}), search_hidden: true },
      z.object({ tasks: z.array(taskSchema) }),
    );
    return r.tasks;
  }

  /**
   * `tasks.get_all_ex` as the server takes it (filters, `only_fields`, `order_by`, `page`/`page_size`): the tasks,
   * zod-checked. Remember that `name` is a regex there (`exactNameRegex(name)` for an exact match); for project
   * queries with parameters and metrics flattened see `client.query.tasksOfProject`.
   */
  async getAllEx(query: Record<string, unknown>): Promise<Task[]> {
    // id and name are always asked for (every Task has them)
    const only = query['only_fields'];
    const body = Array.isArray(only) ? { ...query, only_fields: [...new Set(['id', 'name', ...(only as string[])])] } : query;
    return (await this.transport.call('tasks.get_all_ex', body, z.object({ tasks: z.array(taskSchema) }).loose())).tasks;
  }

  /** Edit fields of a task (`tasks.edit`); a task that is no longer `created` needs `force` (default true). */
  async edit(
    id: string,
    fields: { name?: string; comment?: string; tags?: string[]; systemTags?: string[]; script?: ScriptInfo; type?: TaskType; parent?: string; projectId?: string },
    opts: { force?: boolean } = {},
  ): Promise<void> {
    if (fields.name !== undefined) validateName('task', fields.name);
    const body: Record<string, unknown> = { task: id, force: opts.force ?? true };
    if (fields.name !== undefined) body['name'] = fields.name;
    if (fields.comment !== undefined) body['comment'] = fields.comment;
    if (fields.tags) body['tags'] = fields.tags;
    if (fields.systemTags) body['system_tags'] = fields.systemTags;
    if (fields.script) body['script'] = toScript(fields.script);
    if (fields.type) body['type'] = fields.type;
    if (fields.parent) body['parent'] = fields.parent;
    if (fields.projectId) body['project'] = fields.projectId;
    await this.transport.call('tasks.edit', body, updatedResponse);
  }

  /** Set the comment (the task's description in the UI); allowed in any status (`tasks.update`). */
  async setComment(id: string, comment: string): Promise<void> {
    await this.transport.call('tasks.update', { task: id, comment }, updatedResponse);
  }

  /** Add and/or remove tags (kept unique), in any status. */
  async updateTags(id: string, change: { add?: string[]; remove?: string[] }): Promise<string[]> {
    const task = await this.get(id);
    const remove = new Set(change.remove ?? []);
    const tags = [...new Set([...task.tags, ...(change.add ?? [])])].filter((t) => !remove.has(t));
    await this.transport.call('tasks.update', { task: id, tags }, updatedResponse);
    return tags;
  }

  /** Add or remove system tags, in any status. */
  async updateSystemTags(id: string, change: { add?: string[]; remove?: string[] }): Promise<string[]> {
    const task = await this.get(id);
    const remove = new Set(change.remove ?? []);
    const tags = [...new Set([...task.system_tags, ...(change.add ?? [])])].filter((t) => !remove.has(t));
    await this.transport.call('tasks.update', { task: id, system_tags: tags }, updatedResponse);
    return tags;
  }

  // ---- status ----------------------------------------------------------------------------------------------------

  /** created/queued → in_progress */
  async started(id: string, opts: StatusOptions = {}): Promise<void> {
    await this.transport.call('tasks.started', statusBody(id, opts), updatedResponse);
  }
  /** in_progress → completed (`publish: true` also publishes it). */
  async completed(id: string, opts: StatusOptions & { publish?: boolean } = {}): Promise<void> {
    await this.transport.call('tasks.completed', { ...statusBody(id, opts), ...(opts.publish ? { publish: true } : {}) }, updatedResponse);
  }
  /** → failed (from in_progress; `force` from anything else). */
  async failed(id: string, opts: StatusOptions = {}): Promise<void> {
    await this.transport.call('tasks.failed', statusBody(id, opts), updatedResponse);
  }
  /** Mark as stopped (what a runner reports after it stopped: in_progress → stopped). */
  async stopped(id: string, opts: StatusOptions = {}): Promise<void> {
    await this.transport.call('tasks.stopped', statusBody(id, opts), updatedResponse);
  }
  /** Ask a running task to stop (`tasks.stop`: a task run by an agent is aborted; a development task is marked stopped). */
  async stop(id: string, opts: StatusOptions = {}): Promise<void> {
    await this.transport.call('tasks.stop', statusBody(id, opts), updatedResponse);
  }
  /** → closed (`force` needed unless the server allows it from the current status). */
  async close(id: string, opts: StatusOptions = {}): Promise<void> {
    await this.transport.call('tasks.close', statusBody(id, opts), updatedResponse);
  }
  /** completed → published */
  async publish(id: string, opts: StatusOptions & { publishModel?: boolean } = {}): Promise<void> {
    await this.transport.call('tasks.publish', { ...statusBody(id, opts), ...(opts.publishModel !== undefined ? { publish_model: opts.publishModel } : {}) }, updatedResponse);
  }
  /** Back to `created`, clearing the results (events, models unless kept, artifacts). */
  async reset(id: string, opts: { force?: boolean; clearAll?: boolean; deleteOutputModels?: boolean } = {}): Promise<void> {
    await this.transport.call(
      'tasks.reset',
      { task: id, force: opts.force ?? false, clear_all: opts.clearAll ?? false, ...(opts.deleteOutputModels !== undefined ? { delete_output_models: opts.deleteOutputModels } : {}) },
      updatedResponse,
    );
  }

  // ---- queues ----------------------------------------------------------------------------------------------------

  /** Put a task into a queue (by queue name, created when missing, or by id). Returns the queue id. */
  async enqueue(id: string, queue: { name: string } | { id: string }, opts: StatusOptions = {}): Promise<string> {
    const queueId = 'id' in queue ? queue.id : (await this.queues.getOrCreate(queue.name)).id;
    await this.transport.call('tasks.enqueue', { ...statusBody(id, opts), queue: queueId }, updatedResponse.extend({ queued: z.number().nullish() }));
    return queueId;
  }
  /** Take a task out of its queue (back to `created`). */
  async dequeue(id: string, opts: StatusOptions = {}): Promise<void> {
    await this.transport.call('tasks.dequeue', statusBody(id, opts), updatedResponse.extend({ dequeued: z.number().nullish() }));
  }

  // ---- copies, archive, delete -----------------------------------------------------------------------------------

  /** A new draft (`created`) copy of the task; returns its id. */
  async clone(id: string, opts: CloneOptions = {}): Promise<string> {
    if (opts.name !== undefined) validateName('task', opts.name);
    const projectId = opts.projectId ?? (opts.project !== undefined ? (await this.projects.getOrCreate(opts.project)).id : undefined);
    const body: Record<string, unknown> = { task: id };
    if (opts.name !== undefined) body['new_task_name'] = opts.name;
    if (opts.comment !== undefined) body['new_task_comment'] = opts.comment;
    if (opts.tags) body['new_task_tags'] = opts.tags;
    if (opts.systemTags) body['new_task_system_tags'] = opts.systemTags;
    if (projectId) body['new_task_project'] = projectId;
    if (opts.parent) body['new_task_parent'] = opts.parent;
    if (opts.hyperparams) body['new_task_hyperparams'] = toHyperParams(opts.hyperparams);
    return (await this.transport.call('tasks.clone', body, idResponse)).id;
  }

  /** Archive (hide) tasks: the system tag `archived`. */
  async archive(ids: string | readonly string[]): Promise<number> {
    const r = await this.transport.call('tasks.archive', { tasks: typeof ids === 'string' ? [ids] : ids }, z.object({ archived: z.number() }).loose());
    return r.archived;
  }
  async unarchive(ids: string | readonly string[]): Promise<void> {
    await this.transport.call('tasks.unarchive_many', { ids: typeof ids === 'string' ? [ids] : ids }, z.unknown());
  }

  /** Delete a task (`force` for a task that is not a draft; `deleteOutputModels` also deletes its output models). */
  async delete(id: string, opts: { force?: boolean; deleteOutputModels?: boolean } = {}): Promise<void> {
    await this.transport.call(
      'tasks.delete',
      { task: id, force: opts.force ?? true, ...(opts.deleteOutputModels !== undefined ? { delete_output_models: opts.deleteOutputModels } : {}) },
      z.object({ deleted: z.union([z.boolean(), z.number()]) }).loose(),
    );
  }

  // ---- hyperparameters and configuration --------------------------------------------------------------------------

  /**
   * Add or update hyperparameters (`tasks.edit_hyper_params`). `replace`: `none` (merge, default), `section` (replace
   * the sections given), `all`. `force` (default true) allows editing a task that is no longer a draft.
   */
  async setHyperParams(id: string, sections: HyperParamSections, opts: { replace?: 'none' | 'section' | 'all'; force?: boolean } = {}): Promise<void> {
    const items = Object.values(toHyperParams(sections)).flatMap((s) => Object.values(s));
    await this.transport.call(
      'tasks.edit_hyper_params',
      { task: id, hyperparams: items, replace_hyperparams: opts.replace ?? 'none', force: opts.force ?? true },
      updatedResponse,
    );
  }

  /** `{section: {name: value}}` of a task. */
  async getHyperParams(id: string): Promise<HyperParamValues> {
    const out: HyperParamValues = {};
    for (const p of await this.getHyperParamItems(id)) (out[p.section ?? ''] ??= {})[p.name ?? ''] = p.value;
    return out;
  }

  /** The hyperparameters as the server's items (section, name, value, type, description). */
  async getHyperParamItems(id: string): Promise<z.output<typeof paramsItemSchema>[]> {
    const r = await this.transport.call('tasks.get_hyper_params', { tasks: [id] }, hyperParamsResponse);
    return r.params.find((p) => p.task === id)?.hyperparams ?? [];
  }

  async deleteHyperParams(id: string, keys: { section: string; name?: string }[], opts: { force?: boolean } = {}): Promise<void> {
    await this.transport.call('tasks.delete_hyper_params', { task: id, hyperparams: keys, force: opts.force ?? true }, z.unknown());
  }

  /** Add or update configuration objects (`tasks.edit_configuration`), e.g. `{ params: { value: yamlText, type: 'yaml' } }`. */
  async setConfiguration(id: string, items: Record<string, ConfigurationInput>, opts: { replace?: boolean; force?: boolean } = {}): Promise<void> {
    await this.transport.call(
      'tasks.edit_configuration',
      {
        task: id,
        configuration: Object.entries(items).map(([k, v]) => toConfigurationItem(k, v)),
        replace_configuration: opts.replace ?? false,
        force: opts.force ?? true,
      },
      updatedResponse,
    );
  }

  /** Configuration objects by name. */
  async getConfiguration(id: string, names?: string[]): Promise<Record<string, ConfigurationItem>> {
    const r = await this.transport.call('tasks.get_configurations', { tasks: [id], ...(names ? { names } : {}) }, configurationsResponse);
    const items = r.configurations.find((c) => c.task === id)?.configuration ?? [];
    return Object.fromEntries(items.map((c) => [c.name ?? '', c]));
  }

  // ---- artifacts and models ---------------------------------------------------------------------------------------

  /** Register artifacts (`tasks.add_or_update_artifacts`; same key+mode replaces). See `client.artifacts.upload` for upload + register. */
  async addOrUpdateArtifacts(id: string, artifacts: ArtifactInput[], opts: { force?: boolean } = {}): Promise<void> {
    await this.transport.call(
      'tasks.add_or_update_artifacts',
      { task: id, artifacts: artifacts.map((a) => ({ mode: 'output', timestamp: Math.floor(Date.now() / 1000), ...a })), force: opts.force ?? true },
      updatedResponse,
    );
  }

  async deleteArtifacts(id: string, keys: { key: string; mode?: 'input' | 'output' }[], opts: { force?: boolean } = {}): Promise<void> {
    await this.transport.call('tasks.delete_artifacts', { task: id, artifacts: keys, force: opts.force ?? true }, z.unknown());
  }

  /** The task's artifacts. */
  async getArtifacts(id: string): Promise<Artifact[]> {
    return (await this.get(id)).execution?.artifacts ?? [];
  }

  /** Attach a model to the task as an input or output model under `name` (the server allows it while the task is `created` or `in_progress`: 400/110 after). */
  async addOrUpdateModel(id: string, model: { name: string; modelId: string; type: 'input' | 'output'; iteration?: number }): Promise<void> {
    await this.transport.call(
      'tasks.add_or_update_model',
      { task: id, name: model.name, model: model.modelId, type: model.type, ...(model.iteration !== undefined ? { iteration: model.iteration } : {}) },
      updatedResponse,
    );
  }

  /** Ask the server to keep the task alive (`tasks.ping`: updates `last_update`, so watchdogs do not abort it). */
  async ping(id: string): Promise<void> {
    await this.transport.call('tasks.ping', { task: id }, z.unknown());
  }
}

/** An artifact as `tasks.add_or_update_artifacts` takes it. */
export type ArtifactInput = z.input<typeof artifactSchema>;

function statusBody(id: string, opts: StatusOptions): Record<string, unknown> {
  return {
    task: id,
    ...(opts.force !== undefined ? { force: opts.force } : {}),
    ...(opts.reason !== undefined ? { status_reason: opts.reason } : {}),
    ...(opts.message !== undefined ? { status_message: opts.message } : {}),
  };
}
