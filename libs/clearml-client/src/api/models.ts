import { basename } from 'node:path';
import { z } from 'zod';
import type { ClearmlFiles, UploadResult } from '../files.js';
import type { ClearmlTransport } from '../transport.js';
import type { ProjectsApi } from './projects.js';
import { idResponse, modelSchema, updatedResponse, type Model } from './schemas.js';
import type { TasksApi } from './tasks.js';
import { validateName } from './tasks.js';

export interface CreateModelInput {
  name: string;
  /** Project by full name (created when missing) … */
  project?: string;
  /** … or by id. */
  projectId?: string;
  /** The task that created it. */
  taskId?: string;
  /** Where the weights are (set later by `uploadWeights`). */
  uri?: string;
  /** e.g. `TensorFlow.js`, `PyTorch`, `ScikitLearn`. */
  framework?: string;
  /** The network design: text (stored as `{design: text}`, the SDK's way) or an object. */
  design?: string | Record<string, unknown>;
  /** Class labels → output index, e.g. `{ delayed: 1, on_time: 0 }`. */
  labels?: Record<string, number>;
  tags?: string[];
  systemTags?: string[];
  comment?: string;
  parent?: string;
  /** Published right away (default false: a draft you can still edit). */
  ready?: boolean;
  /** `models.create` metadata items `{key: {value, type}}`. */
  metadata?: Record<string, { value: string; type?: string }>;
}

export interface ModelUpdate {
  name?: string;
  comment?: string;
  tags?: string[];
  systemTags?: string[];
  uri?: string;
  framework?: string;
  design?: string | Record<string, unknown>;
  labels?: Record<string, number>;
  taskId?: string;
  iteration?: number;
}

function designOf(d: string | Record<string, unknown>): Record<string, unknown> {
  return typeof d === 'string' ? { design: d } : d;
}

/** `models.*`: the model registry of a ClearML server, weights on its fileserver. */
export class ModelsApi {
  constructor(
    private readonly transport: ClearmlTransport,
    private readonly projects: ProjectsApi,
    private readonly tasks: TasksApi,
    private readonly files: ClearmlFiles,
  ) {}

  async create(input: CreateModelInput): Promise<Model> {
    validateName('model', input.name);
    const projectId = input.projectId ?? (input.project !== undefined ? (await this.projects.getOrCreate(input.project)).id : undefined);
    const body: Record<string, unknown> = { name: input.name, uri: input.uri ?? '' };
    if (projectId) body['project'] = projectId;
    if (input.taskId) body['task'] = input.taskId;
    if (input.framework) body['framework'] = input.framework;
    if (input.design !== undefined) body['design'] = designOf(input.design);
    if (input.labels) body['labels'] = input.labels;
    if (input.tags) body['tags'] = input.tags;
    if (input.systemTags) body['system_tags'] = input.systemTags;
    if (input.comment !== undefined) body['comment'] = input.comment;
    if (input.parent) body['parent'] = input.parent;
    body['ready'] = input.ready ?? false; // the server's default is true (published)
    if (input.metadata) body['metadata'] = Object.fromEntries(Object.entries(input.metadata).map(([key, m]) => [key, { key, value: m.value, type: m.type ?? 'str' }]));
    const { id } = await this.transport.call('models.create', body, idResponse);
    return this.get(id);
  }

  async get(id: string): Promise<Model> {
    return (await this.transport.call('models.get_by_id', { model: id }, z.object({ model: modelSchema }))).model;
  }

  /** Edit a model (`models.edit`). */
  async update(id: string, fields: ModelUpdate): Promise<void> {
    if (fields.name !== undefined) validateName('model', fields.name);
    const body: Record<string, unknown> = { model: id };
    if (fields.name !== undefined) body['name'] = fields.name;
    if (fields.comment !== undefined) body['comment'] = fields.comment;
    if (fields.tags) body['tags'] = fields.tags;
    if (fields.systemTags) body['system_tags'] = fields.systemTags;
    if (fields.uri !== undefined) body['uri'] = fields.uri;
    if (fields.framework !== undefined) body['framework'] = fields.framework;
    if (fields.design !== undefined) body['design'] = designOf(fields.design);
    if (fields.labels) body['labels'] = fields.labels;
    if (fields.taskId) body['task'] = fields.taskId;
    if (fields.iteration !== undefined) body['iteration'] = fields.iteration;
    await this.transport.call('models.edit', body, updatedResponse);
  }

  /** Add/remove tags (`models.update`). */
  async updateTags(id: string, change: { add?: string[]; remove?: string[] }): Promise<string[]> {
    const m = await this.get(id);
    const remove = new Set(change.remove ?? []);
    const tags = [...new Set([...m.tags, ...(change.add ?? [])])].filter((t) => !remove.has(t));
    await this.transport.call('models.update', { model: id, tags }, updatedResponse);
    return tags;
  }

  /**
   * Upload weights to the fileserver and point the model's `uri` at them. The key follows the SDK's layout:
   * `<project>/<task name>.<task id>/models/<file>` for a task's model, else `<project>/models/<model name>.<model id>/<file>`.
   */
  async uploadWeights(id: string, source: string | Uint8Array, opts: { filename?: string } = {}): Promise<UploadResult> {
    const model = await this.get(id);
    const filename = opts.filename ?? (typeof source === 'string' ? basename(source) : 'weights.bin');
    const projectName = model.project ? (await this.projects.get(model.project)).name : 'models';
    let key: string;
    if (model.task) {
      const task = await this.tasks.get(model.task);
      key = `${projectName}/${task.name}.${task.id}/models/${filename}`;
    } else {
      key = `${projectName}/models/${model.name}.${model.id}/${filename}`;
    }
    const up = await this.files.put(source, key);
    await this.update(id, { uri: up.url });
    return up;
  }

  /** Download the model's weights (its `uri` on the fileserver). */
  async downloadWeights(id: string): Promise<Buffer> {
    const m = await this.get(id);
    if (!m.uri) throw new Error(`ClearML model ${id} has no weights uri`);
    return this.files.download(m.uri);
  }

  /**
   * A task's output model in one go: create it (linked to the task and its project), upload the weights when given,
   * attach it to the task as output model `name` (`tasks.add_or_update_model`).
   */
  async createForTask(taskId: string, input: Omit<CreateModelInput, 'taskId' | 'project' | 'projectId'> & { weights?: string | Uint8Array; weightsFilename?: string; iteration?: number }): Promise<Model> {
    const task = await this.tasks.get(taskId);
    const { weights, weightsFilename, iteration, ...rest } = input;
    const model = await this.create({ ...rest, taskId, ...(task.project ? { projectId: task.project } : {}) });
    if (weights !== undefined) await this.uploadWeights(model.id, weights, weightsFilename ? { filename: weightsFilename } : {});
    await this.tasks.addOrUpdateModel(taskId, { name: input.name, modelId: model.id, type: 'output', ...(iteration !== undefined ? { iteration } : {}) });
    return this.get(model.id);
  }

  /** Publish (`models.set_ready`): the model shows as published (`ready`). `publishTask` also publishes its task. */
  async publish(id: string, opts: { publishTask?: boolean; forcePublishTask?: boolean } = {}): Promise<void> {
    await this.transport.call(
      'models.set_ready',
      { model: id, publish_task: opts.publishTask ?? false, ...(opts.forcePublishTask !== undefined ? { force_publish_task: opts.forcePublishTask } : {}) },
      updatedResponse,
    );
  }

  /** Same as {@link publish} (the endpoint's own name). */
  setReady(id: string, opts: { publishTask?: boolean } = {}): Promise<void> {
    return this.publish(id, opts);
  }

  async archive(ids: string | readonly string[]): Promise<void> {
    await this.transport.call('models.archive_many', { ids: typeof ids === 'string' ? [ids] : ids }, z.unknown());
  }

  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.transport.call('models.delete', { model: id, force: opts.force ?? true }, z.unknown());
  }
}
