import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { z } from 'zod';
import { cleanTable } from './clean.js';
import { DataContentError, FeatureFileError } from './errors.js';
import { applyFeaturizer, featurizerExprs, fitFeaturizer } from './featurize.js';
import { md5File, writeDirAtomic, writeJsonAtomic } from './io.js';
import { loadTable, resolveFormat } from './load.js';
import type { FeatureMeta } from './meta.js';
import type { DataParams, FeaturizeParams, PrepareParams, SplitParams } from './params.js';
import { sampleMask } from './random.js';
import { selectColumns, validateSchema } from './schema.js';
import { SPLITS, assignSplits, splitFrame } from './split.js';
import { checkClasses, classCounts, labelExpr, resolveClasses } from './target.js';

/** Name of the class-index column in the feature splits. */
export const LABEL_COLUMN = 'label';
const LABEL_TEMP = '__mlops_label';

function countLabels(labels: pl.Series, k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (const l of labels.toTypedArray() as Int32Array) counts[l]!++;
  return counts;
}

export type Progress = (message: string) => void;

/** `metrics/data_quality.json`, read by `dvc metrics show`. */
export interface DataQuality {
  rows: { source: number; in: number; out: number; dropped: number };
  dropped: Record<string, number>;
  clipped: Record<string, number>;
  /** Nulls per used column in the sampled rows, every column listed (0 included). */
  nulls_in: Record<string, number>;
  /**
   * Nulls left after cleaning (featurize imputes them), only the columns that still have some: kept lean so that
   * `dvc exp show` / `dvc metrics show` get no column of zeros per feature. A column absent here has none.
   */
  nulls_out: Record<string, number>;
  class_counts: Record<string, number>;
  class_balance: Record<string, number>;
}

/** `<prepared dir>/manifest.json`: where the prepared table came from. */
export const PreparedManifestSchema = z.object({
  source: z.object({ path: z.string(), format: z.string(), md5: z.string().regex(/^[0-9a-f]{32}$/), rows: z.number().int() }),
  rows: z.number().int(),
  target: z.string(),
  classes: z.array(z.string()),
  columns: z.record(z.string(), z.string()),
});
export type PreparedManifest = z.output<typeof PreparedManifestSchema>;

export interface PrepareOptions {
  data: DataParams;
  prepare: PrepareParams;
  /** Directory that receives `data.parquet` and `manifest.json` (replaced atomically). */
  outDir: string;
  /** Where the data-quality metrics JSON is written; omit to skip. */
  metricsPath?: string;
  onProgress?: Progress;
}

function nullCounts(df: pl.DataFrame): Record<string, number> {
  const row = df.nullCount().toRecords()[0] ?? {};
  return Object.fromEntries(df.columns.map((c) => [c, Number(row[c] ?? 0)]));
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6;

/**
 * The prepare stage: load the raw table, check its schema against params, take the seeded row sample, clean it
 * and write the prepared table plus data-quality metrics.
 */
export async function runPrepare(opts: PrepareOptions): Promise<{ quality: DataQuality; manifest: PreparedManifest }> {
  const { data, prepare } = opts;
  const log = opts.onProgress ?? (() => undefined);
  const file = data.path;
  const format = resolveFormat(file, data.format);
  log(`reading ${file} (${format})`);
  const raw = loadTable({ path: file, format });
  validateSchema(raw, data, file);
  const md5 = await md5File(file);
  const source = raw.height;
  let sampled = raw;
  if (data.rows > 0 && data.rows < source) {
    log(`sampling ${data.rows} of ${source} rows (seed ${prepare.seed})`);
    sampled = raw.filter(pl.Series('__sample', sampleMask(source, data.rows, prepare.seed)).cast(pl.Bool));
  }
  const selected = selectColumns(sampled, data, file);
  log(`cleaning ${selected.height} rows`);
  const cleaned = cleanTable(selected, { data, prepare, classes: data.target.classes, file });
  const df = cleaned.df;
  const classes = resolveClasses(df, data.target);
  const counts = classCounts(df, data.target, classes);
  checkClasses(data.task, data.target.column, classes, counts);
  const quality: DataQuality = {
    rows: { source, in: selected.height, out: df.height, dropped: selected.height - df.height },
    dropped: cleaned.dropped,
    clipped: cleaned.clipped,
    nulls_in: nullCounts(selected),
    nulls_out: Object.fromEntries(Object.entries(nullCounts(df)).filter(([, n]) => n > 0)),
    class_counts: Object.fromEntries(classes.map((c, i) => [c, counts[i]!])),
    class_balance: Object.fromEntries(classes.map((c, i) => [c, df.height ? round(counts[i]! / df.height) : 0])),
  };
  const manifest: PreparedManifest = {
    source: { path: file, format, md5, rows: source },
    rows: df.height,
    target: data.target.column,
    classes,
    columns: Object.fromEntries(Object.entries(df.schema as Record<string, pl.DataType>).map(([k, v]) => [k, String(v.variant)])),
  };
  log(`writing ${df.height} rows to ${opts.outDir} (dropped ${quality.rows.dropped})`);
  await writeDirAtomic(opts.outDir, async (tmp) => {
    df.writeParquet(join(tmp, 'data.parquet'), { compression: 'zstd' });
    await writeJsonAtomic(join(tmp, 'manifest.json'), manifest);
  });
  if (opts.metricsPath) await writeJsonAtomic(opts.metricsPath, quality);
  return { quality, manifest };
}

/** Reads the prepared directory written by {@link runPrepare}. */
export async function loadPrepared(dir: string): Promise<{ df: pl.DataFrame; manifest: PreparedManifest }> {
  const manifestFile = join(dir, 'manifest.json');
  const dataFile = join(dir, 'data.parquet');
  for (const f of [manifestFile, dataFile]) if (!existsSync(f)) throw new FeatureFileError(f, 'file not found (run the prepare stage first)');
  const parsed = PreparedManifestSchema.safeParse(JSON.parse(await readFile(manifestFile, 'utf8')));
  if (!parsed.success) throw new FeatureFileError(manifestFile, `invalid manifest: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return { df: pl.readParquet(dataFile), manifest: parsed.data };
}

export interface FeaturizeStageOptions {
  data: Pick<DataParams, 'target' | 'task' | 'features'>;
  featurize: FeaturizeParams;
  split: SplitParams;
  /** Directory written by the prepare stage. */
  inDir: string;
  /** Directory that receives train/valid/test.parquet and meta.json (replaced atomically). */
  outDir: string;
  onProgress?: Progress;
}

/**
 * The featurize stage: label the prepared rows, split them (seeded, stratified), fit encoders and scalers on the
 * train split only, apply them to every split and write the splits plus `meta.json`.
 */
export async function runFeaturize(opts: FeaturizeStageOptions): Promise<FeatureMeta> {
  const log = opts.onProgress ?? (() => undefined);
  const { df, manifest } = await loadPrepared(opts.inDir);
  const dataFile = join(opts.inDir, 'data.parquet');
  const data = { ...opts.data, na_values: [], valid: {}, clip: {}, path: dataFile, format: 'parquet' as const, rows: 0 };
  validateSchema(df, data, dataFile);
  const classes = resolveClasses(df, data.target);
  if (classes.join('\u0000') !== manifest.classes.join('\u0000')) {
    throw new DataContentError(
      `${dataFile}: classes from params (${classes.join(', ')}) differ from the prepared data's (${manifest.classes.join(', ')}); re-run prepare`,
    );
  }
  const labels = df.select(labelExpr(data.target, classes)).getColumn('label');
  if (labels.nullCount() > 0) throw new DataContentError(`${dataFile}: target "${data.target.column}" has nulls; re-run prepare`);
  const y = labels.toTypedArray() as Int32Array;
  if (y.some((l) => l < 0)) throw new DataContentError(`${dataFile}: target "${data.target.column}" has values outside ${classes.join(', ')}`);
  log(`splitting ${df.height} rows (train ${opts.split.train}, valid ${opts.split.valid}, test ${opts.split.test}, seed ${opts.split.seed})`);
  const parts = splitFrame(df.withColumns(pl.Series(LABEL_TEMP, y)), assignSplits(y, classes.length, opts.split));
  const counts = Object.fromEntries(SPLITS.map((s) => [s, countLabels(parts[s].getColumn(LABEL_TEMP), classes.length)])) as FeatureMeta['classCounts'];
  classes.forEach((c, i) => {
    if (counts.train[i] === 0) throw new DataContentError(`class "${c}" has no rows in the train split; use more rows or a larger train fraction`);
  });
  log(`fitting encoders and scalers on ${parts.train.height} train rows`);
  const featurizer = fitFeaturizer(parts.train, { data, featurize: opts.featurize, file: dataFile });
  for (const [column, enc] of Object.entries(featurizer.encoders)) {
    if (enc.type === 'date_parts' && enc.skipped) {
      log(`${column}: ${enc.skippedBecause ?? 'not applicable'}: featurize.date_parts ${enc.skipped.join(', ')} skipped for it (it gets ${enc.parts.join(', ')})`);
    }
  }
  if (featurizer.featureNames.includes(LABEL_COLUMN)) throw new DataContentError(`a feature is named "${LABEL_COLUMN}", the label column's name; rename it`);
  const meta: FeatureMeta = {
    task: data.task,
    target: data.target.column,
    labelColumn: LABEL_COLUMN,
    classes,
    featureNames: featurizer.featureNames,
    rows: { train: parts.train.height, valid: parts.valid.height, test: parts.test.height },
    classCounts: counts,
    encoders: featurizer.encoders,
    scalers: featurizer.scalers,
    dataMd5: manifest.source.md5,
  };
  const exprs = featurizerExprs(featurizer, { data, featurize: opts.featurize });
  await writeDirAtomic(opts.outDir, async (tmp) => {
    for (const s of SPLITS) {
      const features = applyFeaturizer(parts[s], featurizer, { data, featurize: opts.featurize }, exprs);
      log(`writing ${s}: ${features.height} rows x ${featurizer.featureNames.length} features`);
      const label = parts[s].getColumn(LABEL_TEMP).cast(pl.Int32).alias(LABEL_COLUMN);
      features.withColumns(label).writeParquet(join(tmp, `${s}.parquet`), { compression: 'zstd' });
    }
    await writeJsonAtomic(join(tmp, 'meta.json'), meta);
  });
  return meta;
}
