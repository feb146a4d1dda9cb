import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import pl from 'nodejs-polars';
import { DataFileError, EmptyTableError } from './errors.js';
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

const CSV_INFER_ROWS = 10_000;
const csvOptions = { tryParseDates: true, inferSchemaLength: CSV_INFER_ROWS } as const;

/** polars' own messages for a file with nothing at all in it (no header, no JSON value). */
const NOTHING_IN_FILE = /no data: empty CSV|empty reader|empty string is not a valid JSON value/i;

function readFailure(path: string, format: TableFormat, error: unknown): DataFileError {
  const first = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  if (NOTHING_IN_FILE.test(first)) return new EmptyTableError(path, []);
  return new DataFileError(path, `cannot read as ${format}: ${first}`, { cause: error });
}

/**
 * Reads a table (Parquet, CSV, JSON array or JSON lines) into a DataFrame. A table without rows (a CSV with only a
 * header, `[]`, an empty file, a parquet file of 0 rows) throws {@link EmptyTableError} naming the file, rather than
 * letting its all-string, row-less columns look like wrong column types later.
 */
export function loadTable(opts: { path: string; format?: DataParams['format'] }): pl.DataFrame {
  const { path } = opts;
  if (!existsSync(path)) throw new DataFileError(path, 'file not found');
  const format = resolveFormat(path, opts.format);
  let df: pl.DataFrame;
  try {
    switch (format) {
      case 'parquet':
        df = pl.readParquet(path);
        break;
      case 'csv':
        df = pl.readCSV(path, csvOptions);
        break;
      case 'json':
        df = pl.readJSON(path, { format: 'json', inferSchemaLength: null });
        break;
      case 'ndjson':
        // readJSON's "lines" mode is not bound in the native module of 0.25.2; the NDJSON scanner is.
        df = pl.scanJson(path, { inferSchemaLength: null }).collectSync();
        break;
    }
  } catch (error) {
    throw readFailure(path, format, error);
  }
  if (df.height === 0) throw new EmptyTableError(path, df.columns);
  return df;
}

/** The first `lines` lines of a file (all of it when shorter), read without loading the rest. */
function csvPrefix(path: string, lines: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    const chunk = Buffer.alloc(1 << 16);
    let seen = 0;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      let end = n;
      for (let i = 0; i < n; i++) {
        if (chunk[i] === 0x0a && ++seen === lines) {
          end = i + 1;
          break;
        }
      }
      chunks.push(Buffer.from(chunk.subarray(0, end)));
      if (seen === lines) break;
    }
    return Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}

/** Column name → polars dtype name (`Int64`, `Float64`, `String`, `Date`, `Datetime`, `Boolean`, ...), in file order. */
export type TableSchema = Record<string, string>;

/**
 * The columns of a table and their dtypes as {@link loadTable} would read them, without loading the rows where polars
 * allows it: Parquet from its metadata, CSV from the header and the rows its dtypes are inferred from (the first
 * 10,000), JSON lines
 * from one row of a lazy scan. JSON arrays have no lazy reader in polars and are read whole. Throws
 * {@link DataFileError} when the file is missing or unreadable and {@link EmptyTableError} when it has no rows.
 */
export function readTableSchema(path: string, format: DataParams['format'] = 'auto'): TableSchema {
  if (!existsSync(path)) throw new DataFileError(path, 'file not found');
  const resolved = resolveFormat(path, format);
  let head: pl.DataFrame;
  let rows: number;
  try {
    switch (resolved) {
      case 'parquet': {
        const scan = pl.scanParquet(path);
        head = scan.limit(0).collectSync();
        rows = Number(scan.select(pl.len().alias('n')).collectSync().getColumn('n').get(0));
        break;
      }
      case 'csv': {
        // polars parses whole chunks even with nRows, so hand it only the header and the rows it infers from.
        const prefix = csvPrefix(path, CSV_INFER_ROWS + 1);
        try {
          head = pl.readCSV(prefix, csvOptions);
        } catch (error) {
          // A quoted field spanning lines may have been cut: read the file the way loadTable does.
          if (prefix.length === statSync(path).size) throw error;
          head = pl.readCSV(path, csvOptions);
        }
        rows = head.height;
        break;
      }
      case 'json':
        head = pl.readJSON(path, { format: 'json', inferSchemaLength: null });
        rows = head.height;
        break;
      case 'ndjson':
        head = pl.scanJson(path, { inferSchemaLength: null }).limit(1).collectSync();
        rows = head.height;
        break;
    }
  } catch (error) {
    throw readFailure(path, resolved, error);
  }
  if (rows === 0) throw new EmptyTableError(path, head.columns);
  return Object.fromEntries(Object.entries(head.schema as Record<string, pl.DataType>).map(([name, dtype]) => [name, String(dtype.variant)]));
}
