// Authentication and redaction: a real `mlflow server --app-name basic-auth` (started by global-setup.ts when
// Flask-WTF, i.e. mlflow[auth], is installed in the venv), plus a loopback HTTP server of our own for what no real server does: echoing the bearer
// token back in its error page, and 503s to exercise the retry policy of the HTTP layer.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inject } from 'vitest';
import { inspect } from 'node:util';
import { freePort, MlflowAuthError, MlflowApiError, MlflowClient, MlflowConnectionError } from '../src/index.js';

const auth = inject('authServer');

function everythingSaidAbout(err: unknown): string {
  return [String(err), (err as Error).stack ?? '', inspect(err, { depth: 5 }), JSON.stringify(err)].join('\n');
}

describe('real mlflow server with basic auth (started in global-setup.ts)', () => {
  const available = auth !== null;
  const password = auth?.password ?? '';
  const server = { uri: auth?.uri ?? '' };

  test.skipIf(!available)('right credentials work; wrong or missing ones give a clear typed error without any secret', async () => {
    const ok = new MlflowClient({ trackingUri: server.uri, username: 'admin', password });
    const id = await ok.createExperiment(`auth-${Date.now()}`);
    expect((await ok.getExperiment(id)).experiment_id).toBe(id);

    const wrongPassword = `${password}-wrong`;
    const bad = new MlflowClient({ trackingUri: server.uri, username: 'admin', password: wrongPassword, retries: { maxRetries: 3, backoffMs: 10, maxBackoffMs: 10 } });
    const err = await bad.getExperiment(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowAuthError);
    expect(err).toMatchObject({ httpStatus: 401, authKind: 'basic' });
    expect((err as Error).message).toBe(
      `MLflow server ${server.uri} refused GET /api/2.0/mlflow/experiments/get: HTTP 401 not authenticated (the username/password (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD) were rejected)`,
    );
    const said = everythingSaidAbout(err);
    for (const secret of [wrongPassword, password, Buffer.from(`admin:${wrongPassword}`).toString('base64')]) expect(said).not.toContain(secret);

    const none = new MlflowClient({ trackingUri: server.uri });
    await expect(none.createExperiment('x')).rejects.toMatchObject({ authKind: 'none', message: expect.stringMatching(/no credentials were sent/) });

    // Credentials in the URL are used as basic auth and never shown.
    const inUrl = new MlflowClient({ trackingUri: server.uri.replace('http://', `http://admin:${encodeURIComponent(wrongPassword)}@`) });
    expect(inUrl.trackingUri).toBe(server.uri);
    const e2 = await inUrl.getExperiment(id).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(MlflowAuthError);
    expect(everythingSaidAbout(e2)).not.toContain(wrongPassword);
    await Promise.all([ok.close(), bad.close(), none.close(), inUrl.close()]);
  });
});

describe('HTTP layer against a loopback server of our own', () => {
  let http: Server;
  let base: string;
  const hits: Record<string, number> = {};
  beforeAll(async () => {
    http = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0]!;
      hits[path] = (hits[path] ?? 0) + 1;
      if (path.endsWith('/experiments/get')) {
        // A hostile/buggy proxy that echoes the Authorization header back.
        res.writeHead(401, { 'content-type': 'text/html' }).end(`<p>denied for ${req.headers.authorization}</p>`);
      } else if (path.endsWith('/experiments/get-by-name')) {
        if (hits[path]! < 3) res.writeHead(503, { 'content-type': 'text/plain' }).end('busy');
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ experiment: { experiment_id: '7', name: 'x' } }));
      } else if (path.endsWith('/runs/create')) {
        res.writeHead(503).end('busy');
      } else if (path.endsWith('/runs/get')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"run":{"info":{}}}');
      } else {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error_code: 'INTERNAL_ERROR', message: 'boom' }));
      }
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => http.close(() => r())));

  test('a bearer token echoed by the server never reaches the error', async () => {
    const token = `tok-${randomBytes(12).toString('hex')}`;
    const c = new MlflowClient({ trackingUri: base, token });
    const err = await c.getExperiment('1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowAuthError);
    expect((err as MlflowAuthError).message).toMatch(/bearer token \(MLFLOW_TRACKING_TOKEN\) was rejected/);
    expect((err as MlflowAuthError).serverMessage).toContain('denied for Bearer ***');
    expect(everythingSaidAbout(err)).not.toContain(token);
    await c.close();
  });

  test('idempotent requests are retried on 503 with back-off; non-idempotent ones are not', async () => {
    const retries: number[] = [];
    const c = new MlflowClient({ trackingUri: base, retries: { maxRetries: 4, backoffMs: 20, maxBackoffMs: 100 } }, { onRetry: (i) => retries.push(i.delayMs) });
    expect((await c.getExperimentByName('x'))?.experiment_id).toBe('7');
    expect(hits['/api/2.0/mlflow/experiments/get-by-name']).toBe(3);
    expect(retries).toHaveLength(2);
    expect(retries[1]!).toBeGreaterThanOrEqual(40); // doubled
    await expect(c.createRun({ experimentId: '7' })).rejects.toMatchObject({ httpStatus: 503 });
    expect(hits['/api/2.0/mlflow/runs/create']).toBe(1);
    const e = await c.searchRuns({ experimentIds: ['7'] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MlflowApiError);
    expect(e).toMatchObject({ errorCode: 'INTERNAL_ERROR', httpStatus: 500, endpoint: 'POST /api/2.0/mlflow/runs/search' });
    expect(hits['/api/2.0/mlflow/runs/search']).toBe(5);
    // A 2xx that does not match the documented shape is a typed error naming the field.
    await expect(c.getRun('r')).rejects.toThrow(/unexpected response: run\.info\.run_id/);
    await c.close();
  });

  test('connection refused → MlflowConnectionError naming the server and the attempts', async () => {
    const port = await freePort();
    const c = new MlflowClient({ trackingUri: `http://u:secretpw@127.0.0.1:${port}`, retries: { maxRetries: 2, backoffMs: 10, maxBackoffMs: 20 } });
    const err = await c.getExperiment('1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowConnectionError);
    expect((err as Error).message).toBe(`MLflow server http://127.0.0.1:${port} is unreachable (GET /api/2.0/mlflow/experiments/get, 3 attempts): ECONNREFUSED`);
    expect(everythingSaidAbout(err)).not.toContain('secretpw');
    await c.close();
  });
});
