/**
 * The official SDK's offline-session format (clearml 2.1.12: `Task.set_offline(True)`, written by
 * backend_interface/task/task.py `_save_data_to_offline_dir`, backend_interface/metrics/interface.py and
 * backend_interface/task/log.py; read by `Task.import_offline_session`). See the README's "Offline sessions".
 *
 *   <session>/task.json          the task object (tasks.Task.to_dict()) + project_name, offline_folder, offline_output_models
 *   <session>/metrics.jsonl      one JSON array of events per line (scalars, plots; `task` = the session's id)
 *   <session>/log.jsonl          one JSON array of task_log_event per line
 *   <session>/data/<project>/<name>.<id>/artifacts/<key>/<file>   artifact files (uri = <offline_folder>/data/…)
 *   <session>/models/<file>      output model weights (weights_filename = <offline_folder>/models/<file>)
 *   <session>.zip                the same files, paths relative to <session>/, deflated
 */
import { z } from 'zod';

export const TASK_FILE = 'task.json';
export const METRICS_FILE = 'metrics.jsonl';
export const LOG_FILE = 'log.jsonl';
export const DATA_DIR = 'data';
export const MODELS_DIR = 'models';
/** Session ids (and output model ids) the SDK way: `offline-` + 32 hex digits. */
export const OFFLINE_ID_PREFIX = 'offline-';

export const HyperParamSchema = z.object({
  section: z.string().optional(),
  name: z.string().optional(),
  value: z.string().default(''),
  type: z.string().optional().nullable(),
  description: z.string().optional().nullable(),
});
export const ConfigurationItemSchema = z.object({
  name: z.string().optional(),
  value: z.string().default(''),
  type: z.string().optional().nullable(),
  description: z.string().optional().nullable(),
});
export const ArtifactSchema = z.looseObject({
  key: z.string(),
  type: z.string(),
  mode: z.enum(['input', 'output']).optional(),
  uri: z.string().optional(),
  content_size: z.number().optional(),
  hash: z.string().optional(),
  timestamp: z.number().optional(),
  type_data: z.looseObject({ preview: z.string().optional(), content_type: z.string().optional(), data_hash: z.string().optional() }).optional(),
  display_data: z.array(z.array(z.string())).optional(),
});
export const OfflineOutputModelSchema = z.object({
  init: z.looseObject({
    name: z.string().optional().nullable(),
    tags: z.array(z.string()).optional().nullable(),
    comment: z.string().optional().nullable(),
    framework: z.string().optional().nullable(),
    config_text: z.string().optional().nullable(),
    config_dict: z.record(z.string(), z.unknown()).optional().nullable(),
    label_enumeration: z.record(z.string(), z.number()).optional().nullable(),
  }),
  weights: z.looseObject({
    weights_filename: z.string().optional().nullable(),
    upload_uri: z.string().optional().nullable(),
    target_filename: z.string().optional().nullable(),
    register_uri: z.string().optional().nullable(),
    iteration: z.number().optional().nullable(),
    update_comment: z.boolean().optional().nullable(),
    is_package: z.boolean().optional().nullable(),
  }),
  output_uri: z.string().optional().nullable(),
  id: z.string(),
});

/** What this client adds to task.json (ignored by the SDK: `import_task` keeps only `tasks.edit` fields). */
export const MlopsTsExtraSchema = z.object({
  /** The task a {@link EventsLogger} was logging to when it wrote this session: the importer continues it. */
  previous_task_id: z.string().optional(),
  /** Final status to set after the import (the SDK always marks an imported session completed). */
  status: z.enum(['completed', 'failed', 'stopped']).optional(),
  status_reason: z.string().optional(),
  writer: z.string().optional(),
});

export const OfflineTaskSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().default('offline session'),
  project_name: z.string().optional().nullable(),
  type: z.string().default('training'),
  comment: z.string().optional().nullable(),
  tags: z.array(z.string()).optional().nullable(),
  system_tags: z.array(z.string()).optional().nullable(),
  script: z.record(z.string(), z.unknown()).optional().nullable(),
  hyperparams: z.record(z.string(), z.record(z.string(), HyperParamSchema)).optional().nullable(),
  configuration: z.record(z.string(), ConfigurationItemSchema).optional().nullable(),
  execution: z.looseObject({ artifacts: z.array(ArtifactSchema).optional().nullable() }).optional().nullable(),
  output: z.record(z.string(), z.unknown()).optional().nullable(),
  offline_folder: z.string().optional().nullable(),
  offline_output_models: z.array(OfflineOutputModelSchema).optional().nullable(),
  mlops_ts: MlopsTsExtraSchema.optional(),
});
export type OfflineTask = z.output<typeof OfflineTaskSchema>;
export type OfflineArtifact = z.output<typeof ArtifactSchema>;
export type OfflineOutputModel = z.output<typeof OfflineOutputModelSchema>;
export type HyperParam = z.output<typeof HyperParamSchema>;

/** A folder/file name component the way the SDK keeps it readable: path separators and control characters become `_`. */
export function safeName(s: string, max = 128): string {
  // eslint-disable-next-line no-control-regex
  const out = s.replace(/[\\/\u0000-\u001f:*?"<>|%]/g, '_').replace(/^\.+/, '_').trim();
  return (out || '_').slice(0, max);
}

/** The `data/`-relative folder the SDK keeps a task's artifacts in: `<project>/<name>.<id>`. */
export function taskDataPrefix(project: string, name: string, id: string): string {
  return `${safeName(project, 256)}/${safeName(name, 128)}.${id}`;
}
