import { defineConfig, mergeConfig } from 'vitest/config';
import { workspaceTestConfig } from '../../vitest.shared.js';

// The ClearML contract suite needs the real ClearML server (tools/testing/clearml-server.ts): from CLEARML_API_* in
// the env, else the local test server's start.sh; `inject('clearml')` in the tests.
export default mergeConfig(
  defineConfig(workspaceTestConfig(import.meta.dirname)),
  defineConfig({ test: { globalSetup: ['../../tools/testing/clearml-server.ts'] } }),
);
