/**
 * {@link OfflineSession}: writes a task's run into the official SDK's offline-session folder and zip (see
 * format.ts), with no server at all. `Task.import_offline_session(<zip>)` of the Python SDK and this library's
 * {@link importOfflineSession} (`npm run clearml -- import`) deliver it to a server later.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, copyFile, mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { zip, type Zippable } from 'fflate';
import { logEvent, plotEvent, scalarEvent, singleValueEvent } from '../events/build.js';
import type { LogLevel, PlotlyFigure, TaskEvent } from '../events/types.js';
import {
  DATA_DIR,
  LOG_FILE,
  METRICS_FILE,
  MODELS_DIR,
  OFFLINE_ID_PREFIX,
  TASK_FILE,
  taskDataPrefix,
  safeName,
  type HyperParam,
  type OfflineArtifact,
  type OfflineOutputModel,
  type OfflineTask,
} from './format.js';

export type ParamValue = string | number | boolean | null | undefined | readonly unknown[] | Record<string, unknown>;

/** A hyper-parameter the SDK's way: `type` from the JS value (`int`/`float`/`bool`/`str`/`list`/`dict`), value as text. */
export function toHyperParam(section: string, name: string, value: ParamValue): HyperParam {
  let type = 'str';
  let text: string;
  if (typeof value === 'number') {
    type = Number.isInteger(value) ? 'int' : 'float';
    text = String(value);
  } else if (typeof value === 'boolean') {
    type = 'bool';
    text = value ? 'True' : 'False'; // what Python's str(bool) gives, so the SDK's cast reads it back
  } else if (value === null || value === undefined) {
    type = 'NoneType';
    text = '';
  } else if (Array.isArray(value)) {
    type = 'list';
    text = JSON.stringify(value);
  } else if (typeof value === 'object') {
    type = 'dict';
    text = JSON.stringify(value);
  } else text = String(value);
  return { section, name, value: text, type, description: '' };
}

export interface OfflineSessionOptions {
  /** Parent folder; the session is `<dir>/<id>/` and `<dir>/<id>.zip`. */
  dir: string;
  project: string;
  name: string;
  type?: string;
  tags?: string[];
  comment?: string;
  /** `offline-<32 hex>` by default, like the SDK. */
  id?: string;
  /** Where model weights go on import (OutputModel upload destination); the server's files host if unset. */
  outputUri?: string;
  /** Recorded in task.json `mlops_ts.previous_task_id`: the task the TypeScript importer continues by default. */
  previousTaskId?: string;
  /** Script section of the task (`entry_point`, `working_dir`, `binary`, …). */
  script?: Record<string, unknown>;
  /** Events kept in memory before they are appended to metrics.jsonl / log.jsonl. */
  flushEvery?: number;
}

export interface OfflineSessionResult {
  id: string;
  folder: string;
  zip: string;
  events: number;
  artifacts: number;
  models: number;
}

export class OfflineSession {
  readonly id: string;
  readonly folder: string;
  private readonly task: OfflineTask & { hyperparams: Record<string, Record<string, HyperParam>>; configuration: Record<string, { name: string; value: string; type: string; description: string }>; execution: { artifacts: OfflineArtifact[] } & Record<string, unknown>; offline_output_models: OfflineOutputModel[] };
  private readonly flushEvery: number;
  private metrics: TaskEvent[] = [];
  private logs: TaskEvent[] = [];
  private eventCount = 0;
  private writing: Promise<void> = Promise.resolve();
  private closed: OfflineSessionResult | undefined;

  private constructor(opts: OfflineSessionOptions) {
    this.id = opts.id ?? `${OFFLINE_ID_PREFIX}${randomUUID().replaceAll('-', '')}`;
    this.folder = resolve(opts.dir, this.id);
    this.flushEvery = opts.flushEvery ?? 1000;
    this.task = {
      id: this.id,
      name: opts.name,
      project_name: opts.project,
      type: opts.type ?? 'training',
      ...(opts.comment !== undefined ? { comment: opts.comment } : {}),
      ...(opts.tags ? { tags: [...opts.tags] } : {}),
      script: opts.script ?? { binary: `node${process.versions.node.split('.')[0]}`, entry_point: '', working_dir: '.', repository: '', branch: '', version_num: '', diff: '', requirements: {} },
      hyperparams: {},
      configuration: {},
      execution: { artifacts: [], parameters: {}, model_desc: {}, model_labels: {}, docker_cmd: '' },
      output: opts.outputUri ? { destination: opts.outputUri } : {},
      offline_folder: this.folder,
      offline_output_models: [],
      mlops_ts: { writer: '@mlops-ts/clearml-client', ...(opts.previousTaskId ? { previous_task_id: opts.previousTaskId } : {}) },
    };
    this.outputUri = opts.outputUri;
  }
  private readonly outputUri: string | undefined;

  /** Create the session folder and its task.json. */
  static async create(opts: OfflineSessionOptions): Promise<OfflineSession> {
    const s = new OfflineSession(opts);
    await mkdir(s.folder, { recursive: true });
    await s.writeTaskJson();
    return s;
  }

  /** Hyper-parameters by section (`General`, `Args`, …): replaces the given names, keeps the others. */
  setParameters(sections: Record<string, Record<string, ParamValue>>): this {
    for (const [section, params] of Object.entries(sections)) {
      const s = (this.task.hyperparams[section] ??= {});
      for (const [name, value] of Object.entries(params)) s[name] = toHyperParam(section, name, value);
    }
    return this;
  }

  /** A configuration object (`Task.connect_configuration`): text as is, objects as JSON (valid HOCON) of type `dictionary`. */
  setConfiguration(name: string, value: string | Record<string, unknown>, opts: { type?: string; description?: string } = {}): this {
    const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
    this.task.configuration[name] = { name, value: text, type: opts.type ?? (typeof value === 'string' ? 'text' : 'dictionary'), description: opts.description ?? '' };
    return this;
  }

  scalar(metric: string, variant: string, iter: number, value: number): this {
    return this.addEvents([scalarEvent(this.id, metric, variant, iter, value)]);
  }
  singleValue(name: string, value: number): this {
    return this.addEvents([singleValueEvent(this.id, name, value)]);
  }
  plot(metric: string, variant: string, iter: number, figure: PlotlyFigure): this {
    return this.addEvents([plotEvent(this.id, metric, variant, iter, figure)]);
  }
  log(lines: string | readonly string[], level: LogLevel = 'info'): this {
    return this.addEvents([logEvent(this.id, lines, level)]);
  }
  /** `Logger.report_text`: one console event, as the SDK writes it to log.jsonl. */
  text(msg: string, level: LogLevel = 'info'): this {
    return this.addEvents([logEvent(this.id, msg, level)]);
  }

  /** Append events (their `task` becomes this session's id, as the SDK's importer filters on it). */
  addEvents(events: readonly TaskEvent[]): this {
    this.assertOpen();
    for (const e of events) (e.type === 'log' ? this.logs : this.metrics).push({ ...e, task: this.id });
    this.eventCount += events.length;
    if (this.metrics.length + this.logs.length >= this.flushEvery) void this.flushEvents();
    return this;
  }

  /**
   * Copy a file in as an artifact (`Task.upload_artifact(name, artifact_object=<path>)`):
   * `data/<project>/<name>.<id>/artifacts/<key>/<file>`, with its sha256, size and a preview.
   */
  async addArtifact(key: string, localPath: string, opts: { contentType?: string; preview?: string; type?: string; metadata?: Record<string, string> } = {}): Promise<OfflineArtifact> {
    this.assertOpen();
    const file = safeName(basename(localPath));
    const rel = `${taskDataPrefix(this.task.project_name ?? 'unknown', this.task.name, this.id)}/artifacts/${safeName(key)}/${file}`;
    const target = join(this.folder, DATA_DIR, ...rel.split('/'));
    await mkdir(resolve(target, '..'), { recursive: true });
    await copyFile(localPath, target);
    const size = (await stat(target)).size;
    const artifact: OfflineArtifact = {
      key,
      type: opts.type ?? 'custom',
      mode: 'output',
      uri: `${this.folder}/${DATA_DIR}/${rel}`.split(sep).join('/'),
      content_size: size,
      hash: await sha256File(target),
      timestamp: Math.floor(Date.now() / 1000),
      type_data: { content_type: opts.contentType ?? contentTypeOf(file), preview: opts.preview ?? `${file} - ${size} bytes\n` },
      ...(opts.metadata ? { display_data: Object.entries(opts.metadata) } : {}),
    };
    this.task.execution.artifacts = [...this.task.execution.artifacts.filter((a) => a.key !== key), artifact];
    return artifact;
  }

  /** Copy model weights in as an output model (`OutputModel(...).update_weights(<file>)`), stored under `models/`. */
  async addModel(name: string, localPath: string, opts: { framework?: string; tags?: string[]; comment?: string; labels?: Record<string, number>; configText?: string; iteration?: number } = {}): Promise<OfflineOutputModel> {
    this.assertOpen();
    const target = join(this.folder, MODELS_DIR, safeName(basename(localPath)));
    await mkdir(resolve(target, '..'), { recursive: true });
    await copyFile(localPath, target);
    const model: OfflineOutputModel = {
      init: {
        config_text: opts.configText ?? null,
        config_dict: null,
        label_enumeration: opts.labels ?? null,
        name,
        tags: opts.tags ?? [],
        comment: opts.comment ?? null,
        framework: opts.framework ?? null,
      },
      weights: {
        weights_filename: target.split(sep).join('/'),
        upload_uri: null,
        target_filename: null,
        register_uri: null,
        iteration: opts.iteration ?? null,
        update_comment: true,
        is_package: false,
      },
      output_uri: this.outputUri ?? null,
      id: `${OFFLINE_ID_PREFIX}${randomUUID().replaceAll('-', '')}`,
    };
    this.task.offline_output_models.push(model);
    return model;
  }

  /** The status the TypeScript importer sets at the end (the SDK's importer always marks the task completed). */
  setStatus(status: 'completed' | 'failed' | 'stopped', reason?: string): this {
    this.task.mlops_ts = { ...this.task.mlops_ts, status, ...(reason ? { status_reason: reason } : {}) };
    return this;
  }

  /** Write what is buffered and task.json, then the zip. */
  async close(): Promise<OfflineSessionResult> {
    if (this.closed) return this.closed;
    await this.flushEvents();
    await this.writeTaskJson();
    const zipPath = `${this.folder}.zip`;
    await writeZip(this.folder, zipPath);
    this.closed = { id: this.id, folder: this.folder, zip: zipPath, events: this.eventCount, artifacts: this.task.execution.artifacts.length, models: this.task.offline_output_models.length };
    return this.closed;
  }

  /** Append buffered events as one JSON-array line per file (the SDK writes one line per reporting batch). */
  flushEvents(): Promise<void> {
    const metrics = this.metrics.splice(0);
    const logs = this.logs.splice(0);
    this.writing = this.writing.then(async () => {
      const per = 1000;
      let m = '';
      for (let i = 0; i < metrics.length; i += per) m += JSON.stringify(metrics.slice(i, i + per)) + '\n';
      let l = '';
      for (let i = 0; i < logs.length; i += per) l += JSON.stringify(logs.slice(i, i + per)) + '\n';
      if (m) await appendFile(join(this.folder, METRICS_FILE), m);
      if (l) await appendFile(join(this.folder, LOG_FILE), l);
    });
    return this.writing;
  }

  private async writeTaskJson(): Promise<void> {
    const file = join(this.folder, TASK_FILE);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(this.task, null, 1));
    await rename(tmp, file);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`offline session ${this.folder} is closed`);
  }
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function contentTypeOf(file: string): string {
  const ext = file.slice(file.lastIndexOf('.') + 1).toLowerCase();
  const known: Record<string, string> = { json: 'application/json', txt: 'text/plain', csv: 'text/csv', yaml: 'application/x-yaml', yml: 'application/x-yaml', png: 'image/png', html: 'text/html', zip: 'application/zip' };
  return known[ext] ?? 'application/octet-stream';
}

/** Zip a folder, entry names relative to it (the SDK's layout), written atomically. */
export async function writeZip(folder: string, zipPath: string): Promise<void> {
  const files: Zippable = {};
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && !e.name.endsWith('.tmp')) files[relative(folder, p).split(sep).join('/')] = [await readFile(p), { level: 6 }];
    }
  };
  await walk(folder);
  const data = await new Promise<Uint8Array>((ok, fail) => zip(files, (err, out) => (err ? fail(err) : ok(out))));
  const tmp = `${zipPath}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, zipPath);
}
