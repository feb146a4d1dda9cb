/**
 * Search spaces of a hyperparameter sweep, as the SDK's `clearml.automation.parameters` describes them: a discrete
 * list of values per key (`DiscreteParameterRange`), or a numeric range (`UniformParameterRange`, log-uniform with
 * `log`, integers when both bounds are integers and `integer` is not false). A grid is the cartesian product of the
 * discrete lists (the SDK's `GridSearch`); a random search draws `trials` points from a seeded generator (the SDK's
 * `RandomSearch`, reproducible here by the seed).
 */
import { ClearmlValidationError } from '../errors.js';

export type SweepValue = string | number | boolean | null | readonly SweepValue[] | { readonly [k: string]: SweepValue };
export type ParamRange = { values: readonly SweepValue[] } | { min: number; max: number; log?: boolean; integer?: boolean };
/** key → its range. */
export type SearchSpace = Record<string, ParamRange>;
/** One point: key → value. */
export type SweepPoint = Record<string, SweepValue>;

/** A seeded PRNG in [0, 1) (mulberry32): the same seed gives the same points on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function checkRange(key: string, r: ParamRange): void {
  if ('values' in r) {
    if (r.values.length === 0) throw new ClearmlValidationError(`search space '${key}'`, 'an empty list of values');
    return;
  }
  if (!Number.isFinite(r.min) || !Number.isFinite(r.max) || r.min > r.max) throw new ClearmlValidationError(`search space '${key}'`, `min ${r.min} and max ${r.max} are not a range`);
  if (r.log && r.min <= 0) throw new ClearmlValidationError(`search space '${key}'`, `a log range needs min > 0 (got ${r.min})`);
}

/** Every point of the grid (keys in order, the last one varying fastest); ranges are refused (a grid needs lists). */
export function gridPoints(space: SearchSpace): SweepPoint[] {
  let points: SweepPoint[] = [{}];
  for (const [key, r] of Object.entries(space)) {
    checkRange(key, r);
    if (!('values' in r)) throw new ClearmlValidationError(`search space '${key}'`, 'a grid needs a list of values, not a {min, max} range (use the random strategy)');
    points = points.flatMap((p) => r.values.map((v) => ({ ...p, [key]: v })));
  }
  return points;
}

/** `trials` points drawn from the space with a seeded generator (lists: uniform choice; ranges: uniform, or log-uniform). */
export function randomPoints(space: SearchSpace, trials: number, seed: number): SweepPoint[] {
  if (!Number.isSafeInteger(trials) || trials < 1) throw new ClearmlValidationError('random search', `trials must be a positive integer (got ${trials})`);
  for (const [key, r] of Object.entries(space)) checkRange(key, r);
  const rand = seededRandom(seed);
  const out: SweepPoint[] = [];
  for (let i = 0; i < trials; i++) {
    const p: SweepPoint = {};
    for (const [key, r] of Object.entries(space)) {
      if ('values' in r) {
        p[key] = r.values[Math.min(r.values.length - 1, Math.floor(rand() * r.values.length))]!;
        continue;
      }
      const u = rand();
      const integer = r.integer ?? (Number.isInteger(r.min) && Number.isInteger(r.max) && !r.log);
      let v = r.log ? Math.exp(Math.log(r.min) + u * (Math.log(r.max) - Math.log(r.min))) : r.min + u * (r.max - r.min);
      if (integer) v = r.log ? Math.min(r.max, Math.max(r.min, Math.round(v))) : Math.min(r.max, r.min + Math.floor(u * (r.max - r.min + 1)));
      p[key] = integer ? v : Number(v.toPrecision(6));
    }
    out.push(p);
  }
  return out;
}

/** A point's values as the strings hyperparameters and `dvc exp run -S` take (YAML flow: numbers and lists as written). */
export function formatSweepValue(v: SweepValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
