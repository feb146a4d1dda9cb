import * as errors from './errors.js';
import { ColumnTypeError, DataContentError, DataFileError, DataPrepError, EmptyTableError, ParamsError } from './errors.js';

// A second instance of the module, as when two installed copies of the package meet in one process.
const copySpec = './errors.ts?copy';
const copy = (await import(/* @vite-ignore */ copySpec)) as typeof errors;

const classes = Object.entries(errors).filter((e): e is [string, typeof DataPrepError] => typeof e[1] === 'function');

test('the second copy is a different module with different classes', () => {
  expect(copy.DataPrepError).not.toBe(DataPrepError);
  expect(copy.EmptyTableError).not.toBe(EmptyTableError);
});

test('every error class has its own stable code and Symbol.for brand', () => {
  expect(classes.length).toBeGreaterThanOrEqual(9);
  const codes = classes.map(([, c]) => c.code);
  expect(new Set(codes).size).toBe(codes.length);
  for (const [name, c] of classes) {
    expect(c.code).toMatch(/^ERR_DATA_PREP(_[A-Z_]+)?$/);
    expect(c.brand).toBe(Symbol.for(`@mlops-ts/data-prep/${name}`));
  }
});

test('instanceof holds across the two copies, for the class and its parents, and not for siblings', () => {
  const fromCopy = new copy.EmptyTableError('t.csv', ['a', 'b']);
  expect(fromCopy).toBeInstanceOf(EmptyTableError);
  expect(fromCopy).toBeInstanceOf(DataFileError);
  expect(fromCopy).toBeInstanceOf(DataPrepError);
  expect(fromCopy).toBeInstanceOf(Error);
  expect(fromCopy).not.toBeInstanceOf(ParamsError);
  expect(fromCopy).not.toBeInstanceOf(ColumnTypeError);
  expect(fromCopy.code).toBe('ERR_DATA_PREP_EMPTY_TABLE');
  expect(fromCopy.message).toBe('t.csv: the table has no rows (only the columns: a, b)');

  const here = new DataContentError('no rows left');
  expect(here).toBeInstanceOf(copy.DataContentError);
  expect(here).toBeInstanceOf(copy.DataPrepError);
  expect(here).not.toBeInstanceOf(copy.DataFileError);
  expect(here.code).toBe('ERR_DATA_PREP_CONTENT');
  expect(new DataFileError('x', 'y')).not.toBeInstanceOf(copy.EmptyTableError);
  expect({ message: 'plain' }).not.toBeInstanceOf(DataPrepError);
  expect(new Error('plain')).not.toBeInstanceOf(DataPrepError);
});

test('an instance carries its code and name; the brands stay out of its keys and JSON', () => {
  const e = new ParamsError('params.yaml', [{ key: 'split', message: 'bad' }]);
  expect(e.name).toBe('ParamsError');
  expect(e.code).toBe('ERR_DATA_PREP_PARAMS');
  expect(Object.keys(e)).not.toContain(String(ParamsError.brand));
  expect(Object.getOwnPropertySymbols(e)).toEqual(expect.arrayContaining([ParamsError.brand, DataPrepError.brand]));
  expect(JSON.stringify(e)).not.toContain('data-prep/');
});
