/**
 * `ClearmlClient`: one server, its typed sub-APIs over one transport. Transport (HTTP, auth, retries) stays in
 * `ClearmlTransport`; each sub-API is one service of the server; queries and comparisons are in `query/`.
 */
import { ArtifactsApi } from './api/artifacts.js';
import { ModelsApi } from './api/models.js';
import { ProjectsApi } from './api/projects.js';
import { QueuesApi } from './api/queues.js';
import { TasksApi } from './api/tasks.js';
import type { ClearmlConfig } from './config.js';
import { ClearmlFiles } from './files.js';
import { QueriesApi } from './query/queries.js';
import { ClearmlTransport, type TransportOptions } from './transport.js';

export interface ClearmlClientOptions extends TransportOptions {
  /** Use this transport instead of creating one (it is then not closed by `client.close()`). */
  transport?: ClearmlTransport;
}

export class ClearmlClient {
  readonly transport: ClearmlTransport;
  readonly projects: ProjectsApi;
  readonly queues: QueuesApi;
  readonly tasks: TasksApi;
  readonly models: ModelsApi;
  readonly files: ClearmlFiles;
  readonly artifacts: ArtifactsApi;
  /** Read side: tasks with params and metrics, scalar histories, models; compare and rank. */
  readonly query: QueriesApi;
  private readonly ownsTransport: boolean;

  constructor(config: ClearmlConfig, opts: ClearmlClientOptions = {}) {
    const { transport, ...transportOpts } = opts;
    this.transport = transport ?? new ClearmlTransport(config, transportOpts);
    this.ownsTransport = !transport;
    this.files = new ClearmlFiles(this.transport);
    this.projects = new ProjectsApi(this.transport);
    this.queues = new QueuesApi(this.transport);
    this.tasks = new TasksApi(this.transport, this.projects, this.queues);
    this.models = new ModelsApi(this.transport, this.projects, this.tasks, this.files);
    this.artifacts = new ArtifactsApi(this.transport, this.tasks, this.projects, this.files);
    this.query = new QueriesApi(this.transport, this.projects);
  }

  /** The API server URL. */
  get server(): string {
    return this.transport.server;
  }

  /**
   * The web UI page of a task (`/projects/<project>/tasks/<task>`, optionally a tab such as `output/scalars`), of a
   * model (`/projects/<project>/models/<model>`) or of a project's tasks. A task without a project uses `*`.
   */
  webUrl(target: { taskId: string; projectId?: string | undefined; tab?: string } | { modelId: string; projectId?: string | undefined } | { projectId: string }): string {
    const base = this.transport.config.webHost;
    const project = target.projectId || '*';
    if ('taskId' in target) return `${base}/projects/${project}/tasks/${target.taskId}${target.tab ? `/${target.tab.replace(/^\/+/, '')}` : ''}`;
    if ('modelId' in target) return `${base}/projects/${project}/models/${target.modelId}`;
    return `${base}/projects/${project}/tasks`;
  }

  async close(): Promise<void> {
    if (this.ownsTransport) await this.transport.close();
  }
}
