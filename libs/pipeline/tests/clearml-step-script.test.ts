// The bash script a clearml-agent runs for one DVC stage in queue mode (dvcStepScript), run here with bash in a fresh
// clone of a git + DVC repository the way an agent's checkout has it: no server, real git and dvc. A stage whose dep
// is a parent's uncached out (`cache: false`, like evaluate@* → metrics/eval → compare) has nothing to `dvc checkout`
// in the clone: the script must carry that file, or the stage fails for a missing dep.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { dvcStepScript, lockFromLog, uncachedOutsFromLog } from '../src/clearml-pipeline.js';

const DVC = join(import.meta.dirname, '../../../.venv/bin/dvc');

describe('dvcStepScript in an agent-like checkout', () => {
  let dir: string;
  let controller: string;
  const run = async (cwd: string, file: string, args: string[]) => {
    const r = await execa(file, args, { cwd, all: true, reject: false });
    if (r.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.exitCode}):\n${r.all}`);
    return String(r.all);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clearml-step-script-'));
    controller = join(dir, 'controller');
    await run(dir, 'git', ['init', '-q', '-b', 'main', controller]);
    const stages = {
      stages: {
        // an uncached metrics file, as evaluate@<model> writes metrics/eval/<model>.json
        score: { cmd: 'mkdir -p metrics && echo \'{"auc": 0.75}\' > metrics/score.json', metrics: [{ 'metrics/score.json': { cache: false } }] },
        // a cached out, to show the cache is shared too
        model: { cmd: 'echo weights > model.bin', outs: ['model.bin'] },
        // reads both, as compare reads metrics/eval
        summary: { cmd: 'cat metrics/score.json model.bin > summary.txt', deps: ['metrics/score.json', 'model.bin'], outs: [{ 'summary.txt': { cache: false } }] },
      },
    };
    await writeFile(join(controller, 'dvc.yaml'), stringify(stages));
    await run(controller, 'git', ['config', 'user.email', 'test@example.com']);
    await run(controller, 'git', ['config', 'user.name', 'test']);
    await run(controller, DVC, ['init', '-q']);
    await run(controller, DVC, ['config', 'core.analytics', 'false']);
    await run(controller, 'git', ['add', '-A']);
    await run(controller, 'git', ['commit', '-q', '-m', 'fixture']);
    // the parents ran (on agents) and came back here: dvc.lock, the cache and the uncached file
    await run(controller, DVC, ['repro', '--single-item', 'score']);
    await run(controller, DVC, ['repro', '--single-item', 'model']);
  }, 120_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const stepIn = async (name: string, uncachedInputs: Buffer | undefined, handoffDir?: string) => {
    const checkout = join(dir, name);
    await run(dir, 'git', ['clone', '-q', controller, checkout]);
    const script = dvcStepScript({
      stage: 'summary',
      dvcDir: '',
      parents: ['score', 'model'],
      lockText: await readFile(join(controller, 'dvc.lock'), 'utf8'),
      localDvcBin: DVC,
      cacheDir: join(controller, '.dvc', 'cache'),
      uncached: ['summary.txt'],
      ...(uncachedInputs ? { uncachedInputs } : {}),
      ...(handoffDir ? { handoffDir } : {}),
    });
    await writeFile(join(checkout, '.step.sh'), script);
    const r = await execa('bash', ['.step.sh'], { cwd: checkout, all: true, reject: false });
    return { checkout, exitCode: r.exitCode, output: String(r.all) };
  };

  it("carries the parents' uncached outs: the stage runs on them and its dvc.lock comes back", async () => {
    const tgz = (await execa('tar', ['-cz', '-C', controller, 'metrics/score.json'], { encoding: 'buffer' })).stdout;
    const r = await stepIn('agent-1', Buffer.from(tgz));
    expect(r.exitCode, r.output).toBe(0);
    expect(await readFile(join(r.checkout, 'summary.txt'), 'utf8')).toBe('{"auc": 0.75}\nweights\n');
    const lines = r.output.split('\n');
    const lock = lockFromLog(lines);
    expect(lock).toContain('summary:');
    expect(lock).toContain('metrics/score.json');
    // its own uncached out comes back with the md5 of the tar, in lines short enough for the agent's log events
    // (66 lines per event, 65,536 characters kept of each)
    const tar = uncachedOutsFromLog(lines);
    const md5 = lines.find((l) => l.startsWith('@@mlops-ts-uncached-md5 '))?.split(' ')[1];
    expect(md5).toBe(createHash('md5').update(tar).digest('hex'));
    expect(Math.max(...lines.filter((l) => l.startsWith('@@mlops-ts-')).map((l) => l.length)) * 66).toBeLessThan(65_536);
  }, 120_000);

  it("an agent that sees the controller's handoff folder leaves its uncached outs there, not in its console", async () => {
    const tgz = (await execa('tar', ['-cz', '-C', controller, 'metrics/score.json'], { encoding: 'buffer' })).stdout;
    const handoff = join(dir, 'handoff');
    await mkdir(handoff);
    const r = await stepIn('agent-3', Buffer.from(tgz), handoff);
    expect(r.exitCode, r.output).toBe(0);
    const lines = r.output.split('\n');
    const name = lines.find((l) => l.startsWith('@@mlops-ts-uncached-file '))?.split(' ')[1];
    expect(name).toMatch(/^uncached\.[A-Za-z0-9]+\.tgz$/);
    expect(uncachedOutsFromLog(lines).length).toBe(0);
    const md5 = lines.find((l) => l.startsWith('@@mlops-ts-uncached-md5 '))?.split(' ')[1];
    expect(createHash('md5').update(await readFile(join(handoff, name!))).digest('hex')).toBe(md5);
  }, 120_000);

  it('without them the stage fails for its missing dep (what the repository pipeline hit at compare)', async () => {
    const r = await stepIn('agent-2', undefined);
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toMatch(/metrics\/score\.json/);
  }, 120_000);
});
