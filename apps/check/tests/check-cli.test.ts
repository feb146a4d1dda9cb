// npm run check on scratch params files: every problem of every stage at once (exit 2), the feature columns checked
// against the raw table's schema.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { penguinsParams, runStageCli } from '../../../tools/testing/stage-cli.js';

let dir: string;
let good: Record<string, unknown>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'check-cli-'));
  good = await penguinsParams();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function check(params: Record<string, unknown>) {
  const file = join(dir, `params-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, stringify(params));
  return { file, ...(await runStageCli('check', ['--params', file], { cwd: dir })) };
}

test('valid params on penguins: exit 0, one line', async () => {
  const r = await check(good);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr).toBe(`[check] ${r.file}: the params of every stage are valid; the 7 columns it uses are in ${(good['data'] as { path: string }).path}`);
});

test('a typo key, a wrong type, fractions that do not sum to 1, an unknown column and a misspelled section: all listed, exit 2', async () => {
  const data = good['data'] as { features: { numeric: string[] } };
  const r = await check({
    ...good,
    data: { ...data, features: { ...data.features, numeric: [...data.features.numeric, 'Wing Span (mm)'] } },
    prepare: { ...(good['prepare'] as object), seeed: 4 },
    train: { ...(good['train'] as object), epochs: 'ten' },
    split: { train: 0.7, valid: 0.15, test: 0.1, seed: 1, stratify: true },
    comapre: {},
  });
  expect(r.exitCode).toBe(2);
  const lines = r.stderr.split('\n');
  const expected = [
    /^check: .*: prepare\.seeed: unknown key$/,
    /^check: .*: split: .*(0\.95|sum|equal 1)/,
    /^check: .*: train\.epochs: must be "auto" or an integer from 1 to 100000 \(got "ten"\)$/,
    /^check: .*: comapre: unknown section \(the stages read data, prepare, featurize, split, models, train, tracking, compare, report, sweep\)$/,
    /^check: .*: data\.features\.numeric: column "Wing Span \(mm\)" is not in .*penguins\.json \(columns are: .*Species.*\)$/,
  ];
  expect(lines).toHaveLength(expected.length);
  for (const re of expected) expect(lines.filter((l) => re.test(l)), `${re} in\n${r.stderr}`).toHaveLength(1);
  expect(lines.every((l) => l.startsWith(`check: ${r.file}: `))).toBe(true);
});
