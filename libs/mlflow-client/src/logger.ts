/**
 * BufferedLogger: the training loop calls `logMetric` (synchronous, never waits on the network); a background
 * flusher sends log-batch requests. While the server is unreachable points stay in memory, and past
 * `maxBufferedPoints` they are spilled to files in `spillDir`; once the server answers again the spilled files are
 * delivered and removed. On `close()` everything is flushed, or spilled for `replaySpill`.
 *
 * The logger installs no process handlers unless asked (`handleProcessExit: true`): signals belong to the app, whose
 * handler calls {@link BufferedLogger.flushToSpill} (synchronous) before the process ends.
 */
import { unlink } from 'node:fs/promises';
import { validateMetric, validateParam, validateTag } from './batch.js';
import { fromMetricIn, type MetricPoint, type MlflowClient, toMetricIn } from './client.js';
import { MlflowApiError, MlflowAuthError, MlflowConnectionError, MlflowError } from './errors.js';
import type { KeyValue, MetricIn } from './rest.js';
import { listSpillFiles, readSpillFile, REJECTED_SUFFIX, writeSpillFileSync } from './spill.js';

export type LoggerEvent =
  /** The server stopped answering; `pending`: points waiting in memory and in this logger's spill files. */
  | { type: 'unreachable'; error: string; pending: number }
  /** The server answers again; `pending`: points that were waiting when it came back (memory and spill files), all now on their way. */
  | { type: 'recovered'; pending: number }
  | { type: 'spilled'; file: string; points: number }
  | { type: 'delivered-spill'; file: string; points: number }
  | { type: 'rejected'; file: string; points: number; error: string };

export interface BufferedLoggerOptions {
  client: MlflowClient;
  runId: string;
  /** Directory for spill files (created when needed). */
  spillDir: string;
  /** Flush at least this often (default 1000 ms). */
  flushIntervalMs?: number;
  /** Start a flush early once this many points wait (default 2000). */
  flushAtPoints?: number;
  /** Points kept in memory while the server is unreachable before spilling to a file (default 100,000). */
  maxBufferedPoints?: number;
  /** Points sent per flush round (default 10,000; split into requests within the server's limits). */
  maxPointsPerFlush?: number;
  /** First retry delay while unreachable; doubles up to `maxRetryDelayMs` (defaults 500 ms / 15 s). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** How long `close()` keeps trying before it spills what is left (default 30 s). */
  closeTimeoutMs?: number;
  /**
   * Install process handlers: flush on 'beforeExit', spill synchronously on 'exit', SIGINT and SIGTERM. Default false:
   * handlers are process-wide state, so a library should leave them to the app (call {@link BufferedLogger.flushToSpill}).
   */
  handleProcessExit?: boolean;
  onEvent?: (e: LoggerEvent) => void;
}

export interface LoggerCloseResult {
  /** Points (metrics + params + tags) delivered by this logger, including spill files it delivered. */
  delivered: number;
  /** Points written to spill files and still there (deliver with `replaySpill`). */
  spilledPoints: number;
  spillFiles: string[];
  /** Points the server refused as invalid (kept in `*.rejected.jsonl`). */
  rejectedPoints: number;
}

interface Pending {
  metrics: MetricIn[];
  params: KeyValue[];
  tags: KeyValue[];
}

const count = (p: Pending) => p.metrics.length + p.params.length + p.tags.length;

export class BufferedLogger {
  private readonly o: Required<Omit<BufferedLoggerOptions, 'onEvent'>> & Pick<BufferedLoggerOptions, 'onEvent'>;
  private pending: Pending = { metrics: [], params: [], tags: [] };
  /** Lengths of the prefix of `pending` currently being sent. */
  private inflight = { metrics: 0, params: 0, tags: 0 };
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retryDelay: number;
  private nextAttemptAt = 0;
  private unreachable = false;
  private kick = false;
  private closed = false;
  private readonly ownSpills: string[] = [];
  private stats = { delivered: 0, spilled: 0, rejected: 0 };
  private readonly hooks: { event: string; fn: (...a: unknown[]) => void }[] = [];
  private readonly validKeys = new Set<string>();
  private readonly waiters: { type: LoggerEvent['type']; resolve: (e: LoggerEvent) => void }[] = [];

  constructor(options: BufferedLoggerOptions) {
    this.o = {
      flushIntervalMs: 1000,
      flushAtPoints: 2000,
      maxBufferedPoints: 100_000,
      maxPointsPerFlush: 10_000,
      retryDelayMs: 500,
      maxRetryDelayMs: 15_000,
      closeTimeoutMs: 30_000,
      handleProcessExit: false,
      ...options,
    };
    this.retryDelay = this.o.retryDelayMs;
    this.schedule(this.o.flushIntervalMs);
    if (this.o.handleProcessExit) this.installHooks();
  }

  get runId(): string {
    return this.o.runId;
  }

  /** Points waiting in memory (not counting spill files). */
  get pendingPoints(): number {
    return count(this.pending);
  }

  /** True while the last attempt failed to reach the server. */
  get isUnreachable(): boolean {
    return this.unreachable;
  }

  /**
   * Resolves with the next event of this type (for tests and progress UIs: wait on what the logger saw, not on time).
   * `'unreachable'` resolves at once when the server is already seen as down.
   */
  nextEvent<T extends LoggerEvent['type']>(type: T): Promise<Extract<LoggerEvent, { type: T }>> {
    if (type === 'unreachable' && this.unreachable) {
      return Promise.resolve({ type: 'unreachable', error: 'already unreachable', pending: this.waitingPoints() } as Extract<LoggerEvent, { type: T }>);
    }
    return new Promise((resolve) => this.waiters.push({ type, resolve: resolve as (e: LoggerEvent) => void }));
  }

  /**
   * Synchronously write everything still in memory to a spill file and stop accepting points: for an app's signal or
   * 'exit' handler, where nothing asynchronous runs any more. Spill files of this logger stay for `replaySpill`.
   */
  flushToSpill(): LoggerCloseResult {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.spillAllSync();
    this.removeHooks();
    return this.result();
  }

  /** Queue one metric point. Validated now (throws {@link MlflowValidationError}); sent in the background. */
  logMetric(key: string, value: number, step = 0, timestamp = Date.now()): void {
    this.assertOpen();
    const m: MetricIn = { key, value, timestamp, step };
    validateMetric(m, this.validKeys);
    this.pending.metrics.push(m);
    this.afterEnqueue();
  }

  logMetrics(points: readonly MetricPoint[]): void {
    this.assertOpen();
    const now = Date.now();
    const ms = points.map((p) => toMetricIn(p, now));
    for (const m of ms) validateMetric(m, this.validKeys);
    for (const m of ms) this.pending.metrics.push(m);
    this.afterEnqueue();
  }

  logParam(key: string, value: unknown): void {
    this.logParams({ [key]: value });
  }

  logParams(params: Record<string, unknown>): void {
    this.assertOpen();
    const kv = Object.entries(params).map(([key, v]) => ({ key, value: typeof v === 'string' ? v : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v) }));
    kv.forEach(validateParam);
    this.pending.params.push(...kv);
    this.afterEnqueue();
  }

  setTag(key: string, value: string): void {
    this.assertOpen();
    const t = { key, value };
    validateTag(t);
    this.pending.tags.push(t);
    this.afterEnqueue();
  }

  /** Deliver everything queued so far (and any spill files of this logger); resolves when done or still unreachable. */
  async flush(): Promise<void> {
    await this.flushRound(true);
  }

  /**
   * Stop accepting points, deliver what is left (retrying up to `closeTimeoutMs`), spill the rest.
   * Never throws for delivery problems: the result says where undelivered points are.
   */
  async close(): Promise<LoggerCloseResult> {
    if (this.closed) return this.result();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const deadline = Date.now() + this.o.closeTimeoutMs;
    for (;;) {
      await this.flushRound(true);
      if (count(this.pending) === 0 && !(await this.hasOwnSpills())) break;
      if (Date.now() >= deadline) break;
      const wait = Math.min(this.retryDelay, Math.max(0, deadline - Date.now()));
      await new Promise((r) => setTimeout(r, wait));
    }
    if (this.flushing) await this.flushing;
    this.spillAllSync();
    this.removeHooks();
    return this.result();
  }

  // ------------------------------------------------------------------ internals
  private assertOpen() {
    if (this.closed) throw new MlflowError(`BufferedLogger for run ${this.o.runId} is closed`);
  }

  private result(): LoggerCloseResult {
    return { delivered: this.stats.delivered, spilledPoints: this.stats.spilled, spillFiles: [...this.ownSpills], rejectedPoints: this.stats.rejected };
  }

  private afterEnqueue() {
    const n = count(this.pending);
    if (n - (this.inflight.metrics + this.inflight.params + this.inflight.tags) > this.o.maxBufferedPoints) this.spillNotInflightSync();
    if (n >= this.o.flushAtPoints && !this.flushing && !this.unreachable && !this.kick) {
      this.kick = true;
      setImmediate(() => {
        this.kick = false;
        void this.flushRound(false);
      });
    }
  }

  private schedule(ms: number) {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.flushRound(false).finally(() => this.schedule(this.unreachable ? this.retryDelay : this.o.flushIntervalMs));
    }, ms);
    this.timer.unref();
  }

  private flushRound(force: boolean): Promise<void> {
    if (this.flushing) return this.flushing;
    if (!force && this.unreachable && Date.now() < this.nextAttemptAt) return Promise.resolve();
    this.flushing = this.doFlush().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** One pass: memory first (bounded rounds), then spill files. Stops at the first transient failure. */
  private async doFlush(): Promise<void> {
    try {
      while (count(this.pending) > 0) {
        const take = {
          params: this.pending.params.length,
          tags: this.pending.tags.length,
          metrics: Math.min(this.pending.metrics.length, this.o.maxPointsPerFlush),
        };
        this.inflight = take;
        const batch: Pending = {
          metrics: this.pending.metrics.slice(0, take.metrics),
          params: this.pending.params.slice(0, take.params),
          tags: this.pending.tags.slice(0, take.tags),
        };
        await this.deliver(batch);
        this.markReachable();
        this.pending.metrics.splice(0, take.metrics);
        this.pending.params.splice(0, take.params);
        this.pending.tags.splice(0, take.tags);
        this.inflight = { metrics: 0, params: 0, tags: 0 };
        this.stats.delivered += count(batch);
      }
      for (const file of await listSpillFiles(this.o.spillDir)) {
        if (!this.ownSpills.includes(file)) continue;
        const records = await readSpillFile(file);
        let points = 0;
        for (const r of records) {
          if (r.runId !== this.o.runId) continue;
          const p: Pending = { metrics: r.metrics, params: r.params, tags: r.tags };
          await this.deliver(p);
          this.markReachable();
          points += count(p);
        }
        await unlink(file);
        this.ownSpills.splice(this.ownSpills.indexOf(file), 1);
        this.stats.spilled -= points;
        this.stats.delivered += points;
        this.emit({ type: 'delivered-spill', file, points });
      }
    } catch (e) {
      this.inflight = { metrics: 0, params: 0, tags: 0 };
      this.markUnreachable(e);
    }
  }

  /**
   * Send a batch. Transient problems (connection, 5xx, 429, auth) throw so the caller keeps the points; a batch the
   * server refuses as invalid is bisected so only the offending points go to a rejected file.
   */
  private async deliver(batch: Pending): Promise<void> {
    try {
      await this.o.client.logBatch(this.o.runId, { metrics: batch.metrics.map(fromMetricIn), params: batch.params, tags: batch.tags }, { maxRetries: 0 });
    } catch (e) {
      if (!isPermanent(e)) throw e;
      const n = count(batch);
      if (n <= 1) {
        const file = writeSpillFileSync(this.o.spillDir, this.o.runId, batch, { suffix: REJECTED_SUFFIX, error: (e as Error).message });
        this.stats.rejected += n;
        if (file) this.emit({ type: 'rejected', file, points: n, error: (e as Error).message });
        return;
      }
      const [a, b] = halve(batch);
      await this.deliver(a);
      await this.deliver(b);
    }
  }

  private markUnreachable(e: unknown) {
    const wasUnreachable = this.unreachable;
    this.unreachable = true;
    if (wasUnreachable) this.retryDelay = Math.min(this.o.maxRetryDelayMs, this.retryDelay * 2);
    this.nextAttemptAt = Date.now() + this.retryDelay;
    if (!wasUnreachable) this.emit({ type: 'unreachable', error: e instanceof Error ? e.message : String(e), pending: this.waitingPoints() });
  }

  /** Called right after the first successful request, before the delivered points leave `pending`: they count. */
  private markReachable() {
    if (this.unreachable) {
      this.unreachable = false;
      this.retryDelay = this.o.retryDelayMs;
      this.emit({ type: 'recovered', pending: this.waitingPoints() });
    }
  }

  /** Points in memory plus points in this logger's spill files. */
  private waitingPoints(): number {
    return count(this.pending) + this.stats.spilled;
  }

  private emit(e: LoggerEvent) {
    this.o.onEvent?.(e);
    for (let i = 0; i < this.waiters.length; ) {
      const w = this.waiters[i]!;
      if (w.type === e.type) {
        this.waiters.splice(i, 1);
        w.resolve(e);
      } else i++;
    }
  }

  private async hasOwnSpills(): Promise<boolean> {
    return this.ownSpills.length > 0;
  }

  /** Move every queued point that is not in flight to a spill file (synchronous: safe in 'exit' handlers). */
  private spillNotInflightSync() {
    const part: Pending = {
      metrics: this.pending.metrics.splice(this.inflight.metrics),
      params: this.pending.params.splice(this.inflight.params),
      tags: this.pending.tags.splice(this.inflight.tags),
    };
    this.writeSpill(part);
  }

  /** Spill everything in memory, in-flight points included (the server deduplicates if they did arrive). */
  private spillAllSync() {
    const all = this.pending;
    this.pending = { metrics: [], params: [], tags: [] };
    this.inflight = { metrics: 0, params: 0, tags: 0 };
    this.writeSpill(all);
  }

  private writeSpill(p: Pending) {
    const n = count(p);
    if (n === 0) return;
    const file = writeSpillFileSync(this.o.spillDir, this.o.runId, p);
    if (file) {
      this.ownSpills.push(file);
      this.stats.spilled += n;
      this.emit({ type: 'spilled', file, points: n });
    }
  }

  private installHooks() {
    const onBeforeExit = () => {
      if (!this.closed && (count(this.pending) > 0 || this.ownSpills.length > 0)) void this.close();
    };
    const onExit = () => {
      // Last chance, synchronous only: whatever is still in memory goes to a spill file.
      if (count(this.pending) > 0) this.spillAllSync();
    };
    const onSignal = (signal: unknown) => {
      this.spillAllSync();
      this.removeHooks();
      if (process.listenerCount(signal as NodeJS.Signals) === 0) process.kill(process.pid, signal as NodeJS.Signals);
    };
    this.hook('beforeExit', onBeforeExit);
    this.hook('exit', onExit);
    this.hook('SIGINT', onSignal);
    this.hook('SIGTERM', onSignal);
  }

  private hook(event: string, fn: (...a: unknown[]) => void) {
    process.on(event as 'exit', fn);
    this.hooks.push({ event, fn });
  }

  private removeHooks() {
    for (const h of this.hooks.splice(0)) process.off(h.event as 'exit', h.fn);
  }
}

function isPermanent(e: unknown): boolean {
  if (e instanceof MlflowConnectionError || e instanceof MlflowAuthError) return false;
  if (e instanceof MlflowApiError) return e.httpStatus >= 400 && e.httpStatus < 500 && e.httpStatus !== 429 && e.httpStatus !== 408;
  return false;
}

function halve(b: Pending): [Pending, Pending] {
  const items: ['metrics' | 'params' | 'tags', unknown][] = [
    ...b.params.map((x) => ['params', x] as ['params', unknown]),
    ...b.tags.map((x) => ['tags', x] as ['tags', unknown]),
    ...b.metrics.map((x) => ['metrics', x] as ['metrics', unknown]),
  ];
  const mid = Math.ceil(items.length / 2);
  const mk = (part: typeof items): Pending => {
    const p: Pending = { metrics: [], params: [], tags: [] };
    for (const [k, x] of part) (p[k] as unknown[]).push(x);
    return p;
  };
  return [mk(items.slice(0, mid)), mk(items.slice(mid))];
}


