import { defineConfig, mergeConfig } from 'vitest/config';
import { workspaceTestConfig } from '../../vitest.shared.js';

export default mergeConfig(
  defineConfig(workspaceTestConfig(import.meta.dirname)),
  defineConfig({ test: { globalSetup: ['./tests/global-setup.ts'] } }),
);
