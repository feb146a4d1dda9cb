import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';

// The repository's dvc.yaml and params.yaml in a scratch git + DVC repository, switched to penguins by editing
// params.yaml alone (dvc.yaml's raw-data dependency is `${data.path}`), driven by the real dvc CLI.
const root = resolve(import.meta.dirname, '../../..');
const dvcBin = join(root, '.venv/bin/dvc');

describe('dvc repro of the prepare and featurize stages', () => {
  let repo: string;
  const dvc = (...args: string[]) => execa(dvcBin, args, { cwd: repo });

  beforeAll(async () => {
    repo = await mkdtemp(join(tmpdir(), 'stage-dvc-'));
    // The code the two stages depend on, as their dvc.yaml deps list it (no hand-kept copy of that list).
    const pipeline = parse(await readFile(join(root, 'dvc.yaml'), 'utf8')) as { stages: Record<string, { deps?: string[] }> };
    const codeDeps = new Set(['prepare', 'featurize'].flatMap((s) => pipeline.stages[s]?.deps ?? []).filter((d) => /^(apps|libs)\//.test(d)));
    expect([...codeDeps]).toEqual(expect.arrayContaining(['apps/prepare/src', 'apps/featurize/src', 'libs/data-prep/src']));
    for (const dir of codeDeps) {
      await cp(join(root, dir), join(repo, dir), { recursive: true });
    }
    await symlink(join(root, 'node_modules'), join(repo, 'node_modules'));
    await mkdir(join(repo, 'data/raw'), { recursive: true });
    await cp(join(root, 'node_modules/vega-datasets/data/penguins.json'), join(repo, 'data/raw/penguins.json'));
    await cp(join(root, 'dvc.yaml'), join(repo, 'dvc.yaml'));
    const params = parse(await readFile(join(root, 'params.yaml'), 'utf8')) as Record<string, unknown>;
    params['data'] = {
      path: 'data/raw/penguins.json',
      rows: 0,
      target: { column: 'Species' },
      task: 'multiclass',
      features: { numeric: ['Beak Length (mm)', 'Flipper Length (mm)', 'Body Mass (g)'], categorical: ['Island', 'Sex'] },
      na_values: ['.'],
    };
    await writeFile(join(repo, 'params.yaml'), stringify(params));
    await writeFile(join(repo, '.dvcignore'), 'node_modules\n');
    // Only the stages this part owns; other stages in the repository's dvc.yaml need their own apps.
    const stages = parse(await readFile(join(repo, 'dvc.yaml'), 'utf8')) as { stages: Record<string, unknown> };
    stages.stages = { prepare: stages.stages['prepare'], featurize: stages.stages['featurize'] };
    await writeFile(join(repo, 'dvc.yaml'), stringify(stages));
    await execa('git', ['init', '-q'], { cwd: repo });
    await dvc('init', '-q');
    await dvc('config', 'core.analytics', 'false');
  });
  afterAll(() => rm(repo, { recursive: true, force: true }));

  it('runs both stages, exposes the metrics, and re-runs only featurize when a featurize key changes', async () => {
    const first = await dvc('repro');
    expect(first.stdout).toMatch(/Running stage 'prepare'/);
    expect(first.stdout).toMatch(/Running stage 'featurize'/);

    interface Quality {
      rows: Record<string, number>;
      nulls_in: Record<string, number>;
      class_counts: Record<string, number>;
    }
    const metrics = JSON.parse((await dvc('metrics', 'show', '--json')).stdout) as Record<string, { data: Record<string, { data: Quality }> }>;
    const dq = Object.values(metrics)[0]!.data['metrics/data_quality.json']!.data;
    expect(dq.rows).toMatchObject({ source: 344, in: 344 });
    expect(dq.nulls_in['Sex']).toBe(11);
    expect(Object.keys(dq.class_counts)).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);

    expect((await dvc('status', '--json')).stdout.trim()).toBe('{}');
    const params = parse(await readFile(join(repo, 'params.yaml'), 'utf8')) as { featurize: { top_k: number } };
    params.featurize.top_k = 1;
    await writeFile(join(repo, 'params.yaml'), stringify(params));
    const status = JSON.parse((await dvc('status', '--json')).stdout) as Record<string, unknown>;
    expect(Object.keys(status)).toEqual(['featurize']);

    const second = await dvc('repro');
    expect(second.stdout).toMatch(/Stage 'prepare' didn't change, skipping/);
    expect(second.stdout).toMatch(/Running stage 'featurize'/);
    const meta = JSON.parse(await readFile(join(repo, 'data/features/meta.json'), 'utf8')) as { featureNames: string[] };
    expect(meta.featureNames.filter((n) => n.startsWith('Island='))).toHaveLength(2);
  });
});
