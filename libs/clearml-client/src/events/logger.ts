/**
 * {@link EventsLogger}: scalars, single values, plots, console lines and text for one task, batched and sent in
 * the background through `events.add_batch` (json-lines). Logging calls are synchronous and never wait on the
 * network. A server that goes away mid-run loses nothing: events wait in memory (bounded), then in spill files, and
 * go out when it answers again; if it still does not answer at `close()`, they are written into an offline session
 * (the SDK's format) that `npm run clearml -- import <zip> --task <id>` delivers to the same task.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { OfflineSession } from '../offline/session.js';
import { logEvent, plotEvent, scalarEvent, singleValueEvent } from './build.js';
import { readSpillFile, REJECTED_SUFFIX, rewriteSpillFile, writeSpillFileSync } from './spill.js';
import { AddBatchResponseSchema, type LogLevel, type PlotlyFigure, type TaskEvent } from './types.js';

/** What the logger needs from a transport (ClearmlTransport has it). */
export interface EventsTransport {
  call<S extends z.ZodType>(endpoint: string, body: unknown, schema: S, opts?: { jsonLines?: boolean; maxRetries?: number; timeoutMs?: number }): Promise<z.output<S>>;
}

export interface EventsLoggerOptions {
  transport: EventsTransport;
  taskId: string;
  /** Send when this many events wait (default 1000). */
  flushEvery?: number;
  /** Send at least this often (default 2000 ms). */
  flushIntervalMs?: number;
  /** Events per `events.add_batch` request (default 2000). */
  maxBatchEvents?: number;
  /** Events kept in memory while the server is unreachable before they move to a spill file (default 50,000). */
  maxMemoryEvents?: number;
  /** Folder of spill files and of the offline session written at close (default `<os tmp>/clearml-events`). */
  spillDir?: string;
  /** Wait between automatic attempts while unreachable, doubled up to `maxRetryDelayMs` (defaults 1000 / 15000 ms). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Transport retries per request (default 1: the logger keeps its own backoff between flushes). */
  requestRetries?: number;
  /** What goes into task.json of the offline session written at close when the server is still down. */
  offline?: { dir?: string; project?: string; name?: string; outputUri?: string };
  /** Progress and warnings (one line each; never credentials). */
  log?: (line: string) => void;
  /**
   * On process `exit` without `close()`: write what is still in memory to a spill file (synchronously) and print
   * where it waits and the command that delivers it (`npm run clearml -- import <spill file>`). Default false:
   * a library installs no process hooks unless asked.
   */
  handleProcessExit?: boolean;
}

export interface FlushResult {
  /** Events accepted by the server during this flush. */
  delivered: number;
  /** Events still waiting (memory + spill files). */
  pending: number;
  /** Why the last attempt failed, if it did. */
  error?: string;
}

export interface CloseReport {
  /** True when every event logged reached the server (or was refused by it: see `rejected`). */
  delivered: boolean;
  /** One line: where the undelivered events wait and the exact command that delivers them. */
  pending?: string;
  /** The offline session holding them (folder and zip), when one was written. */
  offlineSession?: { folder: string; zip: string; events: number };
  /** Totals over the logger's life. */
  stats: { logged: number; delivered: number; rejected: number; spilled: number };
}

type Classified = 'transient' | 'rejected';

/** 4xx answers other than auth/rate limits mean the batch itself is bad: retrying cannot help. */
function classify(err: unknown): Classified {
  const status = (err as { httpStatus?: unknown } | undefined)?.httpStatus;
  if (typeof status === 'number' && status >= 400 && status < 500 && ![401, 403, 408, 429].includes(status)) return 'rejected';
  return 'transient';
}
const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);

export class EventsLogger {
  readonly taskId: string;
  private readonly o: Required<Omit<EventsLoggerOptions, 'offline' | 'log' | 'transport'>> & Pick<EventsLoggerOptions, 'offline' | 'log' | 'transport'>;
  private queue: TaskEvent[] = [];
  /** The head of `queue` that a request is carrying right now. */
  private inflight = 0;
  private spills: string[] = [];
  private spilledPending = 0;
  private chain: Promise<FlushResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nextAttemptAt = 0;
  private retryDelay: number;
  private lastError: string | undefined;
  private closing: Promise<CloseReport> | undefined;
  private stats = { logged: 0, delivered: 0, rejected: 0, spilled: 0 };

  constructor(options: EventsLoggerOptions) {
    this.o = {
      flushEvery: 1000,
      flushIntervalMs: 2000,
      maxBatchEvents: 2000,
      maxMemoryEvents: 50_000,
      spillDir: join(tmpdir(), 'clearml-events'),
      retryDelayMs: 1000,
      maxRetryDelayMs: 15_000,
      requestRetries: 1,
      handleProcessExit: false,
      ...options,
    };
    this.taskId = options.taskId;
    this.retryDelay = this.o.retryDelayMs;
    this.timer = setInterval(() => this.autoFlush(), this.o.flushIntervalMs);
    this.timer.unref();
    if (this.o.handleProcessExit) process.once('exit', this.onExit);
  }

  /** The process ends with events undelivered: keep them on disk and say how to deliver them. */
  private readonly onExit = (): void => {
    if (this.closing) return;
    this.inflight = 0; // a request still in flight will not finish now: its events go to disk too
    this.spillMemory();
    if (this.spills.length === 0) return;
    const line = `[clearml events] ${this.pending} events of task ${this.taskId} were not delivered (the process ended before close()); they wait in ${this.spills.join(', ')}; deliver them with: ${this.spills.map((f) => `npm run clearml -- import ${f}`).join(' && ')}`;
    if (this.o.log) this.o.log(line);
    else process.stderr.write(`${line}\n`);
  };

  /** Events waiting (memory + spill files). */
  get pending(): number {
    return this.queue.length + this.spilledPending;
  }

  /** `Logger.report_scalar(title=metric, series=variant, value, iteration)`. */
  scalar(metric: string, variant: string, iter: number, value: number): void {
    this.push(scalarEvent(this.taskId, metric, variant, iter, value));
  }
  /** `Logger.report_single_value(name, value)`: a row of the Scalars tab's "Summary" table. */
  singleValue(name: string, value: number): void {
    this.push(singleValueEvent(this.taskId, name, value));
  }
  /** A Plotly figure in the Plots tab (`Logger.report_plotly`); see figures.ts for builders. */
  plot(metric: string, variant: string, iter: number, figure: PlotlyFigure): void {
    this.push(plotEvent(this.taskId, metric, variant, iter, figure));
  }
  /** Console lines (the Console tab). */
  log(lines: string | readonly string[], level: LogLevel = 'info'): void {
    this.push(logEvent(this.taskId, lines, level));
  }
  /** `Logger.report_text(msg, level)`: the SDK sends it to the console as one log event. */
  text(msg: string, opts: { level?: LogLevel; iter?: number } = {}): void {
    this.push(logEvent(this.taskId, msg, opts.level ?? 'info', opts.iter !== undefined ? { iter: opts.iter } : {}));
  }
  /** Any prepared events (their `task` is set to this logger's task). */
  add(events: readonly TaskEvent[]): void {
    for (const e of events) this.push({ ...e, task: this.taskId });
  }

  private push(e: TaskEvent): void {
    if (this.closing) throw new Error(`EventsLogger for task ${this.taskId} is closed`);
    this.queue.push(e);
    this.stats.logged++;
    if (this.queue.length - this.inflight > this.o.maxMemoryEvents) this.spillMemory();
    else if (this.queue.length >= this.o.flushEvery && Date.now() >= this.nextAttemptAt && !this.chain) void this.flush();
  }

  /** Move what is not in flight from memory to a spill file. */
  private spillMemory(): void {
    const moved = this.queue.splice(this.inflight);
    if (moved.length === 0) return;
    const file = writeSpillFileSync(this.o.spillDir, this.taskId, moved);
    this.spills.push(file);
    this.spilledPending += moved.length;
    this.stats.spilled += moved.length;
    this.o.log?.(`[clearml events] more than ${this.o.maxMemoryEvents} events wait${this.lastError ? ` (server unreachable: ${this.lastError})` : ''}: ${moved.length} events of task ${this.taskId} moved to ${file}`);
  }

  private autoFlush(): void {
    if (this.chain || this.pending === 0 || Date.now() < this.nextAttemptAt) return;
    void this.flush();
  }

  /** Send everything waiting now (spill files first). Never throws; the result says what is still pending. */
  flush(): Promise<FlushResult> {
    const run = async (): Promise<FlushResult> => {
      let delivered = 0;
      let error: string | undefined;
      try {
        for (;;) {
          // spill files first (also those written while this flush ran), then memory
          if (this.spills.length > 0) {
            delivered += await this.sendSpills();
            continue;
          }
          if (this.queue.length === 0) break;
          // The head stays in the queue while it is in flight (spilling takes only what follows it) and leaves
          // it once the server has taken it; a failed request leaves it where it is.
          const n = Math.min(this.queue.length, this.o.maxBatchEvents);
          this.inflight = n;
          try {
            delivered += await this.send(this.queue.slice(0, n));
            this.queue.splice(0, n);
          } finally {
            this.inflight = 0;
          }
        }
        this.retryDelay = this.o.retryDelayMs;
        this.nextAttemptAt = 0;
        this.lastError = undefined;
      } catch (e) {
        error = describe(e);
        if (error !== this.lastError) this.o.log?.(`[clearml events] events.add_batch for task ${this.taskId} failed, ${this.pending} events wait: ${error}`);
        this.lastError = error;
        this.nextAttemptAt = Date.now() + this.retryDelay;
        this.retryDelay = Math.min(this.retryDelay * 2, this.o.maxRetryDelayMs);
      }
      return { delivered, pending: this.pending, ...(error ? { error } : {}) };
    };
    // One flush at a time; a flush asked for while one runs starts right after it.
    const prev = this.chain;
    const next: Promise<FlushResult> = (prev ? prev.then(run) : run()).finally(() => {
      if (this.chain === next) this.chain = undefined;
    });
    this.chain = next;
    return next;
  }

  /**
   * Send one batch. Throws on a transient failure (the caller keeps the events); a batch the server refuses as
   * malformed goes to a `.rejected.jsonl` file instead of being retried forever.
   */
  private async send(batch: TaskEvent[]): Promise<number> {
    try {
      const res = await this.o.transport.call('events.add_batch', batch, AddBatchResponseSchema, { jsonLines: true, maxRetries: this.o.requestRetries });
      if (res.errors > 0) {
        this.stats.rejected += res.errors;
        this.o.log?.(`[clearml events] events.add_batch for task ${this.taskId}: the server refused ${res.errors} of ${batch.length} events: ${JSON.stringify(res.errors_info ?? {}).slice(0, 300)}`);
      }
      const added = batch.length - res.errors;
      this.stats.delivered += added;
      return added;
    } catch (e) {
      if (classify(e) === 'rejected') {
        const file = writeSpillFileSync(this.o.spillDir, this.taskId, batch, REJECTED_SUFFIX);
        this.stats.rejected += batch.length;
        this.o.log?.(`[clearml events] events.add_batch refused ${batch.length} events of task ${this.taskId} (kept in ${file}): ${describe(e)}`);
        return 0;
      }
      throw e;
    }
  }

  private async sendSpills(): Promise<number> {
    let delivered = 0;
    while (this.spills.length > 0) {
      const file = this.spills[0]!;
      let events = await readSpillFile(file);
      while (events.length > 0) {
        const n = Math.min(events.length, this.o.maxBatchEvents);
        try {
          delivered += await this.send(events.slice(0, n));
        } catch (e) {
          await rewriteSpillFile(file, events);
          throw e;
        }
        events = events.slice(n);
        this.spilledPending -= n;
      }
      await rewriteSpillFile(file, []);
      this.spills.shift();
    }
    return delivered;
  }

  /**
   * Stop the timer, send what waits, and report. With the server still unreachable, every undelivered event is
   * written into an offline session (`<spillDir or offline.dir>/offline-<id>/` and its `.zip`) and `pending`
   * names it and the command that delivers it to this task.
   */
  close(): Promise<CloseReport> {
    this.closing ??= (async () => {
      process.removeListener('exit', this.onExit);
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
      const res = await this.flush();
      if (res.pending === 0) return { delivered: true, stats: { ...this.stats } };
      const session = await OfflineSession.create({
        dir: this.o.offline?.dir ?? this.o.spillDir,
        project: this.o.offline?.project ?? 'offline',
        name: this.o.offline?.name ?? `events of ${this.taskId}`,
        previousTaskId: this.taskId,
        ...(this.o.offline?.outputUri ? { outputUri: this.o.offline.outputUri } : {}),
      });
      for (const file of this.spills) session.addEvents(await readSpillFile(file));
      session.addEvents(this.queue.splice(0));
      const written = await session.close();
      for (const file of this.spills.splice(0)) await rewriteSpillFile(file, []);
      this.spilledPending = 0;
      const pending = `${written.events} events of task ${this.taskId} wait in ${written.zip} (server unreachable: ${res.error ?? 'unknown'}); deliver them with: npm run clearml -- import ${written.zip} --task ${this.taskId}`;
      this.o.log?.(`[clearml events] ${pending}`);
      return { delivered: false, pending, offlineSession: { folder: written.folder, zip: written.zip, events: written.events }, stats: { ...this.stats } };
    })();
    return this.closing;
  }
}
