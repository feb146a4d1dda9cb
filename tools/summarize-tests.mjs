// Sums vitest JSON reports (one per project, written through VITEST_JSON_DIR) into one closing line.
// Several folders (one per pass, e.g. tmp/test-results/node20 tmp/test-results/node24) are summed together.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error('usage: summarize-tests.mjs <dir with vitest json reports>...');
  process.exit(2);
}
let passed = 0, failed = 0, skipped = 0;
const files = dirs.flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => join(dir, f)));
for (const file of files) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const p = report.numPassedTests ?? 0, f = report.numFailedTests ?? 0;
  const s = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A suite that failed to load counts as a failure even when it ran no test.
  const broken = (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length;
  console.log(`${(dirs.length > 1 ? join(basename(dirname(file)), basename(file)) : basename(file)).replace(/\.json$/, '').padEnd(24)} ${p} passed, ${f + broken} failed, ${s} skipped`);
  passed += p; failed += f + broken; skipped += s;
}
if (files.length === 0) console.log('no test reports found');
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
