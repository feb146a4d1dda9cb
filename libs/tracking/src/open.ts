import { MlflowClient, redactedUri, resolveTrackingServer, type MlflowConfig, type SourceType } from '@mlops-ts/mlflow-client';
import { MlflowTracker } from './mlflow.js';
import type { TrackingTarget } from './stage-params.js';

/** Where `npm run mlflow-ui` serves the embedded server's folder. */
export const MLFLOW_UI_URI = 'http://127.0.0.1:5000';

export interface OpenMlflowTrackingOptions {
  /** The configured server (from MLFLOW_TRACKING_URI, passed in by the app); `undefined` starts the embedded local server. */
  config: MlflowConfig | undefined;
  /** Folder of the embedded server (SQLite + artifacts), e.g. `.mlflow`. */
  localDir: string;
  /** For a configured server that is temporary: where its runs can be seen later (run links get this prefix). */
  uiUri?: string;
  /** Where metric points wait while the server is unreachable. */
  spillDir: string;
  mlflowBin?: string;
  user?: string;
  source?: { name?: string; type?: SourceType; gitCommit?: string; gitBranch?: string };
  log?: (line: string) => void;
}

export interface OpenedMlflowTracking {
  client: MlflowClient;
  tracker: MlflowTracker;
  /** Tracking server URI without credentials (the UI is at the same address). */
  uri: string;
  /** What a run record stores: the embedded server's folder, or the configured URI without credentials. */
  target: TrackingTarget;
  /**
   * A link that works after the stage ends: for the embedded server (whose port dies with the stage) the same page
   * on `npm run mlflow-ui`'s port; for a configured server the link itself.
   */
  lastingUrl(url: string): string;
  /** Ends the client and the embedded server, if one was started. */
  close(): Promise<void>;
}

/**
 * Connects a stage to MLflow: the configured server, checked reachable before any work starts (one clear error
 * naming the server otherwise), or an embedded local server when none is configured.
 */
export async function openMlflowTracking(opts: OpenMlflowTrackingOptions): Promise<OpenedMlflowTracking> {
  // The embedded server's port dies with the stage: point people at the UI that lasts instead of that port.
  const log = opts.log;
  const server = await resolveTrackingServer({
    config: opts.config,
    localDir: opts.localDir,
    ...(opts.mlflowBin ? { mlflowBin: opts.mlflowBin } : {}),
    ...(log ? { log: (line: string) => log(line.replace(/UI(?: at|:) https?:\/\/[^\s)]+/g, `UI: \`npm run mlflow-ui\` then ${MLFLOW_UI_URI}`)) } : {}),
  });
  const uri = redactedUri(server.config.trackingUri);
  // Fail fast: a stage whose server is down should say so once, before it trains for minutes.
  // The probe retries once only; the working client below keeps the configured retries.
  const probe = new MlflowClient({ ...server.config, retries: { ...server.config.retries, maxRetries: Math.min(server.config.retries.maxRetries, 1) } });
  try {
    await probe.searchExperiments({ maxResults: 1 });
  } catch (error) {
    await server.stop();
    throw error;
  } finally {
    await probe.close();
  }
  const working = new MlflowClient(server.config);
  const tracker = new MlflowTracker({
    client: working,
    spillDir: opts.spillDir,
    replay: server.embedded ? { embeddedDir: opts.localDir } : { uri },
    ...(opts.user ? { user: opts.user } : {}),
    ...(opts.source ? { source: opts.source } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  return {
    client: working,
    tracker,
    uri,
    target: opts.config === undefined ? { kind: 'embedded', dir: opts.localDir } : { kind: 'server', uri },
    lastingUrl: (url) => {
      const ui = opts.config === undefined ? MLFLOW_UI_URI : opts.uiUri;
      return ui !== undefined && url.startsWith(uri) ? ui + url.slice(uri.length) : url;
    },
    async close() {
      await working.close();
      await server.stop();
    },
  };
}
