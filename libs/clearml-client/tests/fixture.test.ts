import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { clearmlGlobalSetup, deriveHosts, parseEnvSh, resolveClearmlServer, type ClearmlServerInfo } from '../../../tools/testing/clearml-server.js';

const server = inject('clearml');

describe('clearml-server fixture', () => {
  test('parses env.sh exports and derives hosts the SDK way', () => {
    expect(parseEnvSh("export A=1\nexport B='x y'\n# c\nC=\"q\"\n")).toEqual({ A: '1', B: 'x y', C: 'q' });
    expect(deriveHosts('http://127.0.0.1:8008')).toEqual({ webHost: 'http://127.0.0.1:8080', filesHost: 'http://127.0.0.1:8081' });
    expect(deriveHosts('https://api.clear.ml')).toEqual({ webHost: 'https://app.clear.ml', filesHost: 'https://files.clear.ml' });
  });

  test.skipIf(!server.available)('provides a server whose keys auth.login accepts', async () => {
    if (!server.available) return;
    const res = await fetch(`${server.apiHost}/auth.login`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${server.accessKey}:${server.secretKey}`).toString('base64')}` },
    });
    const body = (await res.json()) as { meta: { result_code: number }; data: { token?: string } };
    expect(body.meta.result_code).toBe(200);
    expect(body.data.token).toMatch(/^ey/);
  });

  test('no server dir and no env: unavailable with a reason saying how to provide one', async () => {
    const r = await resolveClearmlServer({ env: { MLOPS_CLEARML_SERVER_DIR: '/nonexistent/clearml-server' }, log: () => undefined });
    expect(r.info.available).toBe(false);
    expect(r.info.available === false && r.info.reason).toMatch(/no ClearML server configured and no \/nonexistent\/clearml-server\/start\.sh/);
  });

  test('globalSetup with no server: one loud line and available:false; under CI=true it throws instead', async () => {
    const provided: ClearmlServerInfo[] = [];
    const warnings: string[] = [];
    const project = { provide: (_key: 'clearml', value: ClearmlServerInfo) => void provided.push(value) } as Parameters<typeof clearmlGlobalSetup>[0];
    const env = { MLOPS_CLEARML_SERVER_DIR: '/nonexistent/clearml-server' };
    const teardown = await clearmlGlobalSetup(project, { env, warn: (l) => warnings.push(l) });
    await teardown();
    expect(provided).toEqual([{ available: false, reason: expect.stringContaining('/nonexistent/clearml-server/start.sh') }]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^\[clearml-server\] !!! NO CLEARML SERVER: the ClearML tests are SKIPPED\. .*set CLEARML_API_HOST/);
    expect(warnings[0]).not.toContain('\n');
    await expect(clearmlGlobalSetup(project, { env: { ...env, CI: 'true' }, warn: (l) => warnings.push(l) })).rejects.toThrow(/CI=true: failing instead of skipping/);
    expect(warnings).toHaveLength(1);
  });

  test('env set but the server does not answer: unavailable, naming the host', async () => {
    const r = await resolveClearmlServer({ env: { CLEARML_API_HOST: 'http://127.0.0.1:9', CLEARML_API_ACCESS_KEY: 'a', CLEARML_API_SECRET_KEY: 'b' }, log: () => undefined });
    expect(r.info).toMatchObject({ available: false, reason: expect.stringMatching(/CLEARML_API_HOST is set but http:\/\/127\.0\.0\.1:9 is unreachable/) });
  });
});

/**
 * The start/stop logic against a stand-in server folder: its start.sh runs a small process that answers debug.ping
 * (the fixture's readiness probe) and writes env.sh; its stop.sh kills it. The real server is never touched.
 */
describe('clearml-server fixture: starts a server that was not running and stops only that one, last lease out', () => {
  let dir: string;
  let port: number;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clearml-fixture-'));
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    await writeFile(
      join(dir, 'ping.mjs'),
      `import { createServer } from 'node:http';
createServer((req, res) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ meta: { result_code: 200 }, data: {} })); }).listen(Number(process.argv[2]), '127.0.0.1');\n`,
    );
    await writeFile(
      join(dir, 'start.sh'),
      `#!/usr/bin/env bash
set -e
mkdir -p "$CLEARML_SERVER_HOME/run"
if [[ -f "$CLEARML_SERVER_HOME/run/ping.pid" ]] && kill -0 "$(cat "$CLEARML_SERVER_HOME/run/ping.pid")" 2>/dev/null; then exit 0; fi
nohup node "${dir}/ping.mjs" ${port} >/dev/null 2>&1 &
echo $! > "$CLEARML_SERVER_HOME/run/ping.pid"
for i in $(seq 50); do (echo > /dev/tcp/127.0.0.1/${port}) 2>/dev/null && break; sleep 0.1; done
cat > "$CLEARML_SERVER_HOME/env.sh" <<EOT
export CLEARML_API_HOST=http://127.0.0.1:${port}
export CLEARML_API_ACCESS_KEY=fixture-key
export CLEARML_API_SECRET_KEY=fixture-secret
export CLEARML_WEB_USER=u
export CLEARML_WEB_PASSWORD=p
EOT
`,
    );
    await writeFile(join(dir, 'stop.sh'), `#!/usr/bin/env bash\nkill "$(cat "$CLEARML_SERVER_HOME/run/ping.pid")" && rm "$CLEARML_SERVER_HOME/run/ping.pid"\n`);
  });
  afterAll(async () => {
    await execa('bash', [join(dir, 'stop.sh')], { env: { CLEARML_SERVER_HOME: join(dir, 'home') }, reject: false });
    await rm(dir, { recursive: true, force: true });
  });

  test('first user starts it, a second one finds it running; only the last release stops it', async () => {
    const env = { PATH: process.env['PATH'], MLOPS_CLEARML_SERVER_DIR: dir, CLEARML_SERVER_HOME: join(dir, 'home') };
    const logs: string[] = [];
    const first = await resolveClearmlServer({ env, log: (l) => logs.push(l) });
    expect(first.info).toMatchObject({ available: true, source: 'started', apiHost: `http://127.0.0.1:${port}`, webHost: `http://127.0.0.1:${port}`, accessKey: 'fixture-key', webUser: 'u' });
    expect(logs.join('\n')).toMatch(/started the local ClearML server/);
    const second = await resolveClearmlServer({ env, log: (l) => logs.push(l) });
    expect(second.info).toMatchObject({ available: true, source: 'running' });
    const answers = async () => (await fetch(`http://127.0.0.1:${port}/debug.ping`, { method: 'POST' }).then((r) => r.ok).catch(() => false)) as boolean;

    await first.release(); // the other lease is still held: keeps running
    expect(await answers()).toBe(true);
    await second.release(); // last one out stops what a fixture started
    expect(logs.join('\n')).toMatch(/stopped the local ClearML server this test run had started/);
    expect(await answers()).toBe(false);
    expect((await readdir(join(dir, 'home', 'run', 'mlops-ts-leases'))).length).toBe(0);

    // a server that was already running (not started by a fixture) is never stopped
    await execa('bash', [join(dir, 'start.sh')], { env: { ...env, CLEARML_SERVER_HOME: join(dir, 'home') } });
    const third = await resolveClearmlServer({ env, log: (l) => logs.push(l) });
    expect(third.info).toMatchObject({ available: true, source: 'running' });
    await third.release();
    expect(await answers()).toBe(true);
    expect(existsSync(join(dir, 'home', 'run', 'ping.pid'))).toBe(true);
  });
});
