import { FanOutRun, MemoryTracker, type OpenedTracking, type Tracker, type TrackerRun, type TrackingTarget } from '@mlops-ts/tracking';

export interface StageTracking {
  tracker: Tracker;
  /** MLflow's target (what run records kept before there were several trackers). */
  target: TrackingTarget;
  /** tracker name → where its runs go. */
  targets: Record<string, TrackingTarget>;
  /** Set when the MLflow run is kept on disk instead of a server (`--no-tracking`, or `tracking.offline_fallback`). */
  offline?: MemoryTracker;
  lastingUrl?: (url: string) => string;
  /** What to say about where tracking goes. */
  description: string;
  close(): Promise<void>;
}

/** What `open` returns: `openTracking` of `@mlops-ts/tracking` (or, in tests, anything with its shape). */
export type OpenStageTrackers = () => Promise<Pick<OpenedTracking, 'tracker' | 'target' | 'lastingUrl' | 'description' | 'close'> & Partial<Pick<OpenedTracking, 'targets' | 'mlflowOffline'>>>;

/**
 * A stage's tracking: the trackers `open` connects to (`openTracking`: MLflow and ClearML as params.yaml says,
 * each checked before any training). A server that is down stops here, unless `offlineFallback`, which keeps the
 * run on disk instead; `openTracking` itself falls back per tracker with `tracking.offline_fallback`.
 */
export async function openStageTracking(o: { enabled: boolean; offlineFallback: boolean; open: OpenStageTrackers; log?: (line: string) => void }): Promise<StageTracking> {
  const offline = (description: string): StageTracking => {
    const tracker = new MemoryTracker('offline');
    return { tracker, offline: tracker, target: { kind: 'offline' }, targets: {}, description, close: async () => undefined };
  };
  if (!o.enabled) return offline('not tracked (--no-tracking): the run is kept in the run records');
  try {
    const opened = await o.open();
    return {
      tracker: opened.tracker,
      target: opened.target,
      targets: opened.targets ?? { mlflow: opened.target },
      ...(opened.mlflowOffline ? { offline: opened.mlflowOffline } : {}),
      lastingUrl: (url) => opened.lastingUrl(url),
      description: opened.description,
      close: () => opened.close(),
    };
  } catch (error) {
    if (!o.offlineFallback) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    return offline(`tracking server unavailable (${reason}); tracking.offline_fallback is on: keeping the run on disk`);
  }
}

/** The runs of each tracker behind `run` (a fan-out's, or `run` itself). */
export function runsOf(run: TrackerRun): readonly TrackerRun[] {
  return run instanceof FanOutRun ? run.runs : [run];
}

/** tracker → lasting web URL of its run, for the trackers `ref` keeps (what a run record's `urls` holds). */
export function runUrls(run: TrackerRun, ref: Record<string, string>, lasting: (url: string) => string = (u) => u): Record<string, string> {
  return Object.fromEntries(runsOf(run).flatMap((r) => (r.url && ref[r.tracker] ? [[r.tracker, lasting(r.url)]] : [])));
}
