import { LOG_BATCH_LIMITS, splitLogBatch, validateMetric, validateParam } from './batch.js';
import { MlflowValidationError } from './errors.js';
import { toMlflowJson } from './json.js';
import type { MetricIn } from './rest.js';

const metrics = (n: number, key = 'loss'): MetricIn[] => Array.from({ length: n }, (_, i) => ({ key, value: i / 7, timestamp: 1_700_000_000_000 + i, step: i }));
const kv = (n: number, prefix: string, valueLen = 5) => Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: 'x'.repeat(valueLen) }));

function checkLimits(chunks: ReturnType<typeof splitLogBatch>) {
  for (const c of chunks) {
    expect(c.metrics.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.maxMetrics);
    expect(c.params.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.maxParams);
    expect(c.tags.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.maxTags);
    expect(c.metrics.length + c.params.length + c.tags.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.maxEntities);
    const body = toMlflowJson({ run_id: 'f'.repeat(32), metrics: c.metrics, params: c.params, tags: c.tags });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(LOG_BATCH_LIMITS.maxRequestBytes);
  }
}

test('splits every kind within the count limits and keeps every item in order', () => {
  const input = { metrics: metrics(2501), params: kv(250, 'p'), tags: kv(101, 't') };
  const chunks = splitLogBatch(input);
  checkLimits(chunks);
  expect(chunks.flatMap((c) => c.metrics)).toEqual(input.metrics);
  expect(chunks.flatMap((c) => c.params)).toEqual(input.params);
  expect(chunks.flatMap((c) => c.tags)).toEqual(input.tags);
  // 250 params need 3 requests, 2501 metrics at least 3 more entity-limited requests.
  expect(chunks.length).toBeGreaterThanOrEqual(5);
});

test('splits by request size when values are large (100 params of 6000 chars + 100 tags of 8000 chars > 1 MB)', () => {
  const input = { params: kv(100, 'p', 6000), tags: kv(100, 't', 8000), metrics: metrics(10) };
  const chunks = splitLogBatch(input);
  checkLimits(chunks);
  expect(chunks.length).toBeGreaterThanOrEqual(2);
  expect(chunks.flatMap((c) => c.tags)).toEqual(input.tags);
});

test('byte limit honoured exactly for escaped and multi-byte text', () => {
  const tags = Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: '\u0001é"'.repeat(2600) }));
  const chunks = splitLogBatch({ tags }, { ...LOG_BATCH_LIMITS, maxRequestBytes: 200_000 });
  for (const c of chunks) expect(Buffer.byteLength(toMlflowJson({ run_id: 'x'.repeat(32), tags: c.tags }))).toBeLessThanOrEqual(200_000);
  expect(chunks.flatMap((c) => c.tags)).toEqual(tags);
});

test('empty input gives no request', () => {
  expect(splitLogBatch({})).toEqual([]);
});

test('non-finite values are encoded the way MLflow parses them', () => {
  expect(toMlflowJson({ v: [Number.NaN, Infinity, -Infinity, 1.5] })).toBe('{"v":["NaN","Infinity","-Infinity",1.5]}');
});

test('validation mirrors the server rules', () => {
  expect(() => validateMetric({ key: 'a/../b', value: 1, timestamp: 1, step: 0 })).toThrow(MlflowValidationError);
  expect(() => validateMetric({ key: 'bad*key', value: 1, timestamp: 1, step: 0 })).toThrow(/alphanumerics/);
  expect(() => validateMetric({ key: 'ok key/train:acc-1.0', value: 1, timestamp: 1, step: 1.5 })).toThrow(/step/);
  expect(() => validateMetric({ key: 'ok key/train:acc-1.0', value: Number.NaN, timestamp: 1, step: 1 })).not.toThrow();
  expect(() => validateParam({ key: 'p', value: 'x'.repeat(6001) })).toThrow(/6000/);
});
