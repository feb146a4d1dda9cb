import { basename } from 'node:path';
import type { UserConfig } from 'vitest/config';

/** Shared vitest settings: resolve workspace packages to their TypeScript sources, long timeouts for tests that drive real CLIs and servers. */
export function workspaceTestConfig(projectDir: string): UserConfig {
  const conditions = ['@mlops-ts/source', 'node', 'import', 'module', 'default'];
  return {
    root: projectDir,
    cacheDir: `../../node_modules/.vite/${basename(projectDir)}`,
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@mlops-ts/source'] } },
    test: {
      globals: true,
      environment: 'node',
      include: ['src/**/*.test.ts', 'tests/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 300_000,
      pool: 'forks',
      reporters: process.env['VITEST_JSON_DIR']
        ? ['default', ['json', { outputFile: `${process.env['VITEST_JSON_DIR']}/${basename(projectDir)}.json` }]]
        : ['default'],
    },
  };
}
