import { z } from 'zod';
import { ClearmlApiError, ClearmlNotFoundError, ClearmlValidationError } from '../errors.js';
import type { ClearmlTransport } from '../transport.js';
import { exactNameRegex, MIN_NAME_LENGTH } from './names.js';
import { idResponse, projectSchema, type Project } from './schemas.js';

export interface CreateProjectInput {
  /** Full name; `/` separates parents (`team/experiments/run`): missing parents are created. */
  name: string;
  description?: string;
  tags?: string[];
  systemTags?: string[];
  defaultOutputDestination?: string;
}

/** `projects.*` */
export class ProjectsApi {
  constructor(private readonly transport: ClearmlTransport) {}

  async get(id: string): Promise<Project> {
    const r = await this.transport.call('projects.get_by_id', { project: id }, z.object({ project: projectSchema }));
    return r.project;
  }

  /** The project with exactly this full name, or undefined (the server's name filter is a regex: it is anchored and escaped here). */
  async byName(name: string): Promise<Project | undefined> {
    const r = await this.transport.call(
      'projects.get_all',
      { name: exactNameRegex(name), search_hidden: true, only_fields: ['id', 'name', 'basename', 'description', 'parent', 'created', 'last_update', 'tags', 'system_tags', 'default_output_destination'] },
      z.object({ projects: z.array(projectSchema) }),
    );
    return r.projects.find((p) => p.name === name);
  }

  /** The project with this name, or throws {@link ClearmlNotFoundError}. */
  async require(name: string): Promise<Project> {
    const p = await this.byName(name);
    if (!p) throw new ClearmlNotFoundError('project', `'${name}'`, this.transport.server);
    return p;
  }

  /** Create a project; parents named in the path are created by the server when missing. */
  async create(input: CreateProjectInput): Promise<string> {
    validateProjectName(input.name);
    const r = await this.transport.call(
      'projects.create',
      {
        name: input.name,
        description: input.description ?? '',
        ...(input.tags ? { tags: input.tags } : {}),
        ...(input.systemTags ? { system_tags: input.systemTags } : {}),
        ...(input.defaultOutputDestination ? { default_output_destination: input.defaultOutputDestination } : {}),
      },
      idResponse,
    );
    return r.id;
  }

  /** The project with this name, created (with its missing parents) when there is none. Safe against a concurrent create. */
  async getOrCreate(nameOrInput: string | CreateProjectInput): Promise<Project> {
    const input = typeof nameOrInput === 'string' ? { name: nameOrInput } : nameOrInput;
    const found = await this.byName(input.name);
    if (found) return found;
    try {
      return await this.get(await this.create(input));
    } catch (e) {
      // 400/801: created meanwhile by someone else
      if (e instanceof ClearmlApiError && e.resultSubcode === 801) return this.require(input.name);
      throw e;
    }
  }

  /** Projects whose full name starts with `prefix` (the project itself and its sub-projects). */
  async list(opts: { namePrefix?: string; pageSize?: number } = {}): Promise<Project[]> {
    const r = await this.transport.call(
      'projects.get_all',
      {
        ...(opts.namePrefix !== undefined ? { name: `^${exactNameRegex(opts.namePrefix).slice(1, -1)}` } : {}),
        search_hidden: true,
        order_by: ['name'],
        page: 0,
        page_size: opts.pageSize ?? 500,
      },
      z.object({ projects: z.array(projectSchema) }),
    );
    return r.projects;
  }

  async update(id: string, fields: { name?: string; description?: string; tags?: string[]; systemTags?: string[] }): Promise<void> {
    await this.transport.call(
      'projects.update',
      {
        project: id,
        ...(fields.name !== undefined ? { name: fields.name } : {}),
        ...(fields.description !== undefined ? { description: fields.description } : {}),
        ...(fields.tags ? { tags: fields.tags } : {}),
        ...(fields.systemTags ? { system_tags: fields.systemTags } : {}),
      },
      z.unknown(),
    );
  }

  /** Delete a project; `deleteContents` also deletes its tasks and models (otherwise a non-empty project is refused). */
  async delete(id: string, opts: { force?: boolean; deleteContents?: boolean } = {}): Promise<void> {
    await this.transport.call('projects.delete', { project: id, force: opts.force ?? true, delete_contents: opts.deleteContents ?? false }, z.unknown());
  }
}

export function validateProjectName(name: string): void {
  const parts = name.split('/');
  if (parts.some((p) => p.trim().length === 0)) throw new ClearmlValidationError('project name', `'${name}' has an empty part between '/'`);
  if (parts.some((p) => p.trim().length < MIN_NAME_LENGTH)) {
    throw new ClearmlValidationError('project name', `'${name}': every part must have at least ${MIN_NAME_LENGTH} characters (the server's rule)`);
  }
}
