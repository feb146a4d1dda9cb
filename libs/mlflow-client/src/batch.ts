/**
 * Splitting log-batch input into requests the server accepts (mlflow/utils/validation.py):
 * ≤1000 metrics, ≤100 params, ≤100 tags, ≤1000 entities in total and ≤1 MB of JSON per request.
 * Plus the client-side checks of the same rules the server applies to each entity, so a bad key fails at the
 * call site instead of inside a background flush.
 */
import { MlflowValidationError } from './errors.js';
import { toMlflowJson } from './json.js';
import type { KeyValue, MetricIn } from './rest.js';

export const LOG_BATCH_LIMITS = {
  maxMetrics: 1000,
  maxParams: 100,
  maxTags: 100,
  maxEntities: 1000,
  maxRequestBytes: 1_000_000,
} as const;
export type LogBatchLimits = { [K in keyof typeof LOG_BATCH_LIMITS]: number };

export const MAX_ENTITY_KEY_LENGTH = 250;
export const MAX_PARAM_VAL_LENGTH = 6000;
export const MAX_TAG_VAL_LENGTH = 8000;

export interface LogBatchChunk {
  metrics: MetricIn[];
  params: KeyValue[];
  tags: KeyValue[];
}

// Python's `\w` is Unicode-aware: letters, digits, marks, underscore.
const NAME_RE = /^[/\p{L}\p{N}\p{M}_.\- :]*$/u;

function checkName(kind: string, key: string): void {
  if (typeof key !== 'string' || key === '') throw new MlflowValidationError(`${kind} key`, 'a key name must be provided');
  if (key.length > MAX_ENTITY_KEY_LENGTH) throw new MlflowValidationError(`${kind} key "${key.slice(0, 40)}…"`, `longer than ${MAX_ENTITY_KEY_LENGTH} characters`);
  if (!NAME_RE.test(key)) {
    throw new MlflowValidationError(`${kind} key ${JSON.stringify(key)}`, 'names may only contain alphanumerics, underscores, dashes, periods, spaces, colons and slashes');
  }
  const norm = normalizePosix(key);
  if (norm !== key || norm === '.' || norm.startsWith('..') || norm.startsWith('/')) {
    throw new MlflowValidationError(`${kind} key ${JSON.stringify(key)}`, `names must not resolve to another path (it resolves to ${JSON.stringify(norm)})`);
  }
}

function normalizePosix(p: string): string {
  const abs = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!abs) out.push('..');
    } else out.push(seg);
  }
  const s = (abs ? '/' : '') + out.join('/');
  return s || (abs ? '/' : '.');
}

/** `knownKeys`: keys already validated (skips the name checks; valid keys are added). */
export function validateMetric(m: MetricIn, knownKeys?: Set<string>): void {
  if (!knownKeys?.has(m.key)) {
    checkName('metric', m.key);
    knownKeys?.add(m.key);
  }
  if (typeof m.value !== 'number') throw new MlflowValidationError(`metric "${m.key}" value`, `expected a number, got ${typeof m.value}`);
  if (!Number.isSafeInteger(m.timestamp)) throw new MlflowValidationError(`metric "${m.key}" timestamp`, `expected integer milliseconds, got ${m.timestamp}`);
  if (!Number.isSafeInteger(m.step)) throw new MlflowValidationError(`metric "${m.key}" step`, `expected an integer, got ${m.step}`);
}
export function validateParam(p: KeyValue): void {
  checkName('param', p.key);
  if (typeof p.value !== 'string') throw new MlflowValidationError(`param "${p.key}" value`, 'expected a string');
  if (p.value.length > MAX_PARAM_VAL_LENGTH) throw new MlflowValidationError(`param "${p.key}" value`, `longer than ${MAX_PARAM_VAL_LENGTH} characters (${p.value.length})`);
}
export function validateTag(t: KeyValue): void {
  if (typeof t.key !== 'string' || t.key === '' || t.key.length > MAX_ENTITY_KEY_LENGTH) {
    throw new MlflowValidationError('tag key', `must be 1..${MAX_ENTITY_KEY_LENGTH} characters`);
  }
  if (typeof t.value !== 'string') throw new MlflowValidationError(`tag "${t.key}" value`, 'expected a string');
  if (t.value.length > MAX_TAG_VAL_LENGTH) throw new MlflowValidationError(`tag "${t.key}" value`, `longer than ${MAX_TAG_VAL_LENGTH} characters (${t.value.length})`);
}

/**
 * Greedy split: params, then tags, then metrics, each request filled up to every limit. The byte size counted is
 * the exact length of each item's JSON plus its separator, and a fixed envelope for `{"run_id":…}`.
 */
export function splitLogBatch(
  input: { metrics?: readonly MetricIn[]; params?: readonly KeyValue[]; tags?: readonly KeyValue[] },
  limits: LogBatchLimits = LOG_BATCH_LIMITS,
): LogBatchChunk[] {
  const envelope = 400; // {"run_id":"<≤256 chars>","metrics":[],"params":[],"tags":[]}
  const chunks: LogBatchChunk[] = [];
  let cur: LogBatchChunk = { metrics: [], params: [], tags: [] };
  let bytes = envelope;
  const flush = () => {
    if (cur.metrics.length + cur.params.length + cur.tags.length > 0) chunks.push(cur);
    cur = { metrics: [], params: [], tags: [] };
    bytes = envelope;
  };
  const entities = () => cur.metrics.length + cur.params.length + cur.tags.length;
  const add = <K extends keyof LogBatchChunk>(kind: K, item: LogBatchChunk[K][number], size: number, max: number) => {
    if (size + envelope > limits.maxRequestBytes) {
      throw new MlflowValidationError(`${kind} "${(item as { key: string }).key}"`, `larger than one log-batch request may be (${size} bytes)`);
    }
    if ((cur[kind] as unknown[]).length >= max || entities() >= limits.maxEntities || bytes + size > limits.maxRequestBytes) flush();
    (cur[kind] as unknown[]).push(item);
    bytes += size;
  };
  for (const p of input.params ?? []) add('params', p, Buffer.byteLength(toMlflowJson(p)) + 1, limits.maxParams);
  for (const t of input.tags ?? []) add('tags', t, Buffer.byteLength(toMlflowJson(t)) + 1, limits.maxTags);
  const keySize = new Map<string, number>();
  for (const m of input.metrics ?? []) {
    let ks = keySize.get(m.key);
    if (ks === undefined) {
      ks = Buffer.byteLength(JSON.stringify(m.key));
      keySize.set(m.key, ks);
    }
    // {"key":K,"value":V,"timestamp":T,"step":S} — numbers sized exactly; optional dataset/model fields when present.
    let size = 40 + ks + numLen(m.value) + String(m.timestamp).length + String(m.step).length + 1;
    if (m.dataset_name !== undefined || m.dataset_digest !== undefined || m.model_id !== undefined) {
      size = Buffer.byteLength(toMlflowJson(m)) + 1;
    }
    add('metrics', m, size, limits.maxMetrics);
  }
  flush();
  return chunks;
}

function numLen(v: number): number {
  return Number.isFinite(v) ? String(v).length : 11;
}
