import { z } from 'zod';
import { ClearmlApiError, ClearmlNotFoundError } from '../errors.js';
import type { ClearmlTransport } from '../transport.js';
import { exactNameRegex } from './names.js';
import { idResponse, queueSchema, type Queue } from './schemas.js';

/** `queues.*` (what enqueueing needs). */
export class QueuesApi {
  constructor(private readonly transport: ClearmlTransport) {}

  async get(id: string): Promise<Queue> {
    return (await this.transport.call('queues.get_by_id', { queue: id }, z.object({ queue: queueSchema }))).queue;
  }

  async byName(name: string): Promise<Queue | undefined> {
    const r = await this.transport.call('queues.get_all', { name: exactNameRegex(name) }, z.object({ queues: z.array(queueSchema) }));
    return r.queues.find((q) => q.name === name);
  }

  async require(name: string): Promise<Queue> {
    const q = await this.byName(name);
    if (!q) throw new ClearmlNotFoundError('queue', `'${name}'`, this.transport.server);
    return q;
  }

  async create(name: string, opts: { tags?: string[]; systemTags?: string[] } = {}): Promise<string> {
    const r = await this.transport.call(
      'queues.create',
      { name, ...(opts.tags ? { tags: opts.tags } : {}), ...(opts.systemTags ? { system_tags: opts.systemTags } : {}) },
      idResponse,
    );
    return r.id;
  }

  /** The queue with this name, created when missing (safe against a concurrent create). */
  async getOrCreate(name: string): Promise<Queue> {
    const found = await this.byName(name);
    if (found) return found;
    try {
      return await this.get(await this.create(name));
    } catch (e) {
      // 400/801: created meanwhile by someone else
      if (e instanceof ClearmlApiError && e.resultSubcode === 801) return this.require(name);
      throw e;
    }
  }

  /** The server's default queue (system tag `default`), or undefined. */
  async getDefault(): Promise<Queue | undefined> {
    try {
      const r = await this.transport.call('queues.get_default', {}, z.object({ id: z.string(), name: z.string() }).loose());
      return this.get(r.id);
    } catch (e) {
      if (e instanceof ClearmlApiError && e.httpStatus === 400) return undefined;
      throw e;
    }
  }

  /** Task ids waiting in the queue, in order. */
  async entries(id: string): Promise<string[]> {
    return ((await this.get(id)).entries ?? []).map((e) => e.task);
  }

  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.transport.call('queues.delete', { queue: id, force: opts.force ?? true }, z.unknown());
  }
}
