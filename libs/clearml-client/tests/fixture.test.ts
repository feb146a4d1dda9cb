import { describe, expect, inject, test } from 'vitest';
import { deriveHosts, parseEnvSh } from '../../../tools/testing/clearml-server.js';

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
});
