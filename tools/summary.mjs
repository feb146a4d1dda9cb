#!/usr/bin/env node
// The few lines `npm run pipeline` ends with: data quality, the ranking with the majority-class baseline, the
// champion (or why there is none). Reads the DVC-versioned metrics files only, and tolerates missing files and keys
// (their shapes grow over time): whatever is absent is left out. The full table stays with `dvc metrics show`.
//
//   node tools/summary.mjs [--dir <repository root>]
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

/** Parsed JSON of a file, or undefined when it is missing or not JSON. */
function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);
const fmt = (v) => (isNumber(v) ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : '?');
const pct = (v) => `${(v * 100).toFixed(1)}%`;
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

function dataLine(dq) {
  if (!isObject(dq)) return undefined;
  const parts = [];
  const rows = isObject(dq.rows) ? dq.rows : {};
  if (isNumber(rows.out)) {
    const from = isNumber(rows.in) && isNumber(rows.source) && rows.in < rows.source ? ` (sample of ${rows.in} from ${rows.source})` : '';
    const dropped = isNumber(rows.in) ? rows.in - rows.out : undefined;
    parts.push(`${rows.out} rows${from}${dropped !== undefined ? `, ${dropped} dropped` : ''}`);
  }
  if (isObject(dq.dropped)) {
    const reasons = Object.entries(dq.dropped).filter(([, n]) => isNumber(n) && n > 0);
    if (reasons.length > 0) parts.push(`dropped: ${reasons.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
  if (isObject(dq.class_counts)) {
    const counts = Object.entries(dq.class_counts).filter(([, n]) => isNumber(n));
    const total = counts.reduce((s, [, n]) => s + n, 0);
    if (total > 0) parts.push(`classes: ${counts.map(([c, n]) => `${c} ${pct(n / total)}`).join(', ')}`);
  }
  if (isObject(dq.clipped)) {
    const clipped = Object.entries(dq.clipped).filter(([, n]) => isNumber(n) && n > 0);
    if (clipped.length > 0) parts.push(`clipped: ${clipped.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
  if (isObject(dq.nulls_out)) {
    const nulls = Object.entries(dq.nulls_out).filter(([, n]) => isNumber(n) && n > 0);
    parts.push(nulls.length > 0 ? `nulls left for imputation: ${nulls.map(([k, n]) => `${k} ${n}`).join(', ')}` : 'no nulls');
  }
  return parts.length > 0 ? `data: ${parts.join('; ')}` : undefined;
}

/** metrics/eval/<model>.json by model name. */
function readEvals(dir) {
  let files;
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return {};
  }
  const out = {};
  for (const f of files) {
    const m = readJson(join(dir, f));
    if (isObject(m)) out[f.slice(0, -'.json'.length)] = m;
  }
  return out;
}

/** The baseline's value of a metric, from the first eval file that records one (`baseline.<metric>`). */
function baselineOf(evals, metric) {
  for (const m of Object.values(evals)) {
    const b = m.baseline;
    if (isNumber(b)) return { value: b };
    if (isObject(b)) {
      const value = b[metric] ?? (isObject(b.metrics) ? b.metrics[metric] : undefined);
      if (isNumber(value)) return { value, name: typeof b.name === 'string' ? b.name : typeof b.strategy === 'string' ? b.strategy : undefined };
    }
  }
  return undefined;
}

function championName(compare) {
  const c = compare.champion;
  if (typeof c === 'string') return c;
  if (isObject(c) && typeof c.model === 'string') return c.model;
  if (c === null) return null;
  return isObject(compare.best) && typeof compare.best.model === 'string' && isObject(compare.registered) ? compare.best.model : undefined;
}

/** The summary lines for a repository root. */
export function summarize(root = process.cwd()) {
  const lines = [];
  const dq = dataLine(readJson(join(root, 'metrics/data_quality.json')));
  if (dq) lines.push(dq);

  const evals = readEvals(join(root, 'metrics/eval'));
  const compare = readJson(join(root, 'metrics/compare.json'));
  const metricKey = isObject(compare) && typeof compare.metric === 'string' ? compare.metric : 'test_roc_auc';
  const metric = metricKey.replace(/^test_/, '');
  const higher = isObject(compare) && typeof compare.higher_is_better === 'boolean' ? compare.higher_is_better : true;

  let ranking = isObject(compare) && Array.isArray(compare.ranking) ? compare.ranking.filter((r) => isObject(r) && typeof r.model === 'string') : [];
  if (ranking.length === 0) {
    // No compare.json yet: rank what evaluate wrote.
    ranking = Object.entries(evals)
      .filter(([, m]) => isNumber(m[metric]))
      .map(([model, m]) => ({ model, score: m[metric] }))
      .sort((a, b) => (higher ? b.score - a.score : a.score - b.score));
  }
  const cb = isObject(compare) ? compare.baseline : undefined;
  const baseline = isObject(cb) && isNumber(cb.score) ? { value: cb.score } : isNumber(cb) ? { value: cb } : baselineOf(evals, metric);
  const champion = isObject(compare) ? championName(compare) : undefined;

  if (ranking.length > 0) {
    const base = baseline ? `; majority-class baseline ${fmt(baseline.value)}` : '';
    lines.push(`ranking by test ${metric} (${higher ? 'higher' : 'lower'} is better${base}):`);
    const width = Math.max(...ranking.map((r) => r.model.length));
    ranking.forEach((r, i) => {
      const e = evals[r.model] ?? {};
      const value = (k) => [r[k], r[`test_${k}`], e[k]].find(isNumber);
      const score = isNumber(r.score) ? r.score : value(metric);
      const extra = [];
      for (const k of ['accuracy', 'f1']) if (k !== metric && value(k) !== undefined) extra.push(`${k} ${fmt(value(k))}`);
      const beats =
        typeof r.beats_baseline === 'boolean'
          ? r.beats_baseline
          : baseline && isNumber(score)
            ? higher
              ? score > baseline.value
              : score < baseline.value
            : true;
      if (!beats) extra.push('does not beat the baseline');
      if (champion === r.model) extra.push('champion');
      const rank = isNumber(r.rank) ? r.rank : i + 1;
      lines.push(`  ${rank}. ${r.model.padEnd(width)}  ${fmt(score)}${extra.length > 0 ? `  (${extra.join(', ')})` : ''}`);
    });
  } else if (Object.keys(evals).length === 0 && lines.length > 0) {
    lines.push('no model metrics yet (metrics/eval/*.json)');
  }

  if (isObject(compare)) {
    const reason = typeof compare.reason === 'string' ? compare.reason : undefined;
    const reg = isObject(compare.registered) ? compare.registered : {};
    const name = typeof reg.name === 'string' ? reg.name : typeof compare.registered_model === 'string' ? compare.registered_model : undefined;
    const alias = typeof reg.alias === 'string' ? reg.alias : typeof compare.alias === 'string' ? compare.alias : undefined;
    const version = typeof reg.version === 'string' || isNumber(reg.version) ? ` v${reg.version}` : '';
    const where = name ? ` → ${name}${version}${alias ? ` @${alias}` : ''}` : '';
    if (champion) lines.push(`champion: ${champion}${where}${reason ? ` (${reason})` : ''}`);
    else if (champion === null || reason) lines.push(`no champion${reason ? `: ${reason}` : ''}`);
  }
  if (lines.length > 0 && Object.keys(evals).length > 0) {
    lines.push(`${plural(Object.keys(evals).length, 'model')} evaluated; full table: dvc metrics show (experiments: dvc exp show --only-changed)`);
  }
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--dir');
  const root = i > 0 && process.argv[i + 1] ? process.argv[i + 1] : process.cwd();
  const lines = summarize(root);
  process.stdout.write(lines.length > 0 ? `${lines.join('\n')}\n` : 'no metrics found (run the pipeline first)\n');
}
