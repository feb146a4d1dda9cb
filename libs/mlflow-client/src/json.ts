import { z } from 'zod';

/**
 * MLflow speaks protobuf-JSON: a double that is NaN or ±Infinity travels as the strings "NaN", "Infinity",
 * "-Infinity" (plain JSON has no token for them; `JSON.stringify(NaN)` would send `null` and lose the point).
 */
export function encodeDouble(v: number): number | 'NaN' | 'Infinity' | '-Infinity' {
  if (Number.isFinite(v)) return v;
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? 'Infinity' : '-Infinity';
}

/** JSON.stringify that keeps non-finite numbers (see {@link encodeDouble}). */
export function toMlflowJson(body: unknown): string {
  return JSON.stringify(body, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? encodeDouble(v) : v));
}

/** A protobuf-JSON double as the server returns it: a number, or one of the three special strings. */
export const DoubleSchema = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity']), z.string().regex(/^-?\d/)]).transform((v) => {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  return Number(v);
});

/** int64 fields: MLflow returns numbers, protobuf-JSON allows strings; accept both. */
export const Int64Schema = z.union([z.number(), z.string().regex(/^-?\d+$/)]).transform((v) => Number(v));
