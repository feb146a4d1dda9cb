// Typed errors: a stable `code` per class, and `instanceof` that holds across two copies of the module (two
// installed versions of the package, or a bundled one next to a linked one): Symbol.for brands, undici's pattern.
import * as Here from '../src/errors.js';
import { MlflowErrorCodes } from '../src/index.js';

type Ctor = new (...args: never[]) => Error;
const api = { errorCode: 'X', httpStatus: 400, endpoint: 'GET /x', serverMessage: 'm', server: 'http://h' };

/** One instance of every class, built from the given copy of the module. */
function everyError(m: typeof Here): Record<keyof typeof MlflowErrorCodes, Error> {
  return {
    MlflowError: new m.MlflowError('m'),
    MlflowApiError: new m.MlflowApiError(api),
    MlflowNotFoundError: new m.MlflowNotFoundError(api),
    MlflowAlreadyExistsError: new m.MlflowAlreadyExistsError(api),
    MlflowInvalidRequestError: new m.MlflowInvalidRequestError(api),
    MlflowAuthError: new m.MlflowAuthError({ ...api, httpStatus: 401, authKind: 'none' }),
    MlflowConnectionError: new m.MlflowConnectionError({ server: 'http://h', endpoint: 'GET /x', attempts: 1, reason: 'ECONNREFUSED' }),
    MlflowCredentialsError: new m.MlflowCredentialsError('http://h', new Error('x')),
    MlflowTlsError: new m.MlflowTlsError({ server: 'https://h', endpoint: 'GET /x', tlsCode: 'CERT_HAS_EXPIRED', reason: '' }),
    MlflowResponseError: new m.MlflowResponseError({ server: 'http://h', endpoint: 'GET /x', problem: 'p' }),
    MlflowValidationError: new m.MlflowValidationError('f', 'p'),
    MlflowServerError: new m.MlflowServerError('s'),
    MlflowReplayError: new m.MlflowReplayError('f', 'p'),
    MlflowModelVersionNotReadyError: new m.MlflowModelVersionNotReadyError({ modelName: 'n', version: '1', status: 'FAILED_REGISTRATION', waitedMs: 0 }),
    MlflowArtifactStoreError: new m.MlflowArtifactStoreError({ store: 's3', location: 's3://b/k', operation: 'upload', problem: 'p' }),
  };
}

/** Parent classes (besides MlflowError) of each class. */
const parents: Partial<Record<keyof typeof MlflowErrorCodes, (keyof typeof MlflowErrorCodes)[]>> = {
  MlflowNotFoundError: ['MlflowApiError'],
  MlflowAlreadyExistsError: ['MlflowApiError'],
  MlflowInvalidRequestError: ['MlflowApiError'],
  MlflowAuthError: ['MlflowApiError'],
};

test('every class has its stable code and name, and instanceof holds for a second copy of the module exactly as for the first', async () => {
  // @ts-expect-error -- a query string makes vite load a separate copy of the module (its own classes)
  const Copy = (await import('../src/errors.ts?copy')) as typeof Here;
  expect(Copy.MlflowError).not.toBe(Here.MlflowError);
  const names = Object.keys(MlflowErrorCodes) as (keyof typeof MlflowErrorCodes)[];
  expect(names).toHaveLength(15);
  for (const [label, made] of [
    ['this copy', everyError(Here)],
    ['the other copy', everyError(Copy)],
  ] as const) {
    for (const name of names) {
      const err = made[name];
      expect((err as Here.MlflowError).code, `${label} ${name}`).toBe(MlflowErrorCodes[name]);
      expect(err.name).toBe(name);
      expect(err).toBeInstanceOf(Error);
      for (const other of names) {
        const expected = other === name || other === 'MlflowError' || (parents[name] ?? []).includes(other);
        expect(err instanceof (Here[other] as unknown as Ctor), `${label} ${name} instanceof ${other}`).toBe(expected);
        expect(err instanceof (Copy[other] as unknown as Ctor), `${label} ${name} instanceof (copy) ${other}`).toBe(expected);
      }
    }
  }
  // Codes are distinct; brands are invisible to JSON and enumeration.
  expect(new Set(Object.values(MlflowErrorCodes)).size).toBe(names.length);
  const e = new Copy.MlflowNotFoundError(api);
  expect(Object.keys(e)).not.toContainEqual(expect.stringMatching(/brand/));
  expect(JSON.parse(JSON.stringify(e))).toMatchObject({ code: 'ERR_MLFLOW_NOT_FOUND', errorCode: 'X', httpStatus: 400 });
  // Things that only look alike are not errors of this library.
  expect({ code: 'ERR_MLFLOW' } instanceof Here.MlflowError).toBe(false);
  expect(new Error('x') instanceof Here.MlflowError).toBe(false);
  expect(Here.MlflowError[Symbol.hasInstance](null)).toBe(false);
});

test('REST errors keep MLflow\'s error_code and HTTP status; RESOURCE_ALREADY_EXISTS is a 400', () => {
  const e = Here.apiErrorFor({ ...api, errorCode: 'RESOURCE_ALREADY_EXISTS', httpStatus: 400, serverMessage: "Experiment 'x' already exists." }, 'none');
  expect(e).toBeInstanceOf(Here.MlflowAlreadyExistsError);
  expect(e).toMatchObject({ code: 'ERR_MLFLOW_ALREADY_EXISTS', errorCode: 'RESOURCE_ALREADY_EXISTS', httpStatus: 400 });
  expect(e.message).toBe("MLflow GET /x at http://h failed: RESOURCE_ALREADY_EXISTS (HTTP 400): Experiment 'x' already exists.");
});
