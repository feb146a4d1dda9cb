// createModelVersion waits for READY and never hands back a pending version. The OSS server's SQL registry creates
// versions READY at once, so the pending and failed paths are driven by a loopback server of our own that speaks the
// registry's REST protocol (create answers PENDING_REGISTRATION; get moves on as scripted). The READY path against
// the real server is covered in client.test.ts and python-crosscheck.test.ts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MlflowClient, MlflowModelVersionNotReadyError } from '../src/index.js';

let http: Server;
let base: string;
/** Statuses `get` answers, one per poll, for each model name (the last one repeats). */
const script: Record<string, { statuses: string[]; gets: number; aliasCalls: number }> = {};

beforeAll(async () => {
  http = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const json = (code: number, o: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(o));
      const version = (name: string, status: string) => ({ name, version: '3', status, status_message: status === 'FAILED_REGISTRATION' ? 'copying the model failed' : '' });
      if (url.pathname.endsWith('/registered-models/create')) return json(200, { registered_model: { name: (JSON.parse(body) as { name: string }).name } });
      if (url.pathname.endsWith('/model-versions/create')) return json(200, { model_version: version((JSON.parse(body) as { name: string }).name, 'PENDING_REGISTRATION') });
      if (url.pathname.endsWith('/model-versions/get')) {
        const s = script[url.searchParams.get('name')!]!;
        const status = s.statuses[Math.min(s.gets++, s.statuses.length - 1)]!;
        return json(200, { model_version: version(url.searchParams.get('name')!, status) });
      }
      if (url.pathname.endsWith('/registered-models/alias')) {
        script[(JSON.parse(body) as { name: string }).name]!.aliasCalls++;
        return json(200, {});
      }
      return json(404, { error_code: 'ENDPOINT_NOT_FOUND', message: url.pathname });
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => http.close(() => r())));

test('a version that turns READY after some polls is returned READY', async () => {
  script['slow'] = { statuses: ['PENDING_REGISTRATION', 'PENDING_REGISTRATION', 'READY'], gets: 0, aliasCalls: 0 };
  const c = new MlflowClient({ trackingUri: base });
  const mv = await c.registerModel({ name: 'slow', source: 's3://b/m', alias: 'champion' });
  expect(mv.status).toBe('READY');
  expect(script['slow']!.gets).toBe(4); // three polls, and the read-back after setting the alias
  expect(script['slow']!.aliasCalls).toBe(1);
  await c.close();
});

test('FAILED_REGISTRATION throws a typed error naming model, version and status; no alias is set', async () => {
  script['broken'] = { statuses: ['PENDING_REGISTRATION', 'FAILED_REGISTRATION'], gets: 0, aliasCalls: 0 };
  const c = new MlflowClient({ trackingUri: base });
  const err = await c.registerModel({ name: 'broken', source: 's3://b/m', alias: 'champion' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(MlflowModelVersionNotReadyError);
  expect(err).toMatchObject({ code: 'ERR_MLFLOW_MODEL_VERSION_NOT_READY', modelName: 'broken', version: '3', status: 'FAILED_REGISTRATION' });
  expect((err as Error).message).toBe('Model version broken version 3 failed to register (status FAILED_REGISTRATION): copying the model failed');
  expect(script['broken']!.aliasCalls).toBe(0);
  await c.close();
});

test('still PENDING at the deadline: a typed error, never a pending version for the caller to alias', async () => {
  script['stuck'] = { statuses: ['PENDING_REGISTRATION'], gets: 0, aliasCalls: 0 };
  const c = new MlflowClient({ trackingUri: base });
  const err = await c.registerModel({ name: 'stuck', source: 's3://b/m', alias: 'champion', awaitReadyMs: 1_200 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(MlflowModelVersionNotReadyError);
  expect(err).toMatchObject({ modelName: 'stuck', version: '3', status: 'PENDING_REGISTRATION' });
  expect((err as Error).message).toMatch(/^Model version stuck version 3 is still PENDING_REGISTRATION after \d+ s; not using it/);
  expect(script['stuck']!.gets).toBeGreaterThanOrEqual(2); // it polled, with back-off, until the deadline
  expect(script['stuck']!.aliasCalls).toBe(0);
  await c.close();
});
