/**
 * Flattens nested params into dotted keys with string values, the form both trackers store:
 * `{ model: { layers: [32, 16] } }` → `{ "model.layers": "[32,16]" }`. Arrays are kept whole (JSON), because a
 * layer list is one hyper-parameter; null and undefined leaves are dropped.
 */
export function flattenParams(value: unknown, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (v: unknown, key: string): void => {
    if (v === null || v === undefined) return;
    if (typeof v === 'object' && !Array.isArray(v)) {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length === 0 && key) out[key] = '{}';
      for (const [k, child] of entries) visit(child, key ? `${key}.${k}` : k);
      return;
    }
    if (!key) throw new TypeError('flattenParams: a top-level value must be an object');
    out[key] = typeof v === 'string' ? v : JSON.stringify(v);
  };
  visit(value, prefix);
  return out;
}
