// The repository's own pipeline in ClearML queue mode, as a user runs it: a fresh copy of the repository (5,000 rows,
// 2 epochs), two real clearml-agent daemons on a unique queue, `npm run clearml -- pipeline --queue <q>` against the
// real ClearML server, the stages tracking to a real MLflow server and to ClearML. Checked through the REST API:
// the controller and one step per DVC stage (foreach expanded) with the controller as parent, all completed, both
// workers used, the Pipeline configuration's graph equal to `dvc dag`'s (DVC is the oracle), each step's
// hyperparameters equal to the params DVC recorded for the stage in dvc.lock, `dvc status` clean afterwards. Then the
// web UI in headless Chromium: the pipeline's DAG (every stage's node) and the trained models compared side by side
// (scalars and hyperparameters), with screenshots in tmp/clearml-ui/pipeline-queue/.
import { ClearmlClient, parsePipelineConfig, pipelineProjectName, type PipelineConfig } from '@mlops-ts/clearml-client';
import { createDvc, restoreTrackedData } from '@mlops-ts/dvc-adapter';
import { MlflowClient, startLocalMlflowServer, type LocalMlflowServer } from '@mlops-ts/mlflow-client';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inject } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { pipelineRepo } from './workspace-copy.js';
import { startClearmlAgents, type ClearmlAgents } from '../../tools/testing/clearml-agent.js';
import { requireClearml, uniqueProjectName } from '../../tools/testing/clearml-server.js';
import { checkClearmlCompareView, checkClearmlPipelineDag, findChromium, openClearmlWebUi } from '../../tools/testing/clearml-web-ui.js';

const root = resolve(import.meta.dirname, '../..');
const DVC = join(root, '.venv/bin/dvc');
const MODELS = ['logreg', 'mlp_small', 'mlp_wide'];
const STAGES = ['prepare', 'featurize', ...MODELS.map((m) => `train@${m}`), ...MODELS.map((m) => `evaluate@${m}`), 'compare', 'report'];
const PIPELINE = 'dvc-pipeline-queue';
const server = inject('clearml');
const chromiumPath = process.env['CHROMIUM'] || (await findChromium(process.env['PATH']));
if (server.available && !existsSync(chromiumPath)) {
  if (process.env['CI'] === 'true') throw new Error(`no Chromium at ${chromiumPath} under CI=true (tools/setup.sh installs it; CHROMIUM=<path> overrides)`);
  console.warn(`[pipeline-clearml-queue] !!! NO CHROMIUM at ${chromiumPath}: the web UI test is SKIPPED (run tools/setup.sh or set CHROMIUM)`);
}

const taskRows = z.object({
  tasks: z.array(z.object({ id: z.string(), name: z.string(), status: z.string(), parent: z.string().nullish(), project: z.string().nullish(), last_worker: z.string().nullish(), type: z.string().nullish(), system_tags: z.array(z.string()).nullish(), tags: z.array(z.string()).nullish() }).loose()),
});

/**
 * `dvc dag --dot` → stage → the stages it depends on (DVC's own graph: the oracle for the Pipeline configuration).
 * DVC draws `.dvc` pointers (the raw data) as nodes too: they are not stages, so not steps.
 */
function dotParents(dot: string): Record<string, string[]> {
  const parents: Record<string, string[]> = {};
  const stage = (n: string) => !n.endsWith('.dvc');
  for (const m of dot.matchAll(/^\s*"([^"]+)";?\s*$/gm)) if (stage(m[1]!)) parents[m[1]!] ??= [];
  for (const m of dot.matchAll(/"([^"]+)"\s*->\s*"([^"]+)"/g)) if (stage(m[1]!) && stage(m[2]!)) (parents[m[2]!] ??= []).push(m[1]!);
  for (const k of Object.keys(parents)) parents[k]!.sort();
  return parents;
}

/** dvc.lock's params of a stage as ClearML hyperparameter strings (nested keys dotted, lists as JSON). */
function lockParams(entry: { params?: Record<string, Record<string, unknown>> }): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (v: unknown, key: string): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) walk(x, `${key}.${k}`);
    else out[key] = Array.isArray(v) ? JSON.stringify(v) : v === null ? '' : String(v);
  };
  for (const [file, keys] of Object.entries(entry.params ?? {})) for (const [k, v] of Object.entries(keys)) walk(v, file === 'params.yaml' ? k : `${file}:${k}`);
  return out;
}

describe.skipIf(!server.available)('the repository pipeline in ClearML queue mode with two real agents', () => {
  const s = server.available ? requireClearml(server) : undefined!;
  const project = uniqueProjectName('pipeline-queue');
  const queue = `mlops-ts-test-e2e-queue-${Date.now().toString(36)}`;
  const shotsDir = join(root, 'tmp', 'clearml-ui', 'pipeline-queue');
  let work: string;
  let repo: string;
  let mlflow: LocalMlflowServer;
  let agents: ClearmlAgents | undefined;
  let client: ClearmlClient;
  let env: Record<string, string>;
  let run: { webUrl: string; projectId: string; controllerId: string } | undefined;
  let steps: z.infer<typeof taskRows>['tasks'] = [];
  let dotParentsOf: Record<string, string[]> = {};

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'mlops-e2e-pipeline-queue-'));
    repo = join(work, 'repo');
    await rm(shotsDir, { recursive: true, force: true });
    await pipelineRepo<{ data: { rows: number }; train: { epochs: number }; report: { bootstrap: { resamples: number } }; tracking: { clearml: Record<string, unknown> } }>(repo, (params) => {
      params.data.rows = 5_000;
      params.train.epochs = 2;
      params.report.bootstrap.resamples = 50;
      params.tracking.clearml = { ...params.tracking.clearml, project };
    });
    mlflow = await startLocalMlflowServer({ dir: join(work, 'mlflow'), mlflowBin: join(root, '.venv/bin/mlflow') });
    const clearmlEnv = {
      CLEARML_API_HOST: s.apiHost,
      CLEARML_WEB_HOST: s.webHost,
      CLEARML_FILES_HOST: s.filesHost,
      CLEARML_API_ACCESS_KEY: s.accessKey,
      CLEARML_API_SECRET_KEY: s.secretKey,
    };
    env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? work, ...clearmlEnv, CLEARML_CONFIG_FILE: join(work, 'no-clearml.conf'), MLFLOW_TRACKING_URI: mlflow.uri };
    // the raw data into the copy's DVC cache (the agents' checkouts share it)
    await restoreTrackedData({ dvc: createDvc({ cwd: repo, env }) });
    // the agents' machine is set up for the stages' trackers: the MLflow server in their environment
    agents = await startClearmlAgents({ server: s, queue, count: 2, workDir: join(work, 'agents'), env: { MLFLOW_TRACKING_URI: mlflow.uri, MLOPS_PIPELINE_RUN_ID: `e2e-queue-${Date.now()}` } });
    client = new ClearmlClient({ apiHost: s.apiHost, webHost: s.webHost, filesHost: s.filesHost, credentials: { accessKey: s.accessKey, secretKey: s.secretKey } });
  }, 600_000);

  afterAll(async () => {
    await agents?.stop();
    if (agents) for (const a of agents.agents) expect(() => process.kill(a.pid, 0)).toThrow();
    await client?.close();
    await mlflow?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('npm run clearml -- pipeline --queue: every stage runs on the agents; controller, steps, DAG, params, dvc status', async () => {
    const t0 = Date.now();
    // the pickup timeout counts from a step's enqueueing: the third train@ step waits there while both agents train
    const r = await execa('npm', ['run', '--silent', 'clearml', '--', 'pipeline', '--queue', queue, '--project', project, '--name', PIPELINE, '--pickup-timeout', '900'], { cwd: repo, env, extendEnv: false, reject: false, all: true });
    const ms = Date.now() - t0;
    if (r.exitCode !== 0) {
      for (const a of agents!.agents) console.error(`--- ${a.workerId}:\n${await agents!.logTail(a, 40)}`);
      throw new Error(`npm run clearml -- pipeline --queue exited ${r.exitCode}:\n${String(r.all).split('\n').slice(-40).join('\n')}`);
    }
    // the printed line: the pipeline's page in the web UI
    const url = String(r.stdout).trim().split('\n').pop()!;
    const m = new RegExp(`^${s.webHost.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/pipelines/([0-9a-f]{32})/experiments/([0-9a-f]{32})$`).exec(url);
    expect(m, `stdout: ${r.stdout}`).not.toBeNull();
    run = { webUrl: url, projectId: m![1]!, controllerId: m![2]! };

    // controller: a completed pipeline controller in <project>/.pipelines/<name>
    const controller = await client.tasks.get(run.controllerId);
    expect([controller.type, controller.status]).toEqual(['controller', 'completed']);
    expect(controller.system_tags).toContain('pipeline');
    expect(controller.project).toBe(run.projectId);
    expect((await client.projects.get(run.projectId)).name).toBe(pipelineProjectName(project, PIPELINE));

    // one step per stage (foreach expanded), child of the controller, completed, run by the agents (both of them)
    steps = (await client.transport.call('tasks.get_all', { parent: run.controllerId, search_hidden: true, only_fields: ['id', 'name', 'status', 'parent', 'project', 'last_worker', 'type', 'system_tags'] }, taskRows)).tasks;
    expect(steps.map((t) => t.name).sort()).toEqual([...STAGES].sort());
    for (const t of steps) {
      expect([t.name, t.parent, t.project, t.status]).toEqual([t.name, run.controllerId, run.projectId, 'completed']);
      expect(agents!.agents.map((a) => a.workerId)).toContain(t.last_worker);
    }
    const workers = [...new Set(steps.map((t) => t.last_worker))].sort();
    expect(workers).toEqual(agents!.agents.map((a) => a.workerId).sort());

    // the Pipeline configuration: every stage, its parents = DVC's graph (`dvc dag --dot`), the step that ran it
    const dag: PipelineConfig = parsePipelineConfig((await client.tasks.getConfiguration(run.controllerId, ['Pipeline']))['Pipeline']?.value ?? 'null');
    const dot = (await execa(DVC, ['dag', '--dot'], { cwd: repo, env, extendEnv: false })).stdout;
    const dvcParents = dotParents(dot);
    dotParentsOf = dvcParents;
    expect(Object.keys(dvcParents).sort()).toEqual([...STAGES].sort());
    expect(Object.fromEntries(Object.entries(dag).map(([k, n]) => [k, [...n.parents].sort()]))).toEqual(dvcParents);
    for (const [name, node] of Object.entries(dag)) {
      expect([name, node.status, node.queue, node.job_id]).toEqual([name, 'completed', queue, steps.find((t) => t.name === name)!.id]);
    }

    // each step's hyperparameters: the stage's params, as DVC recorded them for the stage in dvc.lock
    const lock = z.object({ stages: z.record(z.string(), z.object({ params: z.record(z.string(), z.record(z.string(), z.unknown())).optional() }).loose()) }).parse(parseYaml(await readFile(join(repo, 'dvc.lock'), 'utf8')));
    expect(Object.keys(lock.stages).sort()).toEqual([...STAGES].sort());
    for (const t of steps) {
      const want = lockParams(lock.stages[t.name]!);
      const got = (await client.tasks.getHyperParams(t.id))['params'] ?? {};
      expect([t.name, got]).toEqual([t.name, want]);
    }
    expect(Object.keys(lockParams(lock.stages['train@mlp_wide']!))).toEqual(expect.arrayContaining(['models.mlp_wide.layers', 'train.epochs', 'tracking.experiment']));

    // the agents' results are in this workspace copy: dvc status clean, the pipeline's files there
    expect(JSON.parse((await execa(DVC, ['status', '--json'], { cwd: repo, env, extendEnv: false })).stdout)).toEqual({});
    for (const f of ['metrics/compare.json', 'reports/report.md', ...MODELS.map((x) => `metrics/eval/${x}.json`), ...MODELS.map((x) => `models/${x}/model.json`)]) expect(existsSync(join(repo, f)), f).toBe(true);

    // the stages tracked to both servers from the agents' checkouts
    const modelTasks = await trainedModelTasks();
    expect(Object.keys(modelTasks).sort()).toEqual(MODELS);
    const mlflowClient = new MlflowClient({ trackingUri: mlflow.uri });
    try {
      const exp = await mlflowClient.getExperimentByName('flights-delay');
      expect(exp).toBeDefined();
      const runs = await mlflowClient.searchAllRuns({ experimentIds: [exp!.experiment_id] });
      expect(runs.filter((x) => x.info.status === 'FINISHED').length).toBeGreaterThanOrEqual(MODELS.length);
    } finally {
      await mlflowClient.close();
    }
    console.log(`[pipeline-clearml-queue] ${STAGES.length} stages on ${workers.join(', ')} in ${ms} ms (noisy: shared 2-core machine); ${url}`);
  }, 900_000);

  test.skipIf(!existsSync(chromiumPath))('the web UI draws the pipeline DAG and compares the trained models side by side (headless Chromium)', async () => {
    expect(run, 'the queue run above did not complete').toBeDefined();
    const models = await trainedModelTasks();
    expect(Object.keys(models).sort()).toEqual(MODELS);
    const modelsProject = (await client.tasks.get(models['logreg']!)).project!;
    const ui = await openClearmlWebUi({ webHost: s.webHost, user: s.webUser ?? 'oracle', ...(s.webPassword ? { password: s.webPassword } : {}), shotsDir, chromiumPath });
    try {
      // the page the CLI printed: every stage's node drawn, completed, one arrow per dependency
      const dag = await checkClearmlPipelineDag(ui, { projectId: run!.projectId, controllerId: run!.controllerId, expectNodes: STAGES, expectArrows: Object.values(dotParentsOf).reduce((n, p) => n + p.length, 0) });
      expect(dag.nodes.map((n) => n.name).sort()).toEqual([...STAGES].sort());
      expect(dag.nodes.every((n) => n.status === 'completed')).toBe(true);
      // the trained models compared: a line per model in the learning curves, each model's hyperparameters
      const cmp = await checkClearmlCompareView(ui, {
        projectId: modelsProject,
        taskIds: MODELS.map((m) => models[m]!),
        expectTasks: MODELS,
        expectScalars: ['loss', 'accuracy'],
        expectHyperParams: { model: ['type'], train: ['epochs'] },
      });
      const section = (task: string, name: string) => Object.entries(cmp.hyperParams[task] ?? {}).find(([k]) => k.toLowerCase() === name)?.[1] ?? {};
      for (const m of MODELS) {
        expect(section(m, 'train')['epochs']).toBe('2');
        expect(section(m, 'properties')['mlops.dvc_stage']).toBe(`train@${m}`);
      }
      expect(section('logreg', 'model')['type']).toBe('logreg');
      expect(section('mlp_wide', 'model')['layers']).toMatch(/^\[128, ?64\]$/);
      expect(cmp.charts.find((c) => c.title === 'valid')?.series.sort()).toEqual(MODELS);
      console.log(`[pipeline-clearml-queue] web UI: ${dag.url.split('?')[0]}, ${cmp.scalarsUrl}; screenshots: ${ui.screenshots.join(', ')}`);
    } finally {
      await ui.close();
    }
  }, 300_000);

  /** The training task of each model in the ClearML project the stages track to (model name → task id). */
  async function trainedModelTasks(): Promise<Record<string, string>> {
    const proj = await client.transport.call('projects.get_all', { name: `^${project.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, only_fields: ['id'] }, z.object({ projects: z.array(z.object({ id: z.string() }).loose()) }));
    const projectId = proj.projects[0]?.id;
    if (!projectId) return {};
    const tasks = (await client.transport.call('tasks.get_all', { project: [projectId], type: ['training'], only_fields: ['id', 'name', 'status', 'tags'] }, taskRows)).tasks;
    const out: Record<string, string> = {};
    for (const t of tasks) if (t.status === 'completed' && MODELS.includes(t.name)) out[t.name] ??= t.id;
    return out;
  }
});
