/**
 * `ClearmlClient`: one server, its typed sub-APIs over one transport. Transport (HTTP, auth, retries) stays in
 * `ClearmlTransport`; each sub-API is one service of the server; queries and comparisons are in `query/`.
 */
import { ArtifactsApi } from './api/artifacts.js';
import { ModelsApi } from './api/models.js';
import { ProjectsApi } from './api/projects.js';
import { QueuesApi } from './api/queues.js';
import { TasksApi } from './api/tasks.js';
import { clearmlConfigFromEnv, type ClearmlConfig, type ConfigFromEnvOptions } from './config.js';
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

  /**
   * A client configured the SDK's way from the environment you pass (`process.env` in an app) and `clearml.conf`,
   * or `undefined` when nothing is configured (see {@link clearmlConfigFromEnv}).
   */
  static fromEnv(env: Record<string, string | undefined>, opts: ClearmlClientOptions & ConfigFromEnvOptions = {}): ClearmlClient | undefined {
    const { configFile, readFile, homeDir, ...clientOpts } = opts;
    const config = clearmlConfigFromEnv(env, { ...(configFile ? { configFile } : {}), ...(readFile ? { readFile } : {}), ...(homeDir ? { homeDir } : {}) });
    return config ? new ClearmlClient(config, clientOpts) : undefined;
  }

  /** The API server URL. */
  get server(): string {
    return this.transport.server;
  }

  /**
   * The web UI page of a task: `webUrl(taskId, projectId?, tab?)` → `<web>/projects/<project>/tasks/<task>[/<tab>]`
   * (`tab` e.g. `output/scalars`; a task without a project uses `*`). The object form also links a model
   * (`{ modelId, projectId }` → `/projects/<project>/models/<model>`) or a project's tasks (`{ projectId }`).
   */
  webUrl(taskId: string, projectId?: string, tab?: string): string;
  webUrl(target: { taskId: string; projectId?: string | undefined; tab?: string } | { modelId: string; projectId?: string | undefined } | { projectId: string }): string;
  webUrl(
    target: string | { taskId: string; projectId?: string | undefined; tab?: string } | { modelId: string; projectId?: string | undefined } | { projectId: string },
    projectId?: string,
    tab?: string,
  ): string {
    const t = typeof target === 'string' ? { taskId: target, projectId, ...(tab ? { tab } : {}) } : target;
    const base = this.transport.config.webHost;
    const project = t.projectId || '*';
    if ('taskId' in t) return `${base}/projects/${project}/tasks/${t.taskId}${t.tab ? `/${t.tab.replace(/^\/+/, '')}` : ''}`;
    if ('modelId' in t) return `${base}/projects/${project}/models/${t.modelId}`;
    return `${base}/projects/${project}/tasks`;
  }

  async close(): Promise<void> {
    if (this.ownsTransport) await this.transport.close();
  }
}
