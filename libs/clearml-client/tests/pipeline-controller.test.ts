// runClearmlPipeline without DVC: the DAG checks (nothing created), local mode running independent steps at the same
// time up to `concurrency`, a step whose callback throws, the Pipeline configuration as the run goes. Real server.
import { inject } from 'vitest';
import { z } from 'zod';
import {
  ClearmlClient,
  ClearmlPipelineDagError,
  ClearmlPipelineStepError,
  parsePipelineConfig,
  pipelineConfig,
  readTaskLog,
  runClearmlPipeline,
  validateDag,
} from '../src/index.js';
import { requireClearml, uniqueProjectName } from '../../../tools/testing/clearml-server.js';

const server = inject('clearml');

describe('pipeline DAG checks', () => {
  it('orders parents first and rejects unknown parents, cycles, duplicate and short names', () => {
    expect(validateDag([{ name: 'last', parents: ['first'] }, { name: 'first' }]).map((s) => s.name)).toEqual(['first', 'last']);
    const fails = (steps: Parameters<typeof validateDag>[0]) => {
      try {
        validateDag(steps);
      } catch (e) {
        expect(e).toBeInstanceOf(ClearmlPipelineDagError);
        return (e as Error).message;
      }
      throw new Error('validateDag accepted it');
    };
    expect(fails([{ name: 'alpha', parents: ['ghost'] }])).toBe("step 'alpha' has parent 'ghost', which is not a step of the pipeline");
    expect(fails([{ name: 'alpha', parents: ['beta'] }, { name: 'beta', parents: ['alpha'] }])).toBe("the steps 'alpha', 'beta' form a cycle");
    expect(fails([{ name: 'alpha' }, { name: 'alpha' }])).toBe("two steps are named 'alpha'");
    expect(fails([{ name: 'ab' }])).toContain("step name 'ab' is shorter than 3 characters");
    expect(fails([])).toBe('the pipeline has no steps');
  });

  it('the Pipeline configuration has every field of the SDK Node, and reads back', () => {
    const steps = validateDag([{ name: 'first', params: { lr: 0.1 } }, { name: 'second', parents: ['first'], stage: 'train' }]);
    const cfg = pipelineConfig(steps, new Map([['first', { status: 'completed', taskId: 't1', executed: 't1', jobStarted: 1, jobEnded: 2 }]]), { queue: 'q1' });
    expect(Object.keys(cfg['first']!).sort()).toEqual(
      [
        'base_task_id', 'cache_executed_step', 'clone_task', 'configurations', 'continue_behaviour', 'continue_on_abort', 'continue_on_fail', 'draft',
        'executed', 'explicit_docker_image', 'job_code_section', 'job_ended', 'job_id', 'job_started', 'job_type', 'monitor_artifacts', 'monitor_metrics',
        'monitor_models', 'output_uri', 'parameters', 'parents', 'queue', 'recursively_parse_parameters', 'return_artifacts', 'skip_children_on_abort',
        'skip_children_on_fail', 'skip_job', 'stage', 'status', 'task_overrides', 'timeout',
      ].sort(),
    );
    expect(cfg['first']).toMatchObject({ parameters: { 'Args/lr': '0.1' }, status: 'completed', job_id: 't1', queue: 'q1' });
    expect(cfg['second']).toMatchObject({ parents: ['first'], status: 'pending', job_id: null, stage: 'train' });
    expect(parsePipelineConfig(JSON.stringify(cfg))).toEqual(cfg);
  });
});

describe.skipIf(!server.available)('runClearmlPipeline, local mode (real server)', () => {
  let client: ClearmlClient;
  beforeAll(() => {
    const s = requireClearml(server);
    client = new ClearmlClient({ apiHost: s.apiHost, webHost: s.webHost, filesHost: s.filesHost, credentials: { accessKey: s.accessKey, secretKey: s.secretKey } });
  });
  afterAll(() => client?.close());

  it('independent steps run at the same time (up to concurrency); the DAG config is current while they run', async () => {
    let running = 0;
    let most = 0;
    let seenWhileRunning: string | undefined;
    const run = await runClearmlPipeline({
      client,
      project: uniqueProjectName('pipeline-ctl'),
      name: 'fan-out',
      artifactsRoot: process.cwd(),
      steps: [{ name: 'root' }, { name: 'left', parents: ['root'] }, { name: 'middle', parents: ['root'] }, { name: 'right', parents: ['root'] }, { name: 'join', parents: ['left', 'middle', 'right'] }],
      addPipelineTags: true,
      mode: {
        kind: 'local',
        concurrency: 2,
        runStep: async (step, ctx) => {
          running++;
          most = Math.max(most, running);
          if (step.name === 'left') {
            const controller = (await client.tasks.get(ctx.taskId)).parent!;
            const cfg = parsePipelineConfig((await client.tasks.getConfiguration(controller, ['Pipeline']))['Pipeline']!.value!);
            seenWhileRunning = cfg['left']!.status;
          }
          await new Promise((r) => setTimeout(r, 300));
          running--;
          return { status: 'completed', output: [`${step.name} done`] };
        },
      },
    });
    expect(most).toBe(2);
    expect(seenWhileRunning).toBe('running');
    expect(run.steps.map((s) => s.status)).toEqual(['completed', 'completed', 'completed', 'completed', 'completed']);
    const joinTask = await client.tasks.get(run.steps[4]!.taskId!);
    expect(joinTask.tags).toEqual([`pipe: ${run.controllerId}`]);
    expect(await readTaskLog(client, joinTask.id)).toContain('join done');
    // the SDK's "Pipeline / Execution Flow" sankey on the controller: one link per parent, colours by status
    await new Promise((r) => setTimeout(r, 1200)); // events index refresh
    const plots = await client.query.plots(run.controllerId);
    const flow = plots.find((p) => p.metric === 'Pipeline' && p.variant === 'Execution Flow');
    const sankey = (flow?.figure['data'] as { type: string; link: { source: number[]; target: number[] }; node: { color: string[] } }[] | undefined)?.[0];
    expect(sankey?.type).toBe('sankey');
    expect(sankey?.link.source).toEqual([0, 0, 0, 1, 2, 3]);
    expect(sankey?.link.target).toEqual([1, 2, 3, 4, 4, 4]);
    expect(sankey?.node.color).toEqual(['blue', 'blue', 'blue', 'blue', 'blue']);
  });

  it('a step whose callback throws: failed with the message, the controller failed, its children skipped', async () => {
    const err = await runClearmlPipeline({
      client,
      project: uniqueProjectName('pipeline-ctl'),
      name: 'throws',
      artifactsRoot: process.cwd(),
      steps: [{ name: 'first' }, { name: 'second', parents: ['first'] }],
      mode: {
        kind: 'local',
        runStep: async () => {
          throw new Error('no such input: data/x.csv');
        },
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClearmlPipelineStepError);
    const e = err as ClearmlPipelineStepError;
    expect(e.message).toBe(`pipeline step 'first' failed (task ${e.taskId}): no such input: data/x.csv`);
    expect((await client.tasks.get(e.controllerId!)).status).toBe('failed');
    const first = await client.tasks.get(e.taskId);
    expect([first.status, first.status_reason]).toEqual(['failed', 'no such input: data/x.csv']);
    const cfg = parsePipelineConfig((await client.tasks.getConfiguration(e.controllerId!, ['Pipeline']))['Pipeline']!.value!);
    expect([cfg['first']!.status, cfg['second']!.status, cfg['second']!.skip_job]).toEqual(['failed', 'skipped', true]);
    const children = await client.transport.call('tasks.get_all', { parent: e.controllerId, only_fields: ['id'] }, z.object({ tasks: z.array(z.object({ id: z.string() }).loose()) }));
    expect(children.tasks.map((t) => t.id)).toEqual([e.taskId]);
  });
});
