// Small real tables (vega-datasets, installed for the data stages) featurized the way the pipeline does it —
// numeric columns imputed with the train median and standard-scaled on train, categoricals one-hot with an "other"
// column, a seeded stratified 70/15/15 split — written out in plain TS so this library's tests need no sibling.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Dataset } from '../src/data.js';
import { mulberry32, permutation } from '../src/random.js';

export interface Table {
  name: string;
  classes: string[];
  featureNames: string[];
  train: Dataset;
  valid: Dataset;
  test: Dataset;
}

type Row = Record<string, unknown>;

export interface TableSpec {
  name: string;
  target: string;
  numeric: string[];
  categorical: string[];
  seed?: number;
}

function vegaFile(file: string): string {
  // the package exports only its entry (build/index.js); the data folder sits beside build/
  const entry = createRequire(import.meta.url).resolve('vega-datasets');
  return join(dirname(dirname(entry)), 'data', file);
}

function parseCsv(text: string): Row[] {
  const [header, ...lines] = text.trim().split(/\r?\n/);
  const columns = header!.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(columns.map((c, i) => [c, cells[i] === '' ? null : Number.isNaN(Number(cells[i])) ? cells[i] : Number(cells[i])]));
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Seeded stratified split: each class's rows shuffled and cut 70/15/15. */
function stratifiedSplit(labels: number[], k: number, seed: number): [number[], number[], number[]] {
  const random = mulberry32(seed);
  const parts: [number[], number[], number[]] = [[], [], []];
  for (let c = 0; c < k; c++) {
    const idx = labels.flatMap((l, i) => (l === c ? [i] : []));
    const order = Array.from(permutation(idx.length, random), (j) => idx[j]!);
    const nTrain = Math.round(order.length * 0.7);
    const nValid = Math.round(order.length * 0.15);
    parts[0].push(...order.slice(0, nTrain));
    parts[1].push(...order.slice(nTrain, nTrain + nValid));
    parts[2].push(...order.slice(nTrain + nValid));
  }
  for (const p of parts) p.sort((a, b) => a - b);
  return parts;
}

export function featurize(rows: Row[], spec: TableSpec): Table {
  const kept = rows.filter((r) => typeof r[spec.target] === 'string');
  const classes = [...new Set(kept.map((r) => r[spec.target] as string))].sort();
  const labels = kept.map((r) => classes.indexOf(r[spec.target] as string));
  const [trainIdx, validIdx, testIdx] = stratifiedSplit(labels, classes.length, spec.seed ?? 42);

  const numericFit = spec.numeric.map((col) => {
    const values = trainIdx.map((i) => kept[i]![col]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    const fill = median(values);
    const filled = trainIdx.map((i) => (typeof kept[i]![col] === 'number' ? (kept[i]![col] as number) : fill));
    const mean = filled.reduce((a, b) => a + b, 0) / filled.length;
    const std = Math.sqrt(filled.reduce((a, b) => a + (b - mean) ** 2, 0) / filled.length) || 1;
    return { col, fill, mean, std };
  });
  const categoricalFit = spec.categorical.map((col) => ({
    col,
    levels: [...new Set(trainIdx.map((i) => kept[i]![col]).filter((v): v is string => typeof v === 'string'))].sort(),
  }));
  const featureNames = [
    ...numericFit.map((f) => f.col),
    ...categoricalFit.flatMap((f) => [...f.levels.map((l) => `${f.col}=${l}`), `${f.col}=(other)`]),
  ];
  const cols = featureNames.length;
  const build = (idx: number[]): Dataset => {
    const x = new Float32Array(idx.length * cols);
    const y = new Int32Array(idx.length);
    idx.forEach((r, i) => {
      const row = kept[r]!;
      let j = i * cols;
      for (const f of numericFit) {
        const v = typeof row[f.col] === 'number' ? (row[f.col] as number) : f.fill;
        x[j++] = (v - f.mean) / f.std;
      }
      for (const f of categoricalFit) {
        const at = f.levels.indexOf(row[f.col] as string);
        x[j + (at === -1 ? f.levels.length : at)] = 1;
        j += f.levels.length + 1;
      }
      y[i] = labels[r]!;
    });
    return { x, y, rows: idx.length, cols };
  };
  return { name: spec.name, classes, featureNames, train: build(trainIdx), valid: build(validIdx), test: build(testIdx) };
}

/** penguins.json: Species from beak, flipper, mass, island and sex (344 rows, 3 classes; some values missing). */
export function penguins(): Table {
  const rows = JSON.parse(readFileSync(vegaFile('penguins.json'), 'utf8')) as Row[];
  return featurize(rows, {
    name: 'penguins',
    target: 'Species',
    numeric: ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'],
    categorical: ['Island', 'Sex'],
  });
}

/** seattle-weather.csv: weather (5 classes, `snow` rare) from precipitation, temperatures, wind and date parts. */
export function seattleWeather(): Table {
  const rows = parseCsv(readFileSync(vegaFile('seattle-weather.csv'), 'utf8')).map((r) => {
    const date = new Date(`${String(r['date'])}T00:00:00Z`);
    return { ...r, month: date.getUTCMonth() + 1, weekday: date.getUTCDay() };
  });
  return featurize(rows, {
    name: 'seattle-weather',
    target: 'weather',
    numeric: ['precipitation', 'temp_max', 'temp_min', 'wind', 'month', 'weekday'],
    categorical: [],
  });
}

/** Accuracy of always predicting the most frequent class of `train`, on `test`. */
export function majorityBaseline(train: Dataset, test: Dataset, k: number): { cls: number; accuracy: number } {
  const counts = new Array<number>(k).fill(0);
  for (const v of train.y) counts[v]! += 1;
  const cls = counts.indexOf(Math.max(...counts));
  return { cls, accuracy: Array.from(test.y).filter((v) => v === cls).length / test.rows };
}
