/**
 * {@link importOfflineSession}: deliver an offline session (the SDK's format, written by the SDK or by
 * {@link OfflineSession}) to a server — what `Task.import_offline_session` does, in TypeScript: create the task
 * (or continue `previousTaskId`), set hyper-parameters and configuration, upload artifacts and model weights to the
 * fileserver, send the events, set the final status.
 */
import { mkdtemp, readFile, rm, stat, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { unzip } from 'fflate';
import { z } from 'zod';
import type { EventsTransport } from '../events/logger.js';
import { AddBatchResponseSchema, TaskEventSchema, type TaskEvent } from '../events/types.js';
import { ClearmlOfflineSessionError } from './errors.js';
import { DATA_DIR, LOG_FILE, METRICS_FILE, OfflineTaskSchema, TASK_FILE, taskDataPrefix, type OfflineTask } from './format.js';

/** What the importer needs from a client (ClearmlClient has it). */
export interface ImportClient {
  transport: EventsTransport;
  files: { upload(localPath: string, key: string): Promise<string> };
  /** Project get-or-create by exact name (ClearmlClient's creates parents of `a/b`); raw calls otherwise. */
  projects?: { getOrCreate(name: string): Promise<{ id: string }> };
  webUrl?(taskId: string, projectId?: string): string;
}

export interface ImportOptions {
  client: ImportClient;
  /** Continue this task instead of creating one (default: task.json's `mlops_ts.previous_task_id`, else a new task). */
  previousTaskId?: string;
  /** Added to every event's iteration (the SDK's `iteration_offset`). */
  iterationOffset?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface ImportResult {
  taskId: string;
  projectId: string | undefined;
  /** True when an existing task was continued. */
  continued: boolean;
  events: { sent: number; added: number; refused: number };
  artifacts: string[];
  models: { name: string; id: string; url: string }[];
  status: string;
  webUrl: string | undefined;
}

export interface ReadSession {
  folder: string;
  task: OfflineTask;
  metrics: TaskEvent[];
  logs: TaskEvent[];
}

const IdSchema = z.object({ id: z.string() });
const UpdatedSchema = z.looseObject({});
const ProjectsSchema = z.object({ projects: z.array(z.object({ id: z.string(), name: z.string() })) });
const TaskByIdSchema = z.object({ task: z.looseObject({ id: z.string(), name: z.string().optional(), project: z.string().optional().nullable(), status: z.string().optional() }) });
const BATCH = 2000;

/** Unzip a session zip into a new temporary folder (entries must stay inside it). */
async function extract(zipPath: string): Promise<string> {
  const data = await readFile(zipPath);
  const files = await new Promise<Record<string, Uint8Array>>((ok, fail) => unzip(data, (err, out) => (err ? fail(err) : ok(out)))).catch((e: unknown) => {
    throw new ClearmlOfflineSessionError({ path: zipPath, problem: `not a zip file (${(e as Error).message})` }, e);
  });
  const dir = await mkdtemp(join(tmpdir(), 'clearml-offline-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      if (name.endsWith('/')) continue;
      const target = resolve(dir, name);
      if (!target.startsWith(dir + sep)) throw new ClearmlOfflineSessionError({ path: zipPath, problem: `entry ${JSON.stringify(name)} points outside the session` });
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return dir;
}

async function readEvents(file: string): Promise<TaskEvent[]> {
  if (!existsSync(file)) return [];
  const out: TaskEvent[] = [];
  const lines = (await readFile(file, 'utf8')).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new ClearmlOfflineSessionError({ path: `${file}:${i + 1}`, problem: 'line is not JSON' });
    }
    const arr = z.array(z.unknown()).safeParse(parsed);
    if (!arr.success) throw new ClearmlOfflineSessionError({ path: `${file}:${i + 1}`, problem: 'line is not a JSON array of events' });
    for (const e of arr.data) {
      // The SDK's files carry a stray `"method": "get"` and event types this client does not send (images,
      // vectors): those are passed through as they are; only the types we know are checked.
      const typed = TaskEventSchema.safeParse(e);
      if (typed.success) out.push({ ...(e as object), ...typed.data } as TaskEvent);
      else if (e && typeof e === 'object' && typeof (e as { type?: unknown }).type === 'string' && !['training_stats_scalar', 'plot', 'log'].includes((e as { type: string }).type)) out.push(e as TaskEvent);
      else throw new ClearmlOfflineSessionError({ path: `${file}:${i + 1}`, problem: `not a ClearML event: ${typed.error.issues[0]?.path.join('.')} ${typed.error.issues[0]?.message}` });
    }
  }
  return out;
}

/** Read a session folder or zip (zod-checked). For a zip, `folder` is a temporary copy the caller removes. */
export async function readOfflineSession(zipOrDir: string): Promise<ReadSession & { temporary: boolean }> {
  const st = await stat(zipOrDir).catch(() => undefined);
  if (!st) throw new ClearmlOfflineSessionError({ path: zipOrDir, problem: 'no such file or folder' });
  const folder = st.isDirectory() ? resolve(zipOrDir) : await extract(zipOrDir);
  try {
    const taskFile = join(folder, TASK_FILE);
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(taskFile, 'utf8'));
    } catch (e) {
      throw new ClearmlOfflineSessionError({ path: st.isDirectory() ? taskFile : `${zipOrDir}!${TASK_FILE}`, problem: existsSync(taskFile) ? 'task.json is not JSON' : 'no task.json (not an offline session)' }, e);
    }
    const task = OfflineTaskSchema.safeParse(raw);
    if (!task.success) throw new ClearmlOfflineSessionError({ path: taskFile, problem: `task.json: ${task.error.issues[0]?.path.join('.')} ${task.error.issues[0]?.message}` });
    return { folder, task: task.data, metrics: await readEvents(join(folder, METRICS_FILE)), logs: await readEvents(join(folder, LOG_FILE)), temporary: !st.isDirectory() };
  } catch (e) {
    if (!st.isDirectory()) await rm(folder, { recursive: true, force: true }); // the temporary copy of a zip
    throw e;
  }
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function projectId(t: EventsTransport, name: string): Promise<string> {
  const found = await t.call('projects.get_all', { name: `^${escapeRegex(name)}$`, only_fields: ['id', 'name'] }, ProjectsSchema);
  const hit = found.projects.find((p) => p.name === name);
  if (hit) return hit.id;
  return (await t.call('projects.create', { name, description: 'imported offline session' }, IdSchema)).id;
}

/**
 * Import an offline session into the server; see the module comment. `session` is a folder or zip, or what
 * {@link readOfflineSession} returned (its temporary copy of a zip is removed at the end either way).
 */
export async function importOfflineSession(session: string | (ReadSession & { temporary?: boolean }), opts: ImportOptions): Promise<ImportResult> {
  const log = opts.log ?? (() => undefined);
  const t = opts.client.transport;
  if (typeof session === 'string') session = await readOfflineSession(session);
  try {
    const { task: data, folder } = session;
    const previous = opts.previousTaskId ?? data.mlops_ts?.previous_task_id;
    let taskId: string;
    let project: string | undefined;
    let taskName = data.name;
    let before: string | undefined;
    if (previous) {
      const got = await t.call('tasks.get_by_id', { task: previous }, TaskByIdSchema);
      taskId = got.task.id;
      project = got.task.project ?? undefined;
      taskName = got.task.name ?? taskName;
      before = got.task.status;
      log(`continuing task ${taskId} (${before ?? 'unknown status'})`);
    } else {
      const projectName = data.project_name || 'offline';
      project = opts.client.projects ? (await opts.client.projects.getOrCreate(projectName)).id : await projectId(t, projectName);
      taskId = (await t.call('tasks.create', { name: data.name, project, type: data.type, ...(data.comment ? { comment: data.comment } : {}), ...(data.tags ? { tags: data.tags } : {}), ...(data.script ? { script: data.script } : {}) }, IdSchema)).id;
      log(`created task ${taskId} in project ${projectName}`);
    }
    // The task runs while it is filled, as with the SDK's importer (models can be attached only to a created or
    // running task). A continued task that had ended gets its end status back unless the session names one.
    const ended = before !== undefined && ['completed', 'failed', 'stopped'].includes(before);
    if (!previous || ended || before === 'created') await t.call('tasks.started', { task: taskId, force: true }, UpdatedSchema);

    // hyper-parameters and configuration (merged into what the task has)
    const hyper = Object.entries(data.hyperparams ?? {}).flatMap(([section, params]) => Object.entries(params).map(([name, p]) => ({ section, name, value: p.value, type: p.type ?? undefined, description: p.description ?? undefined })));
    if (hyper.length) await t.call('tasks.edit_hyper_params', { task: taskId, hyperparams: hyper, replace_hyperparams: 'none', force: true }, UpdatedSchema);
    const config = Object.entries(data.configuration ?? {}).map(([name, c]) => ({ name, value: c.value, type: c.type ?? undefined, description: c.description ?? undefined }));
    if (config.length) await t.call('tasks.edit_configuration', { task: taskId, configuration: config, replace_configuration: false, force: true }, UpdatedSchema);
    if (hyper.length || config.length) log(`set ${hyper.length} hyper-parameters, ${config.length} configuration objects`);

    // artifacts: files under data/ are uploaded to <project>/<name>.<task id>/… like the SDK's importer
    const artifacts: string[] = [];
    const offlineData = `${data.offline_folder ?? ''}/${DATA_DIR}/`;
    const remotePrefix = taskDataPrefix(data.project_name ?? 'offline', taskName, taskId);
    const ownPrefix = taskDataPrefix(data.project_name ?? 'offline', data.name, data.id);
    const updated = [];
    for (const a of data.execution?.artifacts ?? []) {
      const uri = a.uri ?? '';
      const rel = uri.startsWith(offlineData) ? uri.slice(offlineData.length) : undefined;
      const local = rel ? join(folder, DATA_DIR, ...rel.split('/')) : undefined;
      if (!rel || !local || !existsSync(local)) {
        updated.push(a); // a remote uri (or a file the session does not hold) is registered as it is
        continue;
      }
      const key = rel.startsWith(`${ownPrefix}/`) ? `${remotePrefix}/${rel.slice(ownPrefix.length + 1)}` : rel.replace(`.${data.id}/`, `.${taskId}/`);
      const url = await opts.client.files.upload(local, key);
      updated.push({ ...a, uri: url });
      artifacts.push(a.key);
      log(`artifact ${a.key} → ${url}`);
    }
    if (updated.length) await t.call('tasks.add_or_update_artifacts', { task: taskId, artifacts: updated, force: true }, UpdatedSchema);

    // output models: weights from models/ (or wherever weights_filename points, as the SDK reads it)
    const models: ImportResult['models'] = [];
    for (const m of data.offline_output_models ?? []) {
      const w = m.weights.weights_filename;
      const local = w ? [join(folder, 'models', basename(w)), w].find((p) => existsSync(p)) : undefined;
      let url = m.weights.register_uri ?? undefined;
      if (local) url = await opts.client.files.upload(local, `${remotePrefix}/models/${basename(local)}`);
      if (!url) {
        log(`model ${m.init.name ?? m.id}: no weights file in the session, skipped`);
        continue;
      }
      const name = m.init.name ?? basename(local ?? url);
      const id = (
        await t.call(
          'models.create',
          {
            name,
            uri: url,
            task: taskId,
            ...(project ? { project } : {}),
            ...(m.init.framework ? { framework: m.init.framework } : {}),
            ...(m.init.comment ? { comment: m.init.comment } : {}),
            ...(m.init.tags?.length ? { tags: m.init.tags } : {}),
            ...(m.init.label_enumeration ? { labels: m.init.label_enumeration } : {}),
            ...(m.init.config_text ? { design: { design: m.init.config_text } } : {}),
            ready: true,
          },
          IdSchema,
        )
      ).id;
      await t.call('tasks.add_or_update_model', { task: taskId, name, model: id, type: 'output', ...(m.weights.iteration != null ? { iteration: m.weights.iteration } : {}) }, UpdatedSchema);
      models.push({ name, id, url });
      log(`model ${name} → ${url}`);
    }

    // events: metrics.jsonl events of this session's id (as the SDK filters), then the console log
    const offset = opts.iterationOffset ?? 0;
    const retarget = (e: TaskEvent): TaskEvent => {
      const out: Record<string, unknown> = { ...e, task: taskId };
      delete out['method'];
      if (offset && typeof out['iter'] === 'number' && out['iter'] !== -2147483648) out['iter'] = (out['iter'] as number) + offset;
      return out as TaskEvent;
    };
    const events = [...session.metrics.filter((e) => e.task === data.id && !e.model_event), ...session.logs].map(retarget);
    let added = 0;
    let refused = 0;
    for (let i = 0; i < events.length; i += BATCH) {
      const res = await t.call('events.add_batch', events.slice(i, i + BATCH), AddBatchResponseSchema, { jsonLines: true });
      added += res.added;
      refused += res.errors;
      log(`events ${Math.min(i + BATCH, events.length)}/${events.length}${res.errors ? ` (${res.errors} refused: ${JSON.stringify(res.errors_info ?? {}).slice(0, 200)})` : ''}`);
    }

    const status = data.mlops_ts?.status ?? (!previous ? 'completed' : ended ? (before as 'completed' | 'failed' | 'stopped') : undefined);
    if (status) {
      await t.call(`tasks.${status}`, { task: taskId, force: true, ...(data.mlops_ts?.status_reason ? { status_reason: data.mlops_ts.status_reason } : {}) }, UpdatedSchema);
    }
    const webUrl = opts.client.webUrl?.(taskId, project);
    return { taskId, projectId: project, continued: Boolean(previous), events: { sent: events.length, added, refused }, artifacts, models, status: status ?? 'unchanged', webUrl };
  } finally {
    if (session.temporary) await rm(session.folder, { recursive: true, force: true });
  }
}
