// The import rules (apps → libs; tracking → the tracker clients; other libs import no sibling) are enforced by
// @nx/enforce-module-boundaries with the tags in each package.json: ESLint's Node API lints a probe file placed
// (in memory) inside a project, once with an allowed import and once with a forbidden one.
import { ESLint } from 'eslint';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

async function boundaryErrors(projectDir: string, importFrom: string): Promise<string[]> {
  const code = `import * as probe from '${importFrom}';\nexport const keys = Object.keys(probe);\n`;
  const [result] = await eslint.lintText(code, { filePath: join(root, projectDir, 'src/boundary-probe.ts') });
  return (result?.messages ?? []).filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

test.each([
  ['libs/tracking', '@mlops-ts/mlflow-client'],
  ['apps/train', '@mlops-ts/model-train'],
  ['apps/ingest', '@mlops-ts/dvc-adapter'],
])('%s may import %s', async (dir, imp) => {
  expect(await boundaryErrors(dir, imp)).toEqual([]);
});

test.each([
  ['libs/data-prep', '@mlops-ts/model-train', 'scope:data-prep'],
  ['libs/model-train', '@mlops-ts/data-prep', 'scope:model-train'],
  ['libs/tracking', '@mlops-ts/data-prep', 'scope:tracking'],
  ['libs/mlflow-client', '@mlops-ts/data-prep', 'scope:tracker-client'],
  ['libs/dvc-adapter', '@mlops-ts/stage-kit', 'scope:dvc'],
  ['libs/stage-kit', '@mlops-ts/dvc-adapter', 'scope:stage-kit'],
])('%s may not import %s (%s)', async (dir, imp, tag) => {
  const errors = await boundaryErrors(dir, imp);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(new RegExp(`^A project tagged with "${tag}" (can only depend on libs tagged with|cannot depend on any libs with tags)`));
});
