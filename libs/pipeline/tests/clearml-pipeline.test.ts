// dvc.yaml → ClearML pipeline against the real ClearML server: local mode on a temp git + DVC repository, a failing
// stage, queue mode with two real clearml-agent daemons, an unknown queue, a queue no agent serves. Read back
// through the REST API (tasks, parents, statuses, hyperparameters, the Pipeline configuration, consoles).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { z } from 'zod';
import {
  ClearmlClient,
  ClearmlPipelineAbortedError,
  ClearmlPipelinePickupTimeoutError,
  ClearmlPipelineQueueError,
  ClearmlPipelineStepError,
  parsePipelineConfig,
  pipelineProjectName,
  readTaskLog,
  type PipelineConfig,
} from '@mlops-ts/clearml-client';
import { clearmlSdkEnv, resolveClearmlServer, repoRoot, sdkPython, uniqueProjectName, type ClearmlServerAvailable } from '../../../tools/testing/clearml-server.js';
import { startClearmlAgents, type ClearmlAgents } from '../../../tools/testing/clearml-agent.js';
import { dvcPipelineStages, runClearmlDvcPipeline } from '../src/clearml-pipeline.js';

const DVC = join(repoRoot, '.venv', 'bin', 'dvc');
// shard.pause > 0: each shard waits (up to that many seconds) until the other one has started too, in the folder
// shard.barrier shared by the agents on this machine, so that the queue test proves that the two agents ran the two
// independent steps at the same time, whatever the agents' polling rhythm under load (a fixed sleep could let one
// agent finish both before the other polled)
const PARAMS = { prepare: { rows: 3 }, shard: { scale: 2, pause: 0, barrier: 'none' } };
const SEED = { tracked: { 'seed.txt': 'seed 1\n' } };

/** prepare → shard@a, shard@b (foreach) → report: shell commands writing small files. */
function dvcYaml(): Record<string, unknown> {
  return {
    stages: {
      prepare: {
        cmd: 'mkdir -p data && for i in $(seq 1 ${prepare.rows}); do echo "row $i"; done > data/base.txt',
        // seed.txt is tracked by a .dvc pointer: an agent's fresh checkout must check it out before the stage runs
        deps: ['seed.txt'],
        params: ['prepare.rows'],
        outs: ['data/base.txt'],
      },
      shard: {
        foreach: ['a', 'b'],
        do: {
          cmd: 'if [ ${shard.pause} -gt 0 ]; then mkdir -p ${shard.barrier} && touch ${shard.barrier}/${item} && n=0 && while [ ! -e ${shard.barrier}/a ] || [ ! -e ${shard.barrier}/b ]; do n=$((n + 1)); if [ $n -gt $((${shard.pause} * 2)) ]; then echo "shard ${item}: the other shard did not start within ${shard.pause} s" >&2; exit 1; fi; sleep 0.5; done; fi && mkdir -p shards && cp data/base.txt shards/${item}.txt && echo "shard ${item} x${shard.scale}" >> shards/${item}.txt',
          deps: ['data/base.txt'],
          params: ['shard.scale', 'shard.pause', 'shard.barrier'],
          outs: ['shards/${item}.txt'],
        },
      },
      report: {
        cmd: 'echo "{\\"lines\\": $(cat shards/a.txt shards/b.txt | wc -l)}" > metrics.json',
        deps: ['shards/a.txt', 'shards/b.txt'],
        metrics: [{ 'metrics.json': { cache: false } }],
      },
    },
  };
}

interface Repo {
  dir: string;
  run(file: string, args: string[]): Promise<string>;
  dvcStatus(): Promise<Record<string, unknown>>;
  remove(): Promise<void>;
}

async function makeRepo(prefix: string, yaml: Record<string, unknown>, params: Record<string, unknown>, opts: { tracked?: Record<string, string> } = {}): Promise<Repo> {
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  const files: Record<string, string> = { 'dvc.yaml': stringify(yaml), 'params.yaml': stringify(params), '.gitignore': '' };
  for (const [f, c] of Object.entries(files)) {
    await mkdir(dirname(join(dir, f)), { recursive: true });
    await writeFile(join(dir, f), c);
  }
  const run = async (file: string, args: string[]) => {
    const r = await execa(file, args, { cwd: dir, all: true, reject: false });
    if (r.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.exitCode}):\n${r.all}`);
    return String(r.all);
  };
  await run('git', ['init', '-q', '-b', 'main']);
  await run('git', ['config', 'user.email', 'test@example.com']);
  await run('git', ['config', 'user.name', 'test']);
  await run(DVC, ['init', '-q']);
  await run(DVC, ['config', 'core.analytics', 'false']);
  for (const [f, c] of Object.entries(opts.tracked ?? {})) {
    await writeFile(join(dir, f), c);
    await run(DVC, ['add', '-q', f]);
  }
  await run('git', ['add', '-A']);
  await run('git', ['commit', '-q', '-m', 'fixture']);
  return {
    dir,
    run,
    dvcStatus: async () => JSON.parse((await execa(DVC, ['status', '--json'], { cwd: dir })).stdout) as Record<string, unknown>,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

const taskRowSchema = z.object({ tasks: z.array(z.object({ id: z.string(), name: z.string(), status: z.string(), parent: z.string().nullish(), project: z.string().nullish(), last_worker: z.string().nullish(), type: z.string().nullish(), system_tags: z.array(z.string()).nullish() }).loose()) });

const found = await resolveClearmlServer({ log: () => {} });
const server = found.info;
// like the vitest fixture: never pass CI by skipping
if (!server.available && process.env['CI'] === 'true') throw new Error(`CI=true and no ClearML server: ${server.reason}`);
afterAll(() => found.release());

describe.skipIf(!server.available)('dvc.yaml as a ClearML pipeline (real server)', () => {
  const s = server as ClearmlServerAvailable;
  let client: ClearmlClient;
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  beforeAll(() => {
    client = new ClearmlClient({ apiHost: s.apiHost, webHost: s.webHost, filesHost: s.filesHost, credentials: { accessKey: s.accessKey, secretKey: s.secretKey } });
  });
  afterAll(() => client?.close());

  const stepTasks = async (controllerId: string) =>
    (await client.transport.call('tasks.get_all', { parent: controllerId, search_hidden: true, only_fields: ['id', 'name', 'status', 'parent', 'project', 'last_worker', 'type', 'system_tags'] }, taskRowSchema)).tasks;
  const dagOf = async (controllerId: string): Promise<PipelineConfig> => parsePipelineConfig((await client.tasks.getConfiguration(controllerId, ['Pipeline']))['Pipeline']?.value ?? 'null');

  it('dvc.yaml → steps: foreach expanded, parents from deps and outs, params from params.yaml', async () => {
    const repo = await makeRepo('clearml-dag', dvcYaml(), PARAMS, SEED);
    try {
      const stages = dvcPipelineStages(join(repo.dir, 'dvc.yaml'));
      expect(stages.map((x) => [x.stage, x.parents])).toEqual([
        ['prepare', []],
        ['shard@a', ['prepare']],
        ['shard@b', ['prepare']],
        ['report', ['shard@a', 'shard@b']],
      ]);
      expect(stages.find((x) => x.stage === 'shard@b')!.params).toEqual({ 'shard.scale': 2, 'shard.pause': 0, 'shard.barrier': 'none' });
      expect(stages.find((x) => x.stage === 'report')!.artifacts).toEqual([{ path: 'metrics.json', kind: 'metrics' }]);
    } finally {
      await repo.remove();
    }
  });

  it('local mode: controller + step tasks with parents, statuses, DAG config, params; dvc status clean; a second run is cached', async () => {
    const repo = await makeRepo('clearml-local', dvcYaml(), PARAMS, SEED);
    const project = uniqueProjectName('pipeline-local');
    try {
      const t0 = Date.now();
      const run = await runClearmlDvcPipeline({ client, dvcYaml: join(repo.dir, 'dvc.yaml'), project, name: 'dvc-local', dvcBin: DVC, env: process.env, log });
      const firstMs = Date.now() - t0;
      expect(run.webUrl).toBe(`${s.webHost}/pipelines/${run.projectId}/experiments/${run.controllerId}`);
      expect(lines).toContain(`ClearML pipeline page: ${run.webUrl}`);

      const controller = await client.tasks.get(run.controllerId);
      expect(controller.type).toBe('controller');
      expect(controller.status).toBe('completed');
      expect(controller.system_tags).toContain('pipeline');
      expect(controller.runtime?.['_pipeline_hash']).toMatch(/^[0-9a-f]{32}:1\.0\.0$/);
      const pipelineProject = await client.projects.get(run.projectId);
      expect(pipelineProject.name).toBe(pipelineProjectName(project, 'dvc-local'));
      expect(pipelineProject.system_tags).toEqual(expect.arrayContaining(['pipeline', 'hidden']));
      expect((await client.tasks.getHyperParams(run.controllerId))['pipeline']).toEqual({ default_queue: '', add_pipeline_tags: 'False', target_project: 'True' });

      const tasks = await stepTasks(run.controllerId);
      expect(tasks.map((t) => t.name).sort()).toEqual(['prepare', 'report', 'shard@a', 'shard@b']);
      for (const t of tasks) {
        expect(t.parent).toBe(run.controllerId);
        expect(t.project).toBe(run.projectId);
        expect(t.status).toBe('completed');
      }
      const dag = await dagOf(run.controllerId);
      expect(Object.keys(dag)).toEqual(['prepare', 'shard@a', 'shard@b', 'report']);
      expect(dag['report']!.parents).toEqual(['shard@a', 'shard@b']);
      expect(dag['shard@a']!.parents).toEqual(['prepare']);
      for (const [name, node] of Object.entries(dag)) {
        expect(node.status).toBe('completed');
        expect(node.job_id).toBe(tasks.find((t) => t.name === name)!.id);
      }
      // each step's hyperparameters are the stage's params, read from params.yaml
      const byName = new Map(tasks.map((t) => [t.name, t.id]));
      expect((await client.tasks.getHyperParams(byName.get('prepare')!))['params']).toEqual({ 'prepare.rows': String(PARAMS.prepare.rows) });
      expect((await client.tasks.getHyperParams(byName.get('shard@a')!))['params']).toEqual({ 'shard.scale': '2', 'shard.pause': '0', 'shard.barrier': 'none' });
      // outs / metrics as artifacts
      const metricsArtifact = await client.artifacts.download(byName.get('report')!, 'metrics.json');
      expect(JSON.parse(metricsArtifact.toString('utf8'))).toEqual({ lines: 8 });
      expect((await client.artifacts.list(byName.get('shard@b')!)).map((a) => a.key)).toEqual(['shards_b.txt']);
      // the official SDK reads the pipeline back (PipelineController.get rebuilds each node from the configuration)
      const sdk = await execa(sdkPython, [join(import.meta.dirname, 'sdk-pipeline.py'), run.controllerId], { env: { ...process.env, ...clearmlSdkEnv(s, repo.dir) }, reject: false });
      expect(sdk.exitCode, sdk.stderr).toBe(0);
      const read = JSON.parse(sdk.stdout.trim().split('\n').pop()!) as { status: string; nodes: Record<string, { parents: string[]; status: string; executed: string; parameters: Record<string, string> }> };
      expect(read.status).toBe('completed');
      expect(Object.fromEntries(Object.entries(read.nodes).map(([k, n]) => [k, [n.parents, n.status, n.executed]]))).toEqual(
        Object.fromEntries(['prepare', 'shard@a', 'shard@b', 'report'].map((k) => [k, [dag[k]!.parents, 'completed', byName.get(k)]])),
      );
      expect(read.nodes['shard@b']!.parameters).toEqual({ 'params/shard.scale': '2', 'params/shard.pause': '0', 'params/shard.barrier': 'none' });
      // the DVC side is right
      expect(await repo.dvcStatus()).toEqual({});
      expect(await readFile(join(repo.dir, 'shards/b.txt'), 'utf8')).toBe('row 1\nrow 2\nrow 3\nshard b x2\n');

      // second run: nothing changed, every step is cached
      const again = await runClearmlDvcPipeline({ client, dvcYaml: join(repo.dir, 'dvc.yaml'), project, name: 'dvc-local', dvcBin: DVC, env: process.env, log });
      expect(again.steps.map((x) => x.status)).toEqual(['cached', 'cached', 'cached', 'cached']);
      const dag2 = await dagOf(again.controllerId);
      expect(Object.values(dag2).map((n) => n.status)).toEqual(['cached', 'cached', 'cached', 'cached']);
      expect((await stepTasks(again.controllerId)).every((t) => t.status === 'completed' && (t.system_tags ?? []).includes('cached'))).toBe(true);
      expect(await repo.dvcStatus()).toEqual({});
      console.log(`[clearml-pipeline] local run ${firstMs} ms, cached rerun ok`);
    } finally {
      await repo.remove();
    }
  });

  it('a failing stage: its step and the pipeline fail, its log tail is in its console, later steps do not run', async () => {
    const yaml = {
      stages: {
        first: { cmd: 'echo one > one.txt', outs: ['one.txt'] },
        broken: { cmd: 'cat one.txt && echo "boom: the input is wrong" >&2 && exit 3', deps: ['one.txt'], outs: ['two.txt'] },
        after: { cmd: 'cp two.txt three.txt', deps: ['two.txt'], outs: ['three.txt'] },
      },
    };
    const repo = await makeRepo('clearml-fail', yaml, {});
    try {
      const err = await runClearmlDvcPipeline({ client, dvcYaml: join(repo.dir, 'dvc.yaml'), project: uniqueProjectName('pipeline-fail'), dvcBin: DVC, env: process.env, log }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ClearmlPipelineStepError);
      const e = err as ClearmlPipelineStepError;
      expect(e.step).toBe('broken');
      expect(e.message.split('\n')).toHaveLength(1);
      expect(e.message).toContain("pipeline step 'broken' failed");
      expect(e.logTail.join('\n')).toContain('boom: the input is wrong');
      const controller = await client.tasks.get(e.controllerId!);
      expect(controller.status).toBe('failed');
      const tasks = await stepTasks(e.controllerId!);
      expect(Object.fromEntries(tasks.map((t) => [t.name, t.status]))).toEqual({ first: 'completed', broken: 'failed' });
      expect((await readTaskLog(client, e.taskId)).join('\n')).toContain('boom: the input is wrong');
      const dag = await dagOf(e.controllerId!);
      expect(Object.fromEntries(Object.entries(dag).map(([k, n]) => [k, n.status]))).toEqual({ first: 'completed', broken: 'failed', after: 'skipped' });
    } finally {
      await repo.remove();
    }
  });

  it('unknown queue: one clear error, the controller failed, no step created', async () => {
    const repo = await makeRepo('clearml-noqueue', dvcYaml(), PARAMS, SEED);
    try {
      const queue = `mlops-ts-test-no-such-queue-${Date.now().toString(36)}`;
      const err = await runClearmlDvcPipeline({ client, dvcYaml: join(repo.dir, 'dvc.yaml'), project: uniqueProjectName('pipeline-noqueue'), queue, dvcBin: DVC, env: process.env, log }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ClearmlPipelineQueueError);
      const e = err as ClearmlPipelineQueueError;
      expect(e.queue).toBe(queue);
      expect(e.message.split('\n')).toHaveLength(1);
      expect(e.message).toContain(`ClearML queue '${queue}' does not exist`);
      expect((await client.tasks.get(e.controllerId!)).status).toBe('failed');
      expect(await stepTasks(e.controllerId!)).toEqual([]);
    } finally {
      await repo.remove();
    }
  });

  it('a queue no agent serves: a timeout naming the queue and the step, the pipeline failed, nothing left queued', async () => {
    const repo = await makeRepo('clearml-nopickup', dvcYaml(), PARAMS, SEED);
    try {
      const queue = `mlops-ts-test-idle-queue-${Date.now().toString(36)}`;
      const queueId = await client.queues.create(queue);
      const err = await runClearmlDvcPipeline({ client, dvcYaml: join(repo.dir, 'dvc.yaml'), project: uniqueProjectName('pipeline-nopickup'), queue, pickupTimeoutMs: 3000, pollIntervalMs: 500, dvcBin: DVC, env: process.env, log }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ClearmlPipelinePickupTimeoutError);
      const e = err as ClearmlPipelinePickupTimeoutError;
      expect([e.queue, e.step]).toEqual([queue, 'prepare']);
      expect(e.message).toContain(`from queue '${queue}'`);
      expect(e.message).toContain("step 'prepare'");
      expect(e.message).toContain('no worker listens to that queue');
      expect((await client.tasks.get(e.controllerId!)).status).toBe('failed');
      expect((await stepTasks(e.controllerId!)).map((t) => [t.name, t.status])).toEqual([['prepare', 'failed']]);
      expect(await client.queues.entries(queueId)).toEqual([]);
    } finally {
      await repo.remove();
    }
  });

  describe('queue mode with two real clearml-agent daemons', () => {
    let agents: ClearmlAgents | undefined;
    let work: string;
    const queue = `mlops-ts-test-agents-${Date.now().toString(36)}`;
    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'clearml-agents-'));
      agents = await startClearmlAgents({ server: s, queue, count: 2, workDir: work, log });
    }, 300_000);
    afterAll(async () => {
      await agents?.stop();
      if (agents) for (const a of agents.agents) expect(() => process.kill(a.pid, 0)).toThrow();
      await rm(work, { recursive: true, force: true });
    });

    it('both workers run steps; statuses completed; DAG, params, dvc.lock and dvc status right here', async () => {
      // each shard waits for the other (see PARAMS): the two, enqueued together, must run on the two agents at once
      const barrier = join(work, 'barrier');
      const repo = await makeRepo('clearml-queue', dvcYaml(), { ...PARAMS, shard: { ...PARAMS.shard, pause: 90, barrier } }, SEED);
      try {
        const t0 = Date.now();
        const run = await runClearmlDvcPipeline({ client, dvcYaml: join(repo.dir, 'dvc.yaml'), project: uniqueProjectName('pipeline-queue'), name: 'dvc-queue', queue, pickupTimeoutMs: 120_000, dvcBin: DVC, env: process.env, log }).catch(
          async (e: unknown) => {
            for (const a of agents!.agents) console.error(`--- ${a.workerId}:\n${await agents!.logTail(a, 30)}`);
            throw e;
          },
        );
        const ms = Date.now() - t0;
        const tasks = await stepTasks(run.controllerId);
        expect(tasks.map((t) => t.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
        for (const t of tasks) expect(t.parent).toBe(run.controllerId);
        const workers = new Set(tasks.map((t) => t.last_worker));
        expect([...workers].sort()).toEqual(agents!.agents.map((a) => a.workerId).sort());
        expect((await client.tasks.get(run.controllerId)).status).toBe('completed');
        const dag = await dagOf(run.controllerId);
        expect(Object.fromEntries(Object.entries(dag).map(([k, n]) => [k, [n.parents, n.status, n.queue]]))).toEqual({
          prepare: [[], 'completed', queue],
          'shard@a': [['prepare'], 'completed', queue],
          'shard@b': [['prepare'], 'completed', queue],
          report: [['shard@a', 'shard@b'], 'completed', queue],
        });
        const shardA = tasks.find((t) => t.name === 'shard@a')!;
        expect((await client.tasks.getHyperParams(shardA.id))['params']).toEqual({ 'shard.scale': '2', 'shard.pause': '90', 'shard.barrier': barrier });
        const script = (await client.tasks.get(shardA.id)).script;
        expect(script?.binary).toBe('/bin/bash');
        expect(script?.repository).toBe(repo.dir);
        expect(script?.version_num).toBe((await repo.run('git', ['rev-parse', 'HEAD'])).trim());
        // the agents' results came back into this workspace
        expect(await repo.dvcStatus()).toEqual({});
        expect(JSON.parse(await readFile(join(repo.dir, 'metrics.json'), 'utf8'))).toEqual({ lines: 8 });
        console.log(`[clearml-pipeline] queue run with 2 agents: ${ms} ms; workers ${[...workers].join(', ')}`);
      } finally {
        await repo.remove();
      }
    }, 300_000);

    it('abort (Ctrl-C) while an agent runs a step: the step is stopped by its agent, the controller stopped, nothing queued', async () => {
      const yaml = { stages: { slow: { cmd: 'sleep 120 && echo done > slow.txt', outs: ['slow.txt'] }, later: { cmd: 'cp slow.txt later.txt', deps: ['slow.txt'], outs: ['later.txt'] } } };
      const repo = await makeRepo('clearml-queue-abort', yaml, {});
      try {
        const abort = new AbortController();
        const seen: string[] = [];
        const pending = runClearmlDvcPipeline({
          client,
          dvcYaml: join(repo.dir, 'dvc.yaml'),
          project: uniqueProjectName('pipeline-queue-abort'),
          queue,
          pickupTimeoutMs: 120_000,
          dvcBin: DVC,
          env: process.env,
          signal: abort.signal,
          log: (l) => {
            seen.push(l);
            if (l.startsWith("step 'slow': running on")) setTimeout(() => abort.abort(), 2000);
          },
        }).then(
          () => undefined,
          (e: unknown) => e,
        );
        const err = await pending;
        expect(err, String(err)).toBeInstanceOf(ClearmlPipelineAbortedError);
        expect((err as ClearmlPipelineAbortedError).stopped).toEqual(['slow']);
        const controllerId = (err as ClearmlPipelineAbortedError).controllerId!;
        expect((await client.tasks.get(controllerId)).status).toBe('stopped');
        const tasks = await stepTasks(controllerId);
        expect(tasks.map((t) => [t.name, t.status])).toEqual([['slow', 'stopped']]);
        const dag = await dagOf(controllerId);
        expect([dag['slow']!.status, dag['later']!.status]).toEqual(['aborted', 'skipped']);
        // the agent is free again: no worker still runs the step. A worker's entry is what it last reported (agents
        // report every few seconds), so it may name the stopped task for a moment: poll, up to a minute
        const workersSchema = z.object({ workers: z.array(z.object({ id: z.string(), task: z.object({ id: z.string() }).loose().nullish() }).loose()) }).loose();
        const busy = async () => (await client.transport.call('workers.get_all', {}, workersSchema)).workers.filter((w) => w.task?.id === tasks[0]!.id).map((w) => w.id);
        await expect.poll(busy, { timeout: 60_000, interval: 1_000 }).toEqual([]);
      } finally {
        await repo.remove();
      }
    }, 300_000);
  });
});
