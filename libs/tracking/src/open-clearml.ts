import { ClearmlClient, clearmlConfigFromEnv, EventsLogger, OfflineSession, type ClearmlConfig, type ClearmlTransport } from '@mlops-ts/clearml-client';
import { z } from 'zod';
import { ClearmlTracker, type ClearmlSinkClient, type ClearmlTrackerOptions } from './clearml.js';
import type { TrackingTarget } from './stage-params.js';

export type ClearmlServerConfig = ClearmlConfig;

/** ClearML's configuration from the environment (CLEARML_* variables, else CLEARML_CONFIG_FILE / ~/clearml.conf). */
export function clearmlConfigOf(env: Record<string, string | undefined>): ClearmlServerConfig | undefined {
  return clearmlConfigFromEnv(env);
}

export interface OpenClearmlTrackingOptions {
  /** The configured server; undefined: every run is an offline session under `offlineDir`. */
  config: ClearmlServerConfig | undefined;
  project: string;
  tags?: string[];
  offlineDir: string;
  spillDir: string;
  /** A configured server that is down: false (default) fails with one line; true writes offline sessions. */
  offlineFallback?: boolean;
  script?: ClearmlTrackerOptions['script'];
  log?: (line: string) => void;
}

/** The sink's client: cml-core's `ClearmlClient` (REST, fileserver uploads, web UI links) in the shape the sink and readers take. */
export function clearmlSinkClient(config: ClearmlConfig): ClearmlSinkClient & { client: ClearmlClient; transport: ClearmlTransport; webHost: string; webUrl(taskId: string, projectId?: string): string; close(): Promise<void> } {
  const client = new ClearmlClient(config);
  return {
    client,
    transport: client.transport,
    webHost: client.transport.config.webHost,
    files: { upload: (localPath, remoteKey) => client.files.upload(localPath, remoteKey) },
    webUrl: (taskId, projectId) => client.webUrl({ taskId, projectId, tab: 'output/execution' }),
    close: () => client.close(),
  };
}

export interface OpenedClearmlTracking {
  tracker: ClearmlTracker;
  /** The client, when a server is configured and answered. */
  client?: ReturnType<typeof clearmlSinkClient>;
  /** `{ kind: 'server', uri: <web or API host> }` or `{ kind: 'offline-session', dir }`. */
  target: TrackingTarget;
  description: string;
  close(): Promise<void>;
}

const ProbeSchema = z.looseObject({ projects: z.array(z.unknown()) });

/**
 * ClearML for a stage: the configured server, checked reachable first (one clear error naming it otherwise, or
 * offline sessions with `offlineFallback`), else offline sessions in the SDK's format under `offlineDir`.
 */
export async function openClearmlTracking(o: OpenClearmlTrackingOptions): Promise<OpenedClearmlTracking> {
  const offlineSession: ClearmlTrackerOptions['offlineSession'] = (s) => OfflineSession.create(s);
  const offline = (description: string): OpenedClearmlTracking => ({
    tracker: new ClearmlTracker({ offlineSession, offlineDir: o.offlineDir, project: o.project, ...(o.tags ? { tags: o.tags } : {}), ...(o.script ? { script: o.script } : {}), ...(o.log ? { log: o.log } : {}) }),
    target: { kind: 'offline-session', dir: o.offlineDir },
    description,
    close: async () => undefined,
  });
  if (!o.config) return offline(`ClearML offline sessions in ${o.offlineDir} (no ClearML server configured: set CLEARML_API_HOST and keys, or clearml.conf)`);
  const client = clearmlSinkClient({ ...o.config, retries: { ...(o.config.retries ?? {}), maxRetries: 1 } });
  try {
    await client.transport.call('projects.get_all', { page: 0, page_size: 1, only_fields: ['id'] }, ProbeSchema);
  } catch (error) {
    await client.close();
    if (!o.offlineFallback) throw error;
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    return offline(`ClearML unavailable (${reason}); tracking.offline_fallback is on: offline sessions in ${o.offlineDir}`);
  }
  await client.close();
  const working = clearmlSinkClient(o.config);
  const tracker = new ClearmlTracker({
    client: working,
    events: (taskId) => new EventsLogger({ transport: working.transport, taskId, spillDir: o.spillDir, offline: { dir: o.offlineDir, project: o.project }, ...(o.log ? { log: o.log } : {}) }),
    offlineSession,
    offlineDir: o.offlineDir,
    project: o.project,
    ...(o.tags ? { tags: o.tags } : {}),
    ...(o.script ? { script: o.script } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
  const where = working.webHost;
  return {
    tracker,
    client: working,
    target: { kind: 'server', uri: where },
    description: `ClearML at ${where}`,
    close: () => working.close(),
  };
}
