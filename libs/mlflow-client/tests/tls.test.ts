// TLS towards the tracking server, for real: `openssl`-made certificates and a Node https reverse proxy on loopback
// in front of the real mlflow server of global-setup.ts. What MLflow's env variables promise must hold:
// MLFLOW_TRACKING_INSECURE_TLS, MLFLOW_TRACKING_SERVER_CERT_PATH, MLFLOW_TRACKING_CLIENT_CERT_PATH.
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { MlflowClient, MlflowConnectionError, MlflowTlsError, MlflowValidationError, mlflowConfigFromEnv } from '../src/index.js';

const upstream = new URL(inject('mlflowUri'));
let tmp: string;
const servers: Server[] = [];
let plainTls: string; // server certificate only
let mutualTls: string; // also requires a client certificate
let serverCert: string;
let clientPem: string; // client certificate and key in one file, as MLflow accepts it

async function openssl(args: string[]) {
  const r = await execa('openssl', args, { reject: false, cwd: tmp });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed (is openssl installed? the TLS tests need it): ${r.stderr}`);
}

async function proxy(opts: { requireClientCert: boolean }): Promise<string> {
  const [key, cert, clientCert] = await Promise.all([readFile(join(tmp, 'server.key')), readFile(serverCert), readFile(join(tmp, 'client.crt'))]);
  const srv = createServer({ key, cert, ...(opts.requireClientCert ? { requestCert: true, rejectUnauthorized: true, ca: clientCert } : {}) }, (req, res) => {
    const up = httpRequest({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', (e) => res.writeHead(502).end(String(e)));
    req.pipe(up);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  servers.push(srv);
  return `https://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mlflow-tls-'));
  serverCert = join(tmp, 'server.crt');
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.crt', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.crt', '-days', '2', '-subj', '/CN=mlops-client']);
  clientPem = join(tmp, 'client.pem');
  await writeFile(clientPem, Buffer.concat([await readFile(join(tmp, 'client.crt')), await readFile(join(tmp, 'client.key'))]));
  plainTls = await proxy({ requireClientCert: false });
  mutualTls = await proxy({ requireClientCert: true });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const env = (over: Record<string, string>) => mlflowConfigFromEnv({ MLFLOW_TRACKING_URI: plainTls, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '1', ...over })!;

test('an untrusted server certificate is refused with one clear typed error (not retried as "unreachable")', async () => {
  const retries: string[] = [];
  const client = new MlflowClient(env({}), { onRetry: (i) => retries.push(i.reason) });
  const err = await client.searchExperiments().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(MlflowTlsError);
  expect(err).toMatchObject({ code: 'ERR_MLFLOW_TLS', tlsCode: 'DEPTH_ZERO_SELF_SIGNED_CERT', server: plainTls });
  expect((err as Error).message).toMatch(/^TLS connection to MLflow server https:\/\/127\.0\.0\.1:\d+ failed \(POST \/api\/2\.0\/mlflow\/experiments\/search\): DEPTH_ZERO_SELF_SIGNED_CERT/);
  expect((err as Error).message).toContain('MLFLOW_TRACKING_SERVER_CERT_PATH');
  expect(retries).toEqual([]);
  await client.close();
});

test('MLFLOW_TRACKING_INSECURE_TLS=true skips verification; MLFLOW_TRACKING_SERVER_CERT_PATH verifies with that CA', async () => {
  for (const over of [{ MLFLOW_TRACKING_INSECURE_TLS: 'true' }, { MLFLOW_TRACKING_SERVER_CERT_PATH: serverCert }] as Record<string, string>[]) {
    const client = new MlflowClient(env(over));
    const name = `tls-${Object.keys(over)[0]}-${Date.now()}`;
    const id = await client.createExperiment(name);
    expect((await client.getExperiment(id)).name).toBe(name);
    await client.close();
  }
  // The flag is read strictly, and both together contradict each other (MLflow refuses the same).
  expect(() => env({ MLFLOW_TRACKING_INSECURE_TLS: 'yes please' })).toThrow(/MLFLOW_TRACKING_INSECURE_TLS: expected true or false/);
  expect(() => env({ MLFLOW_TRACKING_INSECURE_TLS: 'true', MLFLOW_TRACKING_SERVER_CERT_PATH: serverCert })).toThrow(MlflowValidationError);
  // A CA path that does not exist is named when the client is built.
  expect(() => new MlflowClient(env({ MLFLOW_TRACKING_SERVER_CERT_PATH: join(tmp, 'missing.pem') }))).toThrow(/tls\.caCertPath \(.*missing\.pem\).*ENOENT/);
});

test('MLFLOW_TRACKING_CLIENT_CERT_PATH presents a client certificate (cert and key in one PEM) to a server that requires one', async () => {
  const withCert = new MlflowClient(env({ MLFLOW_TRACKING_URI: mutualTls, MLFLOW_TRACKING_SERVER_CERT_PATH: serverCert, MLFLOW_TRACKING_CLIENT_CERT_PATH: clientPem }));
  const page = await withCert.searchExperiments({ maxResults: 1 });
  expect(page.items).toHaveLength(1);
  await withCert.close();

  const without = new MlflowClient(env({ MLFLOW_TRACKING_URI: mutualTls, MLFLOW_TRACKING_SERVER_CERT_PATH: serverCert }));
  const err = await without.searchExperiments({ maxResults: 1 }).catch((e: unknown) => e);
  // Under TLS 1.3 the server checks the client certificate after the handshake and just closes the connection:
  // the client sees a closed socket, not a TLS alert.
  expect(err).toBeInstanceOf(MlflowConnectionError);
  expect((err as Error).message).toMatch(/^MLflow server https:\/\/127\.0\.0\.1:\d+ is unreachable \(POST \/api\/2\.0\/mlflow\/experiments\/search, 2 attempts\): UND_ERR_SOCKET \(other side closed\)$/);
  await without.close();
});
