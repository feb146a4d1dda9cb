import { penguinsParams } from '../../../tools/testing/stage-cli.js';
import { checkPipelineParams, openStageTracking } from '../src/index.js';

test('checkPipelineParams lists the problems of every section, unknown sections and missing columns at once', async () => {
  const good = await penguinsParams();
  expect(checkPipelineParams(good, 'p.yaml').problems).toEqual([]);
  const data = good['data'] as { target: object };
  const { problems } = checkPipelineParams({ ...good, data: { ...data, target: { column: 'species' } }, train: { epochs: 0 }, extra: 1 }, 'p.yaml');
  expect(problems.map((p) => p.key)).toEqual(['train.epochs', 'extra', 'data.target.column']);
  expect(problems[2]?.message).toMatch(/^column "species" is not in .*penguins\.json \(columns are: .*Species/);
  expect(checkPipelineParams({ ...good, data: { ...data, path: '/nowhere/t.csv' } }, 'p.yaml').note).toMatch(/columns not checked: \/nowhere\/t\.csv is not there/);
});

describe('openStageTracking', () => {
  const down = async () => {
    throw new Error('MLflow server http://127.0.0.1:1 unreachable');
  };
  test('--no-tracking keeps the run in memory for the run records', async () => {
    const t = await openStageTracking({ enabled: false, offlineFallback: false, open: down });
    expect(t.target).toEqual({ kind: 'offline' });
    expect(t.offline).toBe(t.tracker);
  });
  test('a server that is down stops the stage, unless offline_fallback keeps the run on disk', async () => {
    await expect(openStageTracking({ enabled: true, offlineFallback: false, open: down })).rejects.toThrow('MLflow server http://127.0.0.1:1 unreachable');
    const t = await openStageTracking({ enabled: true, offlineFallback: true, open: down });
    expect(t.target).toEqual({ kind: 'offline' });
    expect(t.description).toBe('tracking server unavailable (MLflow server http://127.0.0.1:1 unreachable); tracking.offline_fallback is on: keeping the run on disk');
  });
});
