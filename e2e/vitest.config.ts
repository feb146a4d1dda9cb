import { defineConfig, mergeConfig } from 'vitest/config';
import { workspaceTestConfig } from '../vitest.shared.js';

// The ClearML suites (pipeline-clearml, clearml-ui) take the real ClearML server from tools/testing/clearml-server.ts
// (CLEARML_API_* in the env, else the local test server's start.sh): `inject('clearml')`.
export default mergeConfig(defineConfig(workspaceTestConfig(import.meta.dirname)), defineConfig({ test: { globalSetup: ['../tools/testing/clearml-server.ts'] } }));
