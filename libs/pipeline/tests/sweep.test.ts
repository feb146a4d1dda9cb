// The ClearML sweep against the real server: planning (grid, seeded random, every bad input one line), the
// `npm run clearml -- sweep` command refusing bad input with nothing created on the server, and a 2×2 grid on a
// workspace copy (penguins, 3 epochs) run by two real clearml-agent daemons: 4 trials, both workers ran some, 4 dvc
// exp rows pushed back into the workspace, 4 MLflow runs tagged with the trial ids (read with the Python mlflow
// client), the best = the argmax of the trials' last_metrics, the optimizer task with its summary.
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { z } from 'zod';
import { ClearmlClient, gridPoints, objectiveOf, randomPoints } from '@mlops-ts/clearml-client';
import { startLocalMlflowServer, type LocalMlflowServer } from '@mlops-ts/mlflow-client';
import { StageUsageError } from '@mlops-ts/stage-kit';
import { clearmlSdkEnv, resolveClearmlServer, repoRoot, sdkPython, uniqueProjectName, type ClearmlServerAvailable } from '../../../tools/testing/clearml-server.js';
import { startClearmlAgents, type ClearmlAgents } from '../../../tools/testing/clearml-agent.js';
import { penguinsParams, repoParams, runStageCli } from '../../../tools/testing/stage-cli.js';
import { planSweep } from '../src/sweep.js';

const DVC = join(repoRoot, '.venv', 'bin', 'dvc');
const DVC_YAML = join(repoRoot, 'dvc.yaml');

describe('planSweep (no server)', () => {
  it('a 2×2 grid from the command line; the current values; the objective from the metric name', async () => {
    const params = await repoParams();
    const plan = planSweep({ params, dvcYaml: DVC_YAML, cli: { params: { 'models.mlp_small.dropout': '0,0.3', 'models.mlp_small.layers': '[8],[16,8]' } } });
    expect(plan.points).toEqual([
      { 'models.mlp_small.dropout': 0, 'models.mlp_small.layers': [8] },
      { 'models.mlp_small.dropout': 0, 'models.mlp_small.layers': [16, 8] },
      { 'models.mlp_small.dropout': 0.3, 'models.mlp_small.layers': [8] },
      { 'models.mlp_small.dropout': 0.3, 'models.mlp_small.layers': [16, 8] },
    ]);
    expect(plan.stages).toEqual(['train@mlp_small', 'evaluate@mlp_small']);
    expect(plan.objective).toEqual({ metric: 'roc_auc', variant: 'test', higherIsBetter: true });
    expect(plan.current['models.mlp_small.layers']).toEqual([32]);
    expect(planSweep({ params, dvcYaml: DVC_YAML, cli: { metric: 'test_log_loss' } }).objective).toEqual({ metric: 'log_loss', variant: 'test', higherIsBetter: false });
    expect(planSweep({ params, dvcYaml: DVC_YAML, cli: { maxTrials: 3 } }).points).toHaveLength(3);
  });

  it('random search: seeded (same seed, same points), log ranges inside their bounds, integers for integer bounds', () => {
    const space = { lr: { min: 1e-4, max: 1e-2, log: true }, batch: { min: 16, max: 64 }, act: { values: ['relu', 'tanh'] } };
    const a = randomPoints(space, 20, 7);
    expect(randomPoints(space, 20, 7)).toEqual(a);
    expect(randomPoints(space, 20, 8)).not.toEqual(a);
    for (const p of a) {
      expect(p['lr']).toBeGreaterThanOrEqual(1e-4);
      expect(p['lr']).toBeLessThanOrEqual(1e-2);
      expect(Number.isInteger(p['batch'])).toBe(true);
      expect(['relu', 'tanh']).toContain(p['act']);
    }
    expect(() => gridPoints({ lr: { min: 0, max: 1 } })).toThrow(/a grid needs a list of values/);
  });

  it('every bad input is one line naming the problem', async () => {
    const params = await repoParams();
    const bad = (cli: Parameters<typeof planSweep>[0]['cli'], p: Record<string, unknown> = params): string => {
      try {
        planSweep({ params: p, dvcYaml: DVC_YAML, cli });
      } catch (e) {
        expect(e).toBeInstanceOf(StageUsageError);
        expect((e as Error).message.split('\n')).toHaveLength(1);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(bad({ params: { 'models.mlp_small.learning_rate': '0.1,0.2' } })).toMatch(/models\.mlp_small\.learning_rate: unknown key/);
    expect(bad({ params: { 'models.mlp_small.dropout': '0.1,1.5' } })).toMatch(/models\.mlp_small\.dropout: must be < 1/);
    expect(bad({ params: { 'report.title': 'a,b' } })).toMatch(/param 'report\.title' is not read by train@mlp_small \/ evaluate@mlp_small/);
    expect(bad({ params: { 'models.mlp_wide.dropout': '0.1' } })).toMatch(/not read by train@mlp_small|another model/);
    expect(bad({ model: 'nope' })).toMatch(/model 'nope' is not in params\.yaml \(models are: logreg, mlp_small, mlp_wide\)/);
    expect(bad({ metric: 'roc' })).toMatch(/metric 'roc' is not a test metric/);
    expect(bad({ params: { 'models.mlp_small.dropout': '0..0.5' } })).toMatch(/a grid needs a list of values/);
    expect(bad({}, { ...params, sweep: { space: {} } })).toMatch(/nothing to sweep/);
  });
});

const found = await resolveClearmlServer({ log: () => {} });
const server = found.info;
if (!server.available && process.env['CI'] === 'true') throw new Error(`CI=true and no ClearML server: ${server.reason}`);
afterAll(() => found.release());

const taskRows = z.object({
  tasks: z.array(z.object({ id: z.string(), name: z.string(), status: z.string(), type: z.string().nullish(), last_worker: z.string().nullish(), tags: z.array(z.string()).nullish(), last_metrics: z.any() }).loose()),
});

/** The workspace packages (`@mlops-ts/<name>` → its folder) of a copy of this repository. */
async function workspacePackages(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const group of ['libs', 'apps']) {
    for (const d of await readdir(join(dir, group))) {
      const pkg = JSON.parse(await readFile(join(dir, group, d, 'package.json'), 'utf8').catch(() => '{}')) as { name?: string };
      if (pkg.name?.startsWith('@mlops-ts/')) out[pkg.name.slice('@mlops-ts/'.length)] = join(dir, group, d);
    }
  }
  return out;
}

describe.skipIf(!server.available)('npm run clearml -- sweep (real server)', () => {
  const s = server as ClearmlServerAvailable;
  let client: ClearmlClient;
  let scratch: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    client = new ClearmlClient({ apiHost: s.apiHost, webHost: s.webHost, filesHost: s.filesHost, credentials: { accessKey: s.accessKey, secretKey: s.secretKey } });
    scratch = await mkdtemp(join(tmpdir(), 'sweep-'));
    env = { ...clearmlSdkEnv(s, scratch), PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
  });
  afterAll(async () => {
    await client?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });
  const projectExists = async (name: string): Promise<boolean> => (await client.transport.call('projects.get_all', { name: `^${name}$`, search_hidden: true, only_fields: ['id'] }, z.object({ projects: z.array(z.unknown()) }).loose())).projects.length > 0;

  it('bad key, bad value, unknown model, unknown queue: exit 2, one line, nothing created on the server', async () => {
    const project = uniqueProjectName('sweep-bad');
    const cases: [string[], RegExp][] = [
      [['--param', 'models.mlp_small.learning_rate=0.1,0.2'], /unknown key/],
      [['--param', 'models.mlp_small.dropout=0.5,2'], /must be < 1/],
      [['--model', 'nope'], /model 'nope' is not in params\.yaml/],
      [['--queue', `mlops-ts-test-no-such-queue-${Date.now().toString(36)}`], /ClearML queue 'mlops-ts-test-no-such-queue-[a-z0-9]+' does not exist/],
    ];
    for (const [args, message] of cases) {
      const r = await runStageCli('clearml', ['sweep', '--project', project, ...(args.includes('--queue') ? [] : ['--queue', 'default']), ...args], { cwd: repoRoot, env });
      expect(r.exitCode, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n').filter((l) => !l.includes('sweep of ') && !l.includes('warning: MLFLOW_TRACKING_URI'));
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(r.stderr).not.toContain(s.secretKey);
    }
    expect(await projectExists(project)).toBe(false);
  });

  describe('a 2×2 grid on two real clearml-agent daemons', () => {
    let agents: ClearmlAgents | undefined;
    let mlflow: LocalMlflowServer | undefined;
    let ws: string;
    const queue = `mlops-ts-test-sweep-${Date.now().toString(36)}`;
    const experiment = uniqueProjectName('sweep');

    beforeAll(async () => {
      // a workspace: a git + DVC copy of this repository (its files as they are now), penguins, 3 epochs, featurized
      ws = join(scratch, 'ws');
      const files = (await execa('git', ['ls-files', '-co', '--exclude-standard'], { cwd: repoRoot })).stdout.split('\n').filter(Boolean);
      for (const f of files) {
        if (f.startsWith('data/') || f.startsWith('models/') || f.startsWith('reports/')) continue;
        await mkdir(dirname(join(ws, f)), { recursive: true });
        await cp(join(repoRoot, f), join(ws, f), { dereference: false }).catch(() => undefined);
      }
      const params = { ...(await penguinsParams(3)), tracking: { experiment, trackers: ['mlflow'] } };
      await writeFile(join(ws, 'params.yaml'), stringify(params));
      await rm(join(ws, 'dvc.lock'), { force: true });
      await symlink(join(repoRoot, '.venv'), join(ws, '.venv'));
      // node_modules: this repository's, with the workspace packages pointing into the copy
      await mkdir(join(ws, 'node_modules', '@mlops-ts'), { recursive: true });
      for (const e of await readdir(join(repoRoot, 'node_modules'))) if (e !== '@mlops-ts') await symlink(join(repoRoot, 'node_modules', e), join(ws, 'node_modules', e));
      for (const [name, dir] of Object.entries(await workspacePackages(ws))) await symlink(dir, join(ws, 'node_modules', '@mlops-ts', name));
      for (const dir of Object.values(await workspacePackages(repoRoot))) {
        const own = join(dir, 'node_modules');
        if (existsSync(own)) await symlink(own, join(ws, relative(repoRoot, own))).catch(() => undefined);
      }
      const run = async (file: string, args: string[]) => {
        const r = await execa(file, args, { cwd: ws, all: true, reject: false, env: { MLFLOW_TRACKING_URI: '' } });
        if (r.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.exitCode}):\n${r.all}`);
        return String(r.all);
      };
      await run('git', ['init', '-q', '-b', 'main']);
      await run('git', ['config', 'user.email', 'test@example.com']);
      await run('git', ['config', 'user.name', 'test']);
      await run(DVC, ['config', '--local', 'cache.dir', join(scratch, 'dvc-cache')]);
      await run('git', ['add', '-A']);
      await run('git', ['commit', '-q', '-m', 'workspace']);
      await run(DVC, ['repro', 'featurize']);
      await run('git', ['add', '-A']);
      await run('git', ['commit', '-q', '-m', 'featurized']);
      mlflow = await startLocalMlflowServer({ dir: join(scratch, 'mlflow') });
      agents = await startClearmlAgents({ server: s, queue, count: 2, workDir: join(scratch, 'agents') });
    }, 300_000);
    afterAll(async () => {
      await agents?.stop();
      await mlflow?.stop();
    });

    it('4 trials shared by both workers; 4 dvc exp rows here; 4 MLflow runs tagged with the trial ids; the best is the argmax of last_metrics', async () => {
      const project = uniqueProjectName('sweep-grid');
      const t0 = Date.now();
      const r = await runStageCli(
        'clearml',
        ['sweep', '--queue', queue, '--project', project, '--param', 'models.mlp_small.dropout=0,0.3', '--param', 'models.mlp_small.layers=[8],[16]', '--out', 'sweep.json', '--pickup-timeout', '240'],
        { cwd: ws, env: { ...env, MLFLOW_TRACKING_URI: mlflow!.uri } },
      );
      const ms = Date.now() - t0;
      if (r.exitCode !== 0) for (const a of agents!.agents) console.error(`--- ${a.workerId}:\n${await agents!.logTail(a, 40)}`);
      expect(r.exitCode, `${r.stderr}\n${r.stdout}`).toBe(0);
      expect(r.stderr).not.toContain(s.secretKey);
      const out = JSON.parse(await readFile(join(ws, 'sweep.json'), 'utf8')) as {
        optimizer: string;
        best: { task: string; exp: string; value: number; params: Record<string, unknown> };
        trials: { task: string; exp: string; status: string; worker: string; value: number; params: Record<string, unknown> }[];
      };
      expect(out.trials).toHaveLength(4);
      expect(out.trials.map((t) => t.status)).toEqual(['completed', 'completed', 'completed', 'completed']);

      // ClearML: the trials are clones under the optimizer, run by both agents, their objective in last_metrics
      const optimizer = await client.tasks.get(out.optimizer);
      expect([optimizer.type, optimizer.status]).toEqual(['optimizer', 'completed']);
      const trials = (await client.transport.call('tasks.get_all', { parent: out.optimizer, search_hidden: true, only_fields: ['id', 'name', 'status', 'type', 'last_worker', 'tags', 'last_metrics'] }, taskRows)).tasks;
      expect(trials.map((t) => t.id).sort()).toEqual(out.trials.map((t) => t.task).sort());
      for (const t of trials) {
        expect(t.status).toBe('completed');
        expect(t.tags).toEqual(expect.arrayContaining(['optimization', `opt: ${out.optimizer}`]));
      }
      expect([...new Set(trials.map((t) => t.last_worker))].sort()).toEqual(agents!.agents.map((a) => a.workerId).sort());
      const values = new Map(trials.map((t) => [t.id, objectiveOf(t.last_metrics, { metric: 'roc_auc', variant: 'test' })]));
      for (const t of out.trials) expect(t.value).toBe(values.get(t.task));
      const max = Math.max(...[...values.values()].map((v) => v!));
      expect(out.best.value).toBe(max);
      expect(values.get(out.best.task)).toBe(max);
      expect(r.stdout).toContain(`best: test_roc_auc=${max} task ${out.best.task}`);
      const hp = await client.tasks.getHyperParams(out.best.task);
      expect(hp['sweep']).toEqual({ 'models.mlp_small.dropout': String(out.best.params['models.mlp_small.dropout']), 'models.mlp_small.layers': JSON.stringify(out.best.params['models.mlp_small.layers']) });
      const summary = JSON.parse((await client.artifacts.download(out.optimizer, 'summary')).toString('utf8')) as { table: unknown[][] };
      expect(summary.table).toHaveLength(5);
      expect(summary.table[1]![0]).toBe(out.best.task);

      // DVC: each trial is an experiment of the workspace's HEAD, pushed back by the agents
      const list = await execa(DVC, ['exp', 'list', '--name-only'], { cwd: ws });
      expect(list.stdout.split('\n').map((l) => l.trim()).filter(Boolean).sort()).toEqual(out.trials.map((t) => t.exp).sort());
      const show = await execa(DVC, ['exp', 'show', '--json'], { cwd: ws });
      expect(show.stdout).toContain(out.best.exp);

      // MLflow (the official Python client as oracle): one run per trial, tagged with its task id, same test metric
      const py = await execa(
        sdkPython,
        [
          '-c',
          `import json, mlflow; c = mlflow.MlflowClient(${JSON.stringify(mlflow!.uri)}); e = c.get_experiment_by_name(${JSON.stringify(experiment)}); runs = c.search_runs([e.experiment_id]); print(json.dumps([{"tag": r.data.tags.get("mlops.pipeline_run_id"), "auc": r.data.metrics.get("test_roc_auc"), "status": r.info.status} for r in runs]))`,
        ],
        { reject: false },
      );
      expect(py.exitCode, py.stderr).toBe(0);
      const runs = JSON.parse(py.stdout.trim().split('\n').pop()!) as { tag: string; auc: number; status: string }[];
      expect(runs.map((x) => x.tag).sort()).toEqual(out.trials.map((t) => t.task).sort());
      for (const run of runs) {
        expect(run.status).toBe('FINISHED');
        expect(run.auc).toBeCloseTo(values.get(run.tag)!, 9);
      }
      console.log(`[sweep] 2×2 grid on 2 agents: ${ms} ms (noisy: shared machine); workers ${out.trials.map((t) => t.worker).join(', ')}`);
    }, 600_000);
  });
});
