import { DataParamsSchema, FeaturizeParamsSchema, PrepareParamsSchema, SplitParamsSchema } from './params.js';
import type { DataParams, FeaturizeParams, PrepareParams, SplitParams } from './params.js';
import type { z } from 'zod';

/** Typed params for tests, validated through the real schemas (defaults filled in). */
export function dataParams(overrides: Partial<z.input<typeof DataParamsSchema>> = {}): DataParams {
  return DataParamsSchema.parse({
    path: 'table.parquet',
    rows: 0,
    target: { column: 'y', positive_when: { gt: 0 } },
    task: 'binary',
    features: { numeric: ['x'], categorical: ['c'], datetime: [] },
    ...overrides,
  });
}
export const prepareParams = (o: Partial<PrepareParams> = {}): PrepareParams => PrepareParamsSchema.parse({ seed: 1, ...o });
export const featurizeParams = (o: Partial<FeaturizeParams> = {}): FeaturizeParams => FeaturizeParamsSchema.parse({ top_k: 2, ...o });
export const splitParams = (o: Partial<SplitParams> = {}): SplitParams =>
  SplitParamsSchema.parse({ train: 0.6, valid: 0.2, test: 0.2, seed: 7, ...o });
