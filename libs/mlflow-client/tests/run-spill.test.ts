// Run spill files against the shared real server: operations in order, progress saved after each, so a replay that
// stops half-way resumes without a second logged model; a copy changed after spilling is refused by name.
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { MlflowClient, MlflowReplayError, readRunSpill, replaySpill, RunSpill } from '../src/index.js';

let dir: string;
let client: MlflowClient;
let expId: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-spill-'));
  client = new MlflowClient({ trackingUri: inject('mlflowUri') });
  expId = (await client.getOrCreateExperiment('run-spill')).experiment_id;
});
afterAll(async () => {
  await client?.close();
  await rm(dir, { recursive: true, force: true });
});

test('a replay that fails half-way resumes at the failed operation (one logged model, not two)', async () => {
  const runId = (await client.createRun({ experimentId: expId, runName: 'resume' })).info.run_id;
  const model = join(dir, 'model');
  await mkdir(model, { recursive: true });
  await writeFile(join(model, 'model.json'), '{"format":"layers-model"}');
  await writeFile(join(model, 'weights.bin'), Buffer.from([9, 9]));
  await writeFile(join(dir, 'plot.svg'), '<svg/>');
  const spillDir = join(dir, 'spill');
  const spill = new RunSpill(spillDir, runId);
  await spill.addModel(model, { name: 'model', signature: { inputs: [{ name: 'x', type: 'float' }], outputs: [{ name: 'p', type: 'float' }] }, modelIdTag: 'mlops.logged_model_id' });
  await spill.addArtifact(join(dir, 'plot.svg'), 'plots');
  await spill.addTags({ phase: 'spilled' });
  await spill.addEnd('FINISHED', 1_760_000_000_000);
  expect(spill.operations.map((o) => o.op)).toEqual(['model', 'artifact', 'tags', 'end']);

  // Break operation 2: its copy disappears.
  const ops = (await readRunSpill(spill.file)).ops;
  const art = ops[1]!;
  if (art.op !== 'artifact') throw new Error('unexpected op');
  const copy = join(spill.filesDir, art.copy);
  await rename(copy, `${copy}.away`);
  const err = await replaySpill({ client, path: spillDir }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(MlflowReplayError);
  expect((err as Error).message).toContain(`operation 2 of 4 (artifact ${join(dir, 'plot.svg')}, run ${runId})`);
  expect((await readRunSpill(spill.file)).done).toBe(1);
  expect((await client.getRun(runId)).info.status).toBe('RUNNING');

  // A changed copy is refused, naming it.
  await writeFile(copy, '<svg>changed</svg>');
  const changed = await replaySpill({ client, path: spill.file }).catch((e: unknown) => e);
  expect((changed as Error).message).toContain(`the copy ${copy} changed since it was spilled (sha256 mismatch)`);

  await rm(copy);
  await rename(`${copy}.away`, copy);
  const result = await replaySpill({ client, path: spillDir });
  expect(result.runs).toEqual([{ runId, artifacts: 1, models: [], inputs: 0, params: 0, tags: 1, ended: 'FINISHED' }]);
  expect(await readdir(spillDir)).toEqual([]);
  const run = await client.getRun(runId);
  expect(run.info.status).toBe('FINISHED');
  expect(Number(run.info.end_time)).toBe(1_760_000_000_000);
  const models = await client.searchLoggedModels({ experimentIds: [expId], filter: `source_run_id = '${runId}'` });
  expect(models.items).toHaveLength(1);
  expect(run.data.tags).toContainEqual({ key: 'mlops.logged_model_id', value: models.items[0]!.info.model_id });
  expect((await client.listLoggedModelArtifacts(models.items[0]!.info.model_id)).map((f) => f.path).sort()).toEqual(['MLmodel', 'model.json', 'weights.bin']);
  expect((await client.readArtifact(runId, 'plots/plot.svg')).toString()).toBe('<svg/>');
});
