import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test, vi } from 'vitest';
import { z } from 'zod';
import { ClearmlApiError, ClearmlAuthError, ClearmlClient, ClearmlError, ClearmlTransport, deriveHosts, ClearmlUnreachableError, ClearmlVersionError } from '../src/index.js';
import { hasServer, serverInfo, testConfig } from './helpers.js';

describe.skipIf(!hasServer)('transport against the real server', () => {
  test('logs in, checks the API version once, calls with a Bearer token', async () => {
    const logins: (number | undefined)[] = [];
    const t = new ClearmlTransport(testConfig(), { onLogin: (i) => logins.push(i.expiresAt) });
    try {
      const info = await t.serverInfo();
      expect(Number(info.apiVersion)).toBeGreaterThanOrEqual(2.23);
      expect(t.apiVersion).toBe(info.apiVersion);
      const users = await t.call('users.get_current_user', {}, z.object({ user: z.object({ id: z.string(), name: z.string() }).loose() }));
      expect(users.user.id.length).toBeGreaterThan(0);
      expect(logins).toHaveLength(1);
      expect(logins[0]).toBeGreaterThan(Date.now() + 86_400_000); // the server's default: 30 days
    } finally {
      await t.close();
    }
  });

  test('ClearmlClient.fromEnv: a client from the CLEARML_* variables, undefined when none', async () => {
    const s = serverInfo();
    const none = ClearmlClient.fromEnv({ CLEARML_CONFIG_FILE: '/nonexistent/clearml.conf' });
    expect(none).toBeUndefined();
    const client = ClearmlClient.fromEnv({
      CLEARML_API_HOST: s.apiHost,
      CLEARML_API_ACCESS_KEY: s.accessKey,
      CLEARML_API_SECRET_KEY: s.secretKey,
      CLEARML_CONFIG_FILE: '/nonexistent/clearml.conf',
    })!;
    try {
      expect(client.server).toBe(s.apiHost);
      expect(client.files.host).toBe(deriveHosts(s.apiHost).filesHost);
      const q = await client.queues.getOrCreate(`mlops-ts-test-fromenv-${Date.now().toString(36)}`);
      expect((await client.queues.getOrCreate(q.name)).id).toBe(q.id);
      await client.queues.delete(q.id);
    } finally {
      await client.close();
    }
  });

  test('refreshes the token before it expires (a 2 s token asked from auth.login)', async () => {
    let logins = 0;
    const t = new ClearmlTransport(testConfig(), { tokenExpirationSec: 2, onLogin: () => logins++ });
    try {
      await t.call('projects.get_all', { page: 0, page_size: 1, only_fields: ['id'] }, z.object({ projects: z.array(z.unknown()) }));
      expect(logins).toBe(1);
      await new Promise((r) => setTimeout(r, 2200));
      await t.call('projects.get_all', { page: 0, page_size: 1, only_fields: ['id'] }, z.object({ projects: z.array(z.unknown()) }));
      expect(logins).toBe(2);
    } finally {
      await t.close();
    }
  });

  test('a token the server refuses as expired (401/30) is replaced once and the call goes through', async () => {
    let logins = 0;
    const t = new ClearmlTransport(testConfig(), { tokenExpirationSec: 1, onLogin: () => logins++ });
    const realNow = Date.now();
    try {
      await t.call('projects.get_all', { page: 0, page_size: 1, only_fields: ['id'] }, z.object({ projects: z.array(z.unknown()) }));
      // A 1 s token (the server's expiry is whole seconds) can already lapse during that first call on a slow machine,
      // which then logs in a second time; count the logins of the call under test only.
      const before = logins;
      expect(before).toBeGreaterThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 2200));
      // the client's clock says the token is still fresh, the server's says it expired
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(realNow);
      await t.call('projects.get_all', { page: 0, page_size: 1, only_fields: ['id'] }, z.object({ projects: z.array(z.unknown()) }));
      expect(logins - before).toBe(1);
    } finally {
      vi.useRealTimers();
      await t.close();
    }
  });

  test('wrong keys: one line naming the server, never the secret', async () => {
    const secret = 'definitely-not-the-secret-0123456789';
    const t = new ClearmlTransport(testConfig({ credentials: { accessKey: 'WRONGACCESSKEY000', secretKey: secret } }));
    try {
      const err = await t.call('projects.get_all', {}, z.unknown()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClearmlAuthError);
      expect(err).toBeInstanceOf(ClearmlApiError);
      expect(err).toBeInstanceOf(ClearmlError);
      const e = err as ClearmlAuthError;
      expect(e.code).toBe('ERR_CLEARML_AUTH');
      expect(e.endpoint).toBe('auth.login');
      expect(e.httpStatus).toBe(401);
      expect(e.message).not.toContain('\n');
      expect(e.message).toContain(serverInfo().apiHost);
      expect(e.message).not.toContain(secret);
      expect(JSON.stringify(e)).not.toContain(secret);
      expect(e.message).toMatch(/refused the API credentials/);
    } finally {
      await t.close();
    }
  });

  test('a rejected request is a typed error naming the endpoint and the server message (2-character task name → 400/800)', async () => {
    const t = new ClearmlTransport(testConfig());
    try {
      const err = (await t.call('tasks.create', { name: 'ab', type: 'training' }, z.unknown()).catch((e: unknown) => e)) as ClearmlApiError;
      expect(err).toBeInstanceOf(ClearmlApiError);
      expect(err).not.toBeInstanceOf(ClearmlAuthError);
      expect(err.code).toBe('ERR_CLEARML_API');
      expect({ endpoint: err.endpoint, httpStatus: err.httpStatus, resultCode: err.resultCode, resultSubcode: err.resultSubcode }).toEqual({
        endpoint: 'tasks.create',
        httpStatus: 400,
        resultCode: 400,
        resultSubcode: 800,
      });
      expect(err.serverMessage).toMatch(/name.*too short/i);
      expect(err.message).toContain('tasks.create');
      expect(err.message).toContain(serverInfo().apiHost);
    } finally {
      await t.close();
    }
  });

  test('a server older than the client needs fails clearly', async () => {
    const t = new ClearmlTransport(testConfig({ apiVersion: '9.0' }));
    try {
      const err = await t.call('projects.get_all', {}, z.unknown()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClearmlVersionError);
      expect((err as ClearmlVersionError).serverApiVersion).toMatch(/^2\.\d+$/);
      expect((err as Error).message).toMatch(/speaks API 2\.\d+.*needs API 9\.0 or newer/);
    } finally {
      await t.close();
    }
  });
});

describe('transport without a server', () => {
  test('a closed port: retries with backoff, then ClearmlUnreachableError', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const retries: number[] = [];
    const t = new ClearmlTransport(
      { apiHost: `http://127.0.0.1:${port}`, credentials: { accessKey: 'a', secretKey: 'secret-s' }, retries: { maxRetries: 2, initialDelayMs: 10 } },
      { onRetry: (i) => retries.push(i.attempt) },
    );
    const err = await t.call('projects.get_all', {}, z.unknown()).catch((e: unknown) => e);
    await t.close();
    expect(err).toBeInstanceOf(ClearmlUnreachableError);
    expect(err).toMatchObject({ code: 'ERR_CLEARML_UNREACHABLE', endpoint: 'auth.login', attempts: 3, reason: 'ECONNREFUSED' });
    expect(retries).toEqual([1, 2]);
  });

});

describe.skipIf(!hasServer)('transport through a faulty proxy in front of the real server', () => {
  test('503 then success: retried; a json-lines body arrives as one JSON value per line', async () => {
    const upstream = new URL(serverInfo().apiHost);
    let failuresLeft = 1;
    const seen: { url: string; type: string | undefined; body: string; status: number }[] = [];
    const proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url?.endsWith('/events.add_batch') && failuresLeft-- > 0) {
          seen.push({ url: req.url, type: req.headers['content-type'], body: body.toString(), status: 503 });
          res.writeHead(503, { 'content-type': 'text/html', 'retry-after': '1' });
          res.end('<html>503 Service Temporarily Unavailable</html>');
          return;
        }
        const up = httpRequest(
          { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } },
          (r) => {
            seen.push({ url: req.url ?? '', type: req.headers['content-type'], body: body.toString(), status: r.statusCode ?? 0 });
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
          },
        );
        up.end(body);
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as AddressInfo).port;
    const retries: string[] = [];
    const delays: number[] = [];
    const t = new ClearmlTransport(testConfig({ apiHost: `http://127.0.0.1:${port}`, retries: { maxRetries: 3, initialDelayMs: 5 } }), {
      onRetry: (i) => {
        retries.push(i.reason);
        delays.push(i.delayMs);
      },
    });
    try {
      const task = await t.call('tasks.create', { name: 'transport-jsonlines', type: 'training' }, z.object({ id: z.string() }));
      const ev = (iter: number) => ({ task: task.id, type: 'training_stats_scalar', metric: 'loss', variant: 'train', iter, value: 1 / (iter + 1), timestamp: Date.now() });
      const out = await t.call('events.add_batch', [ev(0), ev(1)], z.object({ added: z.number(), errors: z.number() }), { jsonLines: true });
      expect(out).toMatchObject({ added: 2, errors: 0 });
      expect(retries).toEqual([expect.stringMatching(/^HTTP 503/)]);
      expect(delays).toEqual([1000]); // the proxy's Retry-After: 1 wins over the 5 ms backoff
      const batches = seen.filter((s) => s.url.endsWith('/events.add_batch'));
      expect(batches.map((b) => b.status)).toEqual([503, 200]);
      expect(batches[1]!.url).toBe(`/v${t.apiVersion}/events.add_batch`);
      expect(t.apiVersion).toBe((await t.serverInfo()).apiVersion);
      expect(batches[1]!.type).toBe('application/json-lines');
      expect(batches[1]!.body.split('\n').map((l) => (JSON.parse(l) as { iter: number }).iter)).toEqual([0, 1]);
      await t.call('tasks.delete', { task: task.id, force: true }, z.unknown());
    } finally {
      await t.close();
      await new Promise((r) => proxy.close(r));
    }
  });
});
