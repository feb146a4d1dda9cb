// tools/pipeline.sh in a scratch repository (git + the real dvc CLI, the workspace's node_modules and .venv linked
// in): `npm run check` runs before `dvc repro` and a failing check stops everything with no stage run; the backend
// notice is printed once and exported to the stages; the run ends with the short summary, not the metrics table.
import { execa } from 'execa';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');
const tfjsNodeInstalled = (() => {
  try {
    createRequire(join(ROOT, 'libs/model-train/package.json')).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();
let dir: string;
let remote: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipeline-sh-'));
  remote = await mkdtemp(join(tmpdir(), 'pipeline-sh-remote-'));
  await mkdir(join(dir, 'tools'));
  for (const f of ['tools/pipeline.sh', 'tools/setup.sh', 'tools/summary.mjs', 'requirements.txt', 'constraints.txt']) await copyFile(join(ROOT, f), join(dir, f));
  // Same mtime as the workspace's lock, so setup sees node_modules as up to date and runs no npm ci.
  await cp(join(ROOT, 'package-lock.json'), join(dir, 'package-lock.json'), { preserveTimestamps: true });
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  await symlink(join(ROOT, '.venv'), join(dir, '.venv'));
  await mkdir(join(dir, 'libs/model-train'), { recursive: true });
  await writeFile(join(dir, 'libs/model-train/package.json'), '{"name":"scratch-model-train"}');
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  pkg.scripts['check'] = 'node --import tsx apps/check/src/main.ts';
  await writeFile(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  await mkdir(join(dir, 'apps/check/src'), { recursive: true });
  // A stand-in for the check app (owned by another helper): fails when params.yaml says so.
  await writeFile(
    join(dir, 'apps/check/src/main.ts'),
    "import { readFileSync } from 'node:fs';\n" +
      "if (readFileSync('params.yaml', 'utf8').includes('bad: true')) { console.error('params.yaml: split: train + valid + test = 0.95, must be 1'); process.exit(2); }\n" +
      "console.error('check: ok');\n",
  );
  // One stage that records that it ran and what the notice variable was.
  await writeFile(
    join(dir, 'dvc.yaml'),
    'stages:\n  stage:\n    cmd: node -e "require(\'fs\').mkdirSync(\'metrics/eval\',{recursive:true});require(\'fs\').writeFileSync(\'ran.txt\', String(process.env.MLOPS_BACKEND_NOTICE_SHOWN));' +
      "require('fs').writeFileSync('metrics/eval/m.json', JSON.stringify({model:'m',roc_auc:0.7,accuracy:0.8}))\"\n" +
      '    params: [bad]\n    outs: [ran.txt]\n    metrics: [{metrics/eval/m.json: {cache: false}}]\n',
  );
  const git = (...a: string[]) => execa('git', a, { cwd: dir });
  await git('init', '-q');
  await execa(join(ROOT, '.venv/bin/dvc'), ['init', '-q'], { cwd: dir });
  await execa(join(ROOT, '.venv/bin/dvc'), ['remote', 'add', '--local', '-d', 'local', remote], { cwd: dir });
  await writeFile(join(dir, '.gitignore'), 'node_modules\n.venv\n');
  await git('add', '-A');
  await git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'scratch');
}, 60_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  if (remote) await rm(remote, { recursive: true, force: true });
});

const pipeline = () =>
  execa('bash', ['tools/pipeline.sh'], {
    cwd: dir,
    reject: false,
    all: true,
    // A tracking URI given: the pipeline starts no local MLflow server. No data pointers: setup's ingest has nothing to do.
    // MLOPS_NATIVE_TF=0: the scratch repository has no tools/native-tf, whatever the caller's shell asks setup for.
    env: { MLFLOW_TRACKING_URI: 'http://127.0.0.1:9', MLOPS_SKIP_DATA: '1', MLOPS_BACKEND_NOTICE_SHOWN: '', MLOPS_NATIVE_TF: '0' },
  });

test('a failing check stops the pipeline before dvc repro: no stage runs', async () => {
  await writeFile(join(dir, 'params.yaml'), 'bad: true\n');
  const r = await pipeline();
  expect(r.exitCode, r.stderr).toBe(2);
  expect(r.stderr).toContain('params.yaml: split: train + valid + test = 0.95, must be 1');
  expect(r.stderr).toContain('[pipeline] stopped before dvc repro: fix the problems above');
  expect(r.stdout + r.stderr).not.toMatch(/Running stage/);
  expect(existsSync(join(dir, 'ran.txt'))).toBe(false);
}, 120_000);

test('a passing check lets dvc repro run; the notice is printed once and exported; the summary ends the run', async () => {
  await writeFile(join(dir, 'params.yaml'), 'bad: false\n');
  const r = await pipeline();
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr).toContain('check: ok');
  expect(r.all.indexOf("Running stage 'stage'")).toBeGreaterThan(r.all.indexOf('check: ok'));
  expect(await readFile(join(dir, 'ran.txt'), 'utf8')).toBe('1');
  // the scratch repository links the workspace's node_modules, so it sees the workspace's native build if there is one
  const nativeBuilt = Boolean(process.env['MLOPS_NATIVE_TF_DIR']) || existsSync(join(ROOT, 'node_modules/.native-tf'));
  const notices = r.stderr.split('\n').filter((l) => l.startsWith('[pipeline] native TensorFlow backend'));
  expect(notices).toEqual(
    nativeBuilt
      ? ['[pipeline] native TensorFlow backend found: backend auto trains on it from batch 1024 (wasm below, where wasm was faster) and evaluates on it']
      : tfjsNodeInstalled
        ? []
        : ['[pipeline] native TensorFlow backend not built: training uses the wasm backend (else cpu); npm run setup -- --native-tf builds it'],
  );
  expect(r.stdout).toContain('ranking by test roc_auc (higher is better):');
  expect(r.stdout).toContain('  1. m  0.7000  (accuracy 0.8000)');
  expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('1 model evaluated; full table: dvc metrics show (experiments: dvc exp show --only-changed)');
  // Not the full metrics table.
  expect(r.stdout).not.toMatch(/^Path\s+/m);
}, 180_000);

test('without the check app (a branch where it does not exist yet) the pipeline says so and goes on', async () => {
  await rm(join(dir, 'apps/check'), { recursive: true });
  // a stage to run (the previous test left every stage up to date, and an up-to-date pipeline checks nothing)
  await writeFile(join(dir, 'params.yaml'), 'bad: changed\n');
  const r = await pipeline();
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr).toContain('[pipeline] npm run check is not available here');
  expect(r.stdout).toContain('  1. m  0.7000  (accuracy 0.8000)');
}, 180_000);
