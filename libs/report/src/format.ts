/** Number formatting shared by conclusions and renderers, so a number reads the same everywhere in a report. */

/** Fixed decimals (default 4); `—` for a missing or non-finite value. */
export function fmt(x: number | undefined | null, digits = 4): string {
  if (x === undefined || x === null || !Number.isFinite(x)) return '—';
  return x.toFixed(digits);
}

/** With an explicit sign: `+0.0123`, `−0.0040` (Unicode minus). */
export function signed(x: number | undefined, digits = 4): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  const s = Math.abs(x).toFixed(digits);
  return Number(s) === 0 ? `±${s}` : x > 0 ? `+${s}` : `−${s}`;
}

/** `12.3%`. */
export function pct(x: number | undefined, digits = 1): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  return `${(x * 100).toFixed(digits)}%`;
}

/** `[0.6401, 0.6612]`. */
export function ci(lo: number | undefined, hi: number | undefined, digits = 4, sign = false): string {
  const f = sign ? signed : fmt;
  return `[${f(lo, digits)}, ${f(hi, digits)}]`;
}

/** Seconds for people: `850 ms`, `12.3 s`, `4 min 5 s`. */
export function duration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

/** Bytes for people: `812 B`, `12.4 KB`, `3.1 MB` (1 KB = 1024 B). */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Thousands separated with a thin space-free comma: `14,999`. */
export function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
