import { basename } from 'node:path';
import { createHash } from 'node:crypto';
import mime from 'mime-types';
import { ClearmlFilesError, ClearmlNotFoundError, ClearmlValidationError } from '../errors.js';
import type { ClearmlFiles } from '../files.js';
import type { ClearmlTransport } from '../transport.js';
import type { ProjectsApi } from './projects.js';
import { artifactSchema, type Artifact } from './schemas.js';
import type { TasksApi } from './tasks.js';

/** The SDK keeps at most this much of an artifact as its preview text. */
export const MAX_PREVIEW_BYTES = 65_536;

export type ArtifactSource =
  /** A local file (type `custom`, its content type from the extension). */
  | { file: string }
  /** Bytes (type `custom`), stored as `filename` (default `<name>.bin`). */
  | { bytes: Uint8Array; filename?: string }
  /** Text (type `string`, `<name>.txt`, `text/plain`; the text is the preview). */
  | { text: string }
  /** A JSON-serialisable object (type `dict`, `<name>.json`, `application/json`; the JSON is the preview). */
  | { json: unknown };

export interface UploadArtifactOptions {
  /** Override the artifact type (`custom`, `string`, `dict`, …). */
  type?: string;
  contentType?: string;
  /** Preview text shown in the UI (default: derived as the SDK does). */
  preview?: string;
  mode?: 'input' | 'output';
}

/** Artifacts: upload to the fileserver, then register on the task with size, sha256 and preview (as the SDK does). */
export class ArtifactsApi {
  constructor(
    private readonly transport: ClearmlTransport,
    private readonly tasks: TasksApi,
    private readonly projects: ProjectsApi,
    private readonly files: ClearmlFiles,
  ) {}

  /** Upload `source` and register it as artifact `name` of the task (replacing one of the same name). */
  async upload(taskId: string, name: string, source: ArtifactSource, opts: UploadArtifactOptions = {}): Promise<Artifact> {
    if (!name || name.includes('/')) throw new ClearmlValidationError('artifact name', `'${name}' must be non-empty and contain no '/'`);
    let data: string | Uint8Array;
    let filename: string;
    let type: string;
    let contentType: string;
    let preview: string;
    if ('file' in source) {
      data = source.file;
      filename = basename(source.file);
      type = 'custom';
      contentType = mime.lookup(filename) || 'application/octet-stream';
      preview = '';
    } else if ('bytes' in source) {
      data = source.bytes;
      filename = source.filename ?? `${name}.bin`;
      type = 'custom';
      contentType = mime.lookup(filename) || 'application/octet-stream';
      preview = '';
    } else if ('text' in source) {
      data = Buffer.from(source.text, 'utf8');
      filename = `${name}.txt`;
      type = 'string';
      contentType = 'text/plain';
      preview = source.text;
    } else {
      const text = JSON.stringify(source.json, null, 4);
      if (text === undefined) throw new ClearmlValidationError('artifact', `'${name}': the value is not JSON-serialisable`);
      data = Buffer.from(text, 'utf8');
      filename = `${name}.json`;
      type = 'dict';
      contentType = 'application/json';
      preview = text;
    }
    if (opts.contentType) contentType = opts.contentType;
    const task = await this.tasks.get(taskId);
    const projectName = task.project ? (await this.projects.get(task.project)).name : 'artifacts';
    const key = `${projectName}/${task.name}.${task.id}/artifacts/${name}/${filename}`;
    const up = await this.files.put(data, key, { contentType });
    if (!preview && 'file' in source) preview = `${filename} - ${formatSize(up.size)}\n`;
    const artifact = {
      key: name,
      type: opts.type ?? type,
      mode: opts.mode ?? 'output',
      uri: up.url,
      content_size: up.size,
      hash: up.sha256,
      timestamp: Math.floor(Date.now() / 1000),
      type_data: { preview: truncatePreview(opts.preview ?? preview), content_type: contentType },
    } as const;
    await this.tasks.addOrUpdateArtifacts(taskId, [artifact]);
    return (await this.tasks.getArtifacts(taskId)).find((a) => a.key === name && (a.mode ?? 'output') === artifact.mode) ?? artifactSchema.parse(artifact);
  }

  async list(taskId: string): Promise<Artifact[]> {
    return this.tasks.getArtifacts(taskId);
  }

  async get(taskId: string, name: string): Promise<Artifact> {
    const a = (await this.list(taskId)).find((x) => x.key === name);
    if (!a) throw new ClearmlNotFoundError('artifact', `'${name}' of task ${taskId}`, this.transport.server);
    return a;
  }

  /** Download an artifact's bytes; checks size and sha256 against what the task records. */
  async download(taskId: string, name: string): Promise<Buffer> {
    const a = await this.get(taskId, name);
    if (!a.uri) throw new ClearmlFilesError({ operation: 'download', url: `artifact ${name}`, problem: 'the artifact has no uri' });
    const bytes = await this.files.download(a.uri);
    if (a.hash) {
      const got = createHash('sha256').update(bytes).digest('hex');
      if (got !== a.hash) throw new ClearmlFilesError({ operation: 'download', url: a.uri, problem: `sha256 ${got} does not match the artifact's recorded hash ${a.hash}` });
    }
    return bytes;
  }

  async delete(taskId: string, name: string, opts: { deleteFile?: boolean } = {}): Promise<void> {
    const a = await this.get(taskId, name);
    await this.tasks.deleteArtifacts(taskId, [{ key: name, mode: a.mode ?? 'output' }]);
    if (opts.deleteFile && a.uri && this.files.keyOf(a.uri)) await this.files.delete(a.uri);
  }
}

function truncatePreview(p: string): string {
  return Buffer.byteLength(p) <= MAX_PREVIEW_BYTES ? p : `# preview truncated to ${MAX_PREVIEW_BYTES / 1024}kb\n${Buffer.from(p).subarray(0, MAX_PREVIEW_BYTES).toString('utf8')}`;
}

function formatSize(n: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} ${units[0]}` : `${v.toFixed(2)} ${units[i]}`;
}
