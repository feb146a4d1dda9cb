// Shared by the integration tests: the server from the fixture as a ClearmlConfig, unique names.
import { inject } from 'vitest';
import { requireClearml, type ClearmlServerAvailable } from '../../../tools/testing/clearml-server.js';
import type { ClearmlConfig } from '../src/index.js';

export const server = inject('clearml');
export const hasServer = server.available;

export function serverInfo(): ClearmlServerAvailable {
  return requireClearml(server);
}

export function testConfig(overrides: Partial<ClearmlConfig> = {}): ClearmlConfig {
  const s = serverInfo();
  return {
    apiHost: s.apiHost,
    webHost: s.webHost,
    filesHost: s.filesHost,
    credentials: { accessKey: s.accessKey, secretKey: s.secretKey },
    retries: { maxRetries: 2, initialDelayMs: 50, maxDelayMs: 200 },
    ...overrides,
  };
}

export { uniqueProjectName } from '../../../tools/testing/clearml-server.js';
