import { MemoryTracker, type OpenedMlflowTracking, type Tracker, type TrackingTarget } from '@mlops-ts/tracking';

export interface StageTracking {
  tracker: Tracker;
  target: TrackingTarget;
  /** Set when the run is kept on disk instead of a server (`--no-tracking`, or `tracking.offline_fallback`). */
  offline?: MemoryTracker;
  lastingUrl?: (url: string) => string;
  /** What to say about where tracking goes. */
  description: string;
  close(): Promise<void>;
}

/**
 * The train stage's tracking: the server `open` connects to (configured, or the embedded one), checked before any
 * training; a server that is down stops here unless `offlineFallback`, which keeps the run on disk instead.
 */
export async function openStageTracking(o: { enabled: boolean; offlineFallback: boolean; open: () => Promise<OpenedMlflowTracking>; log?: (line: string) => void }): Promise<StageTracking> {
  const offline = (description: string): StageTracking => {
    const tracker = new MemoryTracker('offline');
    return { tracker, offline: tracker, target: { kind: 'offline' }, description, close: async () => undefined };
  };
  if (!o.enabled) return offline('not tracked (--no-tracking): the run is kept in the run records');
  try {
    const opened = await o.open();
    const where = opened.target.kind === 'embedded' ? `the embedded server over ${opened.target.dir}` : opened.uri;
    return { tracker: opened.tracker, target: opened.target, lastingUrl: opened.lastingUrl, description: `tracking to MLflow at ${where}`, close: () => opened.close() };
  } catch (error) {
    if (!o.offlineFallback) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    return offline(`tracking server unavailable (${reason}); tracking.offline_fallback is on: keeping the run on disk`);
  }
}
