// Sums vitest JSON reports (one per project, written through VITEST_JSON_DIR) into one closing line.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: summarize-tests.mjs <dir with vitest json reports>');
  process.exit(2);
}
let passed = 0, failed = 0, skipped = 0;
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
for (const file of files) {
  const report = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const p = report.numPassedTests ?? 0, f = report.numFailedTests ?? 0;
  const s = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A suite that failed to load counts as a failure even when it ran no test.
  const broken = (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length;
  console.log(`${file.replace(/\.json$/, '').padEnd(24)} ${p} passed, ${f + broken} failed, ${s} skipped`);
  passed += p; failed += f + broken; skipped += s;
}
if (files.length === 0) console.log('no test reports found');
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
