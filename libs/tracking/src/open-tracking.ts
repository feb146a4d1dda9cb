import { mlflowConfigFromEnv, type MlflowConfig, type SourceType } from '@mlops-ts/mlflow-client';
import { fanOut, type FanOutTracker } from './fan-out.js';
import { MemoryTracker } from './memory.js';
import { openMlflowTracking, type OpenedMlflowTracking } from './open.js';
import { openClearmlTracking, clearmlConfigOf, type ClearmlServerConfig, type OpenedClearmlTracking } from './open-clearml.js';
import type { Tracker } from './port.js';
import type { TrackingParams, TrackingTarget } from './stage-params.js';

/** Where each tracker's server is, as the environment configures it (no server: the embedded/offline default). */
export interface TrackingConfig {
  /** MLFLOW_TRACKING_URI (+ credentials); undefined: the embedded local server. */
  mlflow: MlflowConfig | undefined;
  /** CLEARML_API_HOST + keys, or clearml.conf; undefined: offline sessions. */
  clearml: ClearmlServerConfig | undefined;
  /**
   * Where the configured MLflow server's runs can be seen after the stage, when that server is a temporary one
   * (MLOPS_MLFLOW_UI_URI: tools/pipeline.sh starts a local server on a free port for one run, and `npm run
   * mlflow-ui` serves the same store on 127.0.0.1:5000): run links are recorded with this prefix instead.
   */
  mlflowUiUri?: string;
}

/**
 * Both trackers' configuration from the environment (the app passes `process.env`): MLflow's own variables
 * (MLFLOW_TRACKING_URI, ...) and ClearML's (CLEARML_API_HOST, CLEARML_API_ACCESS_KEY, ..., else the `api` section of
 * CLEARML_CONFIG_FILE or ~/clearml.conf). The one place apps read tracker configuration from.
 */
export function trackingConfigFromEnv(env: Record<string, string | undefined>): TrackingConfig {
  const ui = env['MLOPS_MLFLOW_UI_URI']?.trim();
  return { mlflow: mlflowConfigFromEnv(env), clearml: clearmlConfigOf(env), ...(ui ? { mlflowUiUri: ui.replace(/\/+$/, '') } : {}) };
}

export interface OpenTrackingOptions {
  /** The params.yaml `tracking` section: which trackers, the experiment / project, offline_fallback. */
  params: TrackingParams;
  config: TrackingConfig;
  /** What is running, e.g. `train@logreg` (MLflow source name, ClearML script entry point). */
  stage: string;
  /** The command that reruns the stage (ClearML's script entry point), e.g. `dvc repro train@logreg`. */
  entryPoint?: string;
  git?: { commit?: string; branch?: string; repoUrl?: string; diff?: string };
  user?: string;
  /** Embedded MLflow server's folder (default `.mlflow`). */
  mlflowLocalDir?: string;
  /** Where MLflow metric points wait during an outage (default `.mlflow-spill`). */
  mlflowSpillDir?: string;
  mlflowBin?: string;
  /** Where ClearML events wait during an outage (default `.mlops/clearml-spill`). */
  clearmlSpillDir?: string;
  log?: (line: string) => void;
}

export interface OpenedTracking {
  /** One run in each configured tracker. */
  tracker: FanOutTracker;
  /** tracker name → where its runs go. */
  targets: Record<string, TrackingTarget>;
  /** MLflow's target (what run records kept before there were several trackers); `offline` without MLflow. */
  target: TrackingTarget;
  mlflow?: OpenedMlflowTracking;
  clearml?: OpenedClearmlTracking;
  /** Set when MLflow's server was down and `offline_fallback` keeps its run in memory for `<model>.offline-run.json`. */
  mlflowOffline?: MemoryTracker;
  /** A run link that works after the stage (the embedded MLflow server's page on `npm run mlflow-ui`'s port). */
  lastingUrl(url: string): string;
  /** One line per tracker saying where runs go. */
  description: string;
  close(): Promise<void>;
}

/**
 * Opens every tracker `params.trackers` names, each checked before any work starts:
 * - MLflow: the configured server, else the embedded one (`openMlflowTracking`);
 * - ClearML: the configured server, else offline sessions under `params.clearml.offline_dir` (the embedded default).
 * A configured server that is down fails fast with one line naming it, unless `offline_fallback`: then MLflow's run
 * is kept in memory (the stage writes it to `<model>.offline-run.json`) and ClearML's goes to an offline session.
 */
export async function openTracking(opts: OpenTrackingOptions): Promise<OpenedTracking> {
  const log = opts.log;
  const p = opts.params;
  const trackers: Tracker[] = [];
  const targets: Record<string, TrackingTarget> = {};
  const lines: string[] = [];
  let mlflow: OpenedMlflowTracking | undefined;
  let clearml: OpenedClearmlTracking | undefined;
  let mlflowOffline: MemoryTracker | undefined;
  try {
    if (p.trackers.includes('mlflow')) {
      try {
        mlflow = await openMlflowTracking({
          config: opts.config.mlflow,
          ...(opts.config.mlflowUiUri ? { uiUri: opts.config.mlflowUiUri } : {}),
          localDir: opts.mlflowLocalDir ?? '.mlflow',
          spillDir: opts.mlflowSpillDir ?? '.mlflow-spill',
          ...(opts.mlflowBin ? { mlflowBin: opts.mlflowBin } : {}),
          ...(opts.user ? { user: opts.user } : {}),
          source: { name: `apps (${opts.stage})`, type: 'LOCAL' as SourceType, ...(opts.git?.commit ? { gitCommit: opts.git.commit } : {}), ...(opts.git?.branch ? { gitBranch: opts.git.branch } : {}) },
          ...(log ? { log } : {}),
        });
        trackers.push(mlflow.tracker);
        targets['mlflow'] = mlflow.target;
        lines.push(`MLflow at ${mlflow.target.kind === 'embedded' ? `the embedded server over ${mlflow.target.dir}` : mlflow.uri}`);
      } catch (error) {
        if (!p.offline_fallback) throw error;
        mlflowOffline = new MemoryTracker('mlflow');
        trackers.push(mlflowOffline);
        targets['mlflow'] = { kind: 'offline' };
        lines.push(`MLflow unavailable (${firstLine(error)}); tracking.offline_fallback is on: keeping the MLflow run on disk`);
      }
    }
    if (p.trackers.includes('clearml')) {
      clearml = await openClearmlTracking({
        config: opts.config.clearml,
        project: p.clearml.project ?? p.experiment,
        tags: p.clearml.tags,
        offlineDir: p.clearml.offline_dir,
        spillDir: opts.clearmlSpillDir ?? '.mlops/clearml-spill',
        offlineFallback: p.offline_fallback,
        script: {
          ...(opts.git?.repoUrl ? { repository: opts.git.repoUrl } : {}),
          ...(opts.git?.branch ? { branch: opts.git.branch } : {}),
          ...(opts.git?.commit ? { versionNum: opts.git.commit } : {}),
          ...(opts.git?.diff ? { diff: opts.git.diff } : {}),
          entryPoint: opts.entryPoint ?? opts.stage,
          workingDir: '.',
        },
        ...(log ? { log } : {}),
      });
      trackers.push(clearml.tracker);
      targets['clearml'] = clearml.target;
      lines.push(clearml.description);
    }
  } catch (error) {
    await mlflow?.close().catch(() => undefined);
    await clearml?.close().catch(() => undefined);
    throw error;
  }
  const opened: OpenedTracking = {
    tracker: fanOut(trackers, log ? { log } : {}),
    targets,
    target: targets['mlflow'] ?? { kind: 'offline' },
    lastingUrl: (url) => mlflow?.lastingUrl(url) ?? url,
    description: `tracking to ${lines.join('; ')}`,
    async close() {
      await Promise.allSettled([mlflow?.close(), clearml?.close()]);
    },
  };
  if (mlflow) opened.mlflow = mlflow;
  if (clearml) opened.clearml = clearml;
  if (mlflowOffline) opened.mlflowOffline = mlflowOffline;
  return opened;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}
