// Authentication and redaction: a real `mlflow server --app-name basic-auth` (started by global-setup.ts; it needs
// Flask-WTF, pinned in requirements.txt, so its absence FAILS this file), plus a loopback HTTP server of our own for
// what no real server does: echoing the bearer token back in its error page, recording the Authorization header of
// each request, and 503s to exercise the retry policy of the HTTP layer.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inject } from 'vitest';
import { inspect } from 'node:util';
import { freePort, MlflowAuthError, MlflowApiError, MlflowClient, MlflowConnectionError, MlflowCredentialsError, type MlflowCredentials } from '../src/index.js';

const auth = inject('authServer');

function everythingSaidAbout(err: unknown): string {
  return [String(err), (err as Error).stack ?? '', inspect(err, { depth: 5 }), JSON.stringify(err)].join('\n');
}

describe('real mlflow server with basic auth (started in global-setup.ts)', () => {
  const password = auth?.password ?? '';
  const server = { uri: auth?.uri ?? '' };

  test('the basic-auth server is there (Flask-WTF is pinned in requirements.txt: missing means a broken setup, not a skip)', () => {
    if (auth === null) {
      throw new Error('Flask-WTF is not installed in .venv, so the basic-auth mlflow server could not start: run tools/setup.sh (requirements.txt pins Flask-WTF)');
    }
    expect(auth.uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('a credentials provider is asked on every request: a changed password takes effect on the next request', async () => {
    if (auth === null) throw new Error('no basic-auth server (see the test above)');
    let current: MlflowCredentials = { username: 'admin', password };
    let calls = 0;
    const c = new MlflowClient({ trackingUri: server.uri, credentials: async () => (calls++, current), retries: { maxRetries: 0, backoffMs: 10, maxBackoffMs: 10 } });
    const id = await c.createExperiment(`provider-${Date.now()}`);
    expect((await c.getExperiment(id)).experiment_id).toBe(id);
    expect(calls).toBe(3); // get-by-name, create, get
    const rotatedAway = `${password}-rotated`;
    current = { username: 'admin', password: rotatedAway };
    const err = await c.getExperiment(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowAuthError);
    expect(err).toMatchObject({ code: 'ERR_MLFLOW_AUTH', httpStatus: 401, authKind: 'basic' });
    expect((err as Error).message).toMatch(/the username\/password from the credentials provider were rejected/);
    for (const secret of [rotatedAway, password, Buffer.from(`admin:${rotatedAway}`).toString('base64')]) expect(everythingSaidAbout(err)).not.toContain(secret);
    current = { username: 'admin', password };
    expect((await c.getExperiment(id)).experiment_id).toBe(id);
    await c.close();
  });

  test('right credentials work; wrong or missing ones give a clear typed error without any secret', async () => {
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
    await expect(none.createExperiment('x')).rejects.toMatchObject({ code: 'ERR_MLFLOW_AUTH', authKind: 'none', message: expect.stringMatching(/no credentials were sent/) });

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
  const authSeen: (string | undefined)[] = [];
  beforeAll(async () => {
    http = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0]!;
      hits[path] = (hits[path] ?? 0) + 1;
      if (path.endsWith('/experiments/search')) {
        // Records the Authorization header of every attempt; the first attempt of each request gets a 503.
        authSeen.push(req.headers.authorization);
        if (authSeen.length % 2 === 1) res.writeHead(503).end('busy');
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{"experiments":[]}');
      } else if (path.endsWith('/experiments/get')) {
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
    await expect(c.createRun({ experimentId: '7' })).rejects.toMatchObject({ code: 'ERR_MLFLOW_REST', httpStatus: 503, endpoint: 'POST /api/2.0/mlflow/runs/create' });
    expect(hits['/api/2.0/mlflow/runs/create']).toBe(1);
    const e = await c.searchRuns({ experimentIds: ['7'] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MlflowApiError);
    expect(e).toMatchObject({ errorCode: 'INTERNAL_ERROR', httpStatus: 500, endpoint: 'POST /api/2.0/mlflow/runs/search' });
    expect(hits['/api/2.0/mlflow/runs/search']).toBe(5);
    // A 2xx that does not match the documented shape is a typed error naming the field.
    await expect(c.getRun('r')).rejects.toMatchObject({ code: 'ERR_MLFLOW_RESPONSE', message: expect.stringMatching(/unexpected response: run\.info\.run_id/) });
    await c.close();
  });

  test('an expiring token: the provider is called once per request (its retries reuse it), so the next request sends the new one', async () => {
    const tokens = ['tok-first-aaaaaaaa', 'tok-second-bbbbbbb'];
    let calls = 0;
    const c = new MlflowClient({ trackingUri: base, credentials: () => ({ token: tokens[Math.min(calls++, 1)]! }), retries: { maxRetries: 2, backoffMs: 5, maxBackoffMs: 10 } });
    authSeen.length = 0;
    await c.searchExperiments();
    await c.searchExperiments();
    expect(authSeen).toEqual(['Bearer tok-first-aaaaaaaa', 'Bearer tok-first-aaaaaaaa', 'Bearer tok-second-bbbbbbb', 'Bearer tok-second-bbbbbbb']);
    expect(calls).toBe(2);
    // A token from the provider echoed back by the server is redacted like a configured one.
    const err = await c.getExperiment('1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowAuthError);
    expect((err as Error).message).toMatch(/bearer token from the credentials provider was rejected/);
    expect((err as MlflowAuthError).serverMessage).toBe('denied for Bearer ***');
    expect(everythingSaidAbout(err)).not.toContain('tok-second-bbbbbbb');
    // A provider that answers nonsense is a typed error that shows none of it.
    const bad = new MlflowClient({ trackingUri: base, credentials: () => ({ tokn: 'tok-typo-ccccccc' }) as unknown as MlflowCredentials });
    const e2 = await bad.getExperiment('1').catch((e: unknown) => e);
    expect(e2).toMatchObject({ code: 'ERR_MLFLOW_VALIDATION', message: 'Invalid credentials provider result: expected { username, password }, { token } or undefined' });
    expect(everythingSaidAbout(e2)).not.toContain('tok-typo');
    // A provider that throws: a typed error naming the server; the provider's own words stay in `cause`.
    const throwing = new MlflowClient({ trackingUri: base, credentials: () => Promise.reject(new TypeError('vault said no')) });
    const e3 = await throwing.getExperiment('1').catch((e: unknown) => e);
    expect(e3).toBeInstanceOf(MlflowCredentialsError);
    expect(e3).toMatchObject({ code: 'ERR_MLFLOW_CREDENTIALS', server: base, cause: expect.objectContaining({ message: 'vault said no' }) });
    expect((e3 as Error).message).toBe(`The MLflow credentials provider failed for ${base}: TypeError (its message is kept in \`cause\`, unprinted: it may hold a secret)`);
    await Promise.all([c.close(), bad.close(), throwing.close()]);
  });

  test('the retried statuses are configurable (here 503 only: a 500 is answered at once)', async () => {
    const before = hits['/api/2.0/mlflow/runs/search'] ?? 0;
    const c = new MlflowClient({ trackingUri: base, retries: { maxRetries: 4, backoffMs: 5, maxBackoffMs: 10, statusCodes: [503] } });
    await expect(c.searchRuns({ experimentIds: ['7'] })).rejects.toMatchObject({ code: 'ERR_MLFLOW_REST', errorCode: 'INTERNAL_ERROR', httpStatus: 500 });
    expect(hits['/api/2.0/mlflow/runs/search']! - before).toBe(1);
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
