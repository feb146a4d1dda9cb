import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/**
 * Import rules (docs/conventions.md): apps → libs; tracking → the tracker clients; the orchestration lib → the libs it
 * composes; every other lib imports no sibling. Tags live in each package.json's `nx.tags`.
 */
export const depConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'scope:tracking', onlyDependOnLibsWithTags: ['scope:tracker-client'] },
  {
    sourceTag: 'scope:orchestration',
    onlyDependOnLibsWithTags: ['scope:data-prep', 'scope:model-train', 'scope:tracking', 'scope:tracker-client', 'scope:stage-kit', 'scope:dvc', 'scope:report'],
  },
  { sourceTag: 'scope:tracker-client', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:data-prep', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:model-train', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:stage-kit', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:dvc', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:report', onlyDependOnLibsWithTags: [] },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/out-tsc/**', '**/.venv/**', '**/coverage/**', 'bench/**/.work/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          // A project imported without tags matches no `onlyDependOnLibsWithTags`: tag every new project.
          depConstraints,
          enforceBuildableLibDependency: false,
          // Test helpers and the shared vitest config live at the workspace root (the root project), not in a lib.
          allow: ['^(\\.\\./)+(tools/testing/|vitest\\.shared\\.js$)'],
          // Lazy-loading is a bundler concern; Node apps and tests may import a lib both ways.
          checkDynamicDependenciesExceptions: ['@mlops-ts/*'],
        },
      ],
    },
  },
  {
    // Libraries take their configuration from the caller: no environment reads.
    files: ['libs/*/src/**/*.ts'],
    ignores: ['libs/*/src/**/*.test.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Libraries take config from the app; do not read process.env.' }],
    },
  },
);
