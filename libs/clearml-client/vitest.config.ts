import { defineConfig, mergeConfig } from 'vitest/config';
import { workspaceTestConfig } from '../../vitest.shared.js';

// Vitest passes the ssr conditions to its worker processes as `node --conditions …`. With `module` among them,
// Node's own resolver picks the AWS SDK's bundler-only ES build (extensionless imports) and S3 access fails;
// Node without that condition loads the SDK's CommonJS build, as in production. So: no `module` here.
const shared = workspaceTestConfig(import.meta.dirname);
const conditions = (shared.ssr?.resolve?.conditions ?? []).filter((c) => c !== 'module');
shared.resolve = { ...shared.resolve, conditions };
shared.ssr = { ...shared.ssr, resolve: { ...shared.ssr?.resolve, conditions } };

export default mergeConfig(defineConfig(shared), defineConfig({ test: { globalSetup: ['./tests/global-setup.ts'] } }));
