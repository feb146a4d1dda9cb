import { defineConfig, mergeConfig } from 'vitest/config';
import { workspaceTestConfig } from '../../vitest.shared.js';

// The real ClearML server (tools/testing/clearml-server.ts): `inject('clearml')` in the tests.
export default mergeConfig(
  defineConfig(workspaceTestConfig(import.meta.dirname)),
  defineConfig({ test: { globalSetup: ['../../tools/testing/clearml-server.ts'] } }),
);
