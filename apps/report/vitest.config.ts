import { defineConfig, mergeConfig } from 'vitest/config';
import { workspaceTestConfig } from '../../vitest.shared.js';

// tests/report-tracking.test.ts logs the report to the real ClearML server (tools/testing/clearml-server.ts):
// `inject('clearml')` in the test.
export default mergeConfig(defineConfig(workspaceTestConfig(import.meta.dirname)), defineConfig({ test: { globalSetup: ['../../tools/testing/clearml-server.ts'] } }));
