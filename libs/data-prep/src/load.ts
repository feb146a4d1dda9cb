import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import pl from 'nodejs-polars';
import { DataFileError } from './errors.js';
import type { DataParams } from './params.js';

export type TableFormat = 'parquet' | 'csv' | 'json' | 'ndjson';

/** The format from params, or from the file extension when params say `auto`. */
export function resolveFormat(path: string, format: DataParams['format'] = 'auto'): TableFormat {
  if (format !== 'auto') return format;
  const ext = extname(path).toLowerCase();
  switch (ext) {
    case '.parquet':
    case '.pq':
      return 'parquet';
    case '.csv':
      return 'csv';
    case '.json':
      return 'json';
    case '.ndjson':
    case '.jsonl':
      return 'ndjson';
    default:
      throw new DataFileError(path, `cannot infer the format from extension "${ext}"; set data.format (parquet, csv, json, ndjson)`);
  }
}

/** Reads a table (Parquet, CSV, JSON array or JSON lines) into a DataFrame. */
export function loadTable(opts: { path: string; format?: DataParams['format'] }): pl.DataFrame {
  const { path } = opts;
  if (!existsSync(path)) throw new DataFileError(path, 'file not found');
  const format = resolveFormat(path, opts.format);
  try {
    switch (format) {
      case 'parquet':
        return pl.readParquet(path);
      case 'csv':
        return pl.readCSV(path, { tryParseDates: true, inferSchemaLength: 10_000 });
      case 'json':
        return pl.readJSON(path, { format: 'json', inferSchemaLength: null });
      case 'ndjson':
        // readJSON's "lines" mode is not bound in the native module of 0.25.2; the NDJSON scanner is.
        return pl.scanJson(path, { inferSchemaLength: null }).collectSync();
    }
  } catch (error) {
    throw new DataFileError(path, `cannot read as ${format}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, {
      cause: error,
    });
  }
}
