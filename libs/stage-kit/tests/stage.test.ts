import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CommanderError } from 'commander';
import type * as Errors from '../src/errors.js';
import { z } from 'zod';
import {
  defineStage,
  EXIT,
  exitCodeOf,
  OutputSet,
  StageError,
  StageInputError,
  StageInterruptedError,
  StageParamsError,
  StageUsageError,
  validateSections,
  writeDirAtomic,
} from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stage-kit-stage-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const SplitSchema = z
  .strictObject({ train: z.number().min(0).max(1), valid: z.number().min(0).max(1), test: z.number().min(0).max(1) })
  .refine((s) => Math.abs(s.train + s.valid + s.test - 1) < 1e-9, { error: (i) => `fractions sum to ${Object.values(i.input as object).reduce((a: number, b) => a + (b as number), 0)}, not 1` });
const TrainSchema = z.strictObject({ epochs: z.int().min(1).default(10), lr: z.number().default(0.01) });

describe('validateSections', () => {
  test('every problem of every section at once, each naming the file and the key', () => {
    const err = (() => {
      try {
        validateSections({ split: { train: 0.7, valid: 0.15, test: 0.1 }, train: { epoch: 3, lr: 'x' } }, { split: SplitSchema, train: TrainSchema, models: z.strictObject({ name: z.string() }) }, 'params.yaml');
      } catch (e) {
        return e as StageParamsError;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(StageParamsError);
    expect(err?.message.split('\n')).toEqual([
      'params.yaml: split: fractions sum to 0.95, not 1',
      'params.yaml: train.lr: must be a number (got "x")',
      'params.yaml: train.epoch: unknown key',
      'params.yaml: models: section missing',
    ]);
  });

  test('a missing section whose schema has every default gets the defaults', () => {
    expect(validateSections({}, { train: TrainSchema })).toEqual({ train: { epochs: 10, lr: 0.01 } });
  });
});

describe('exit codes: one table', () => {
  test.each([
    ['params', new StageParamsError('p.yaml', [{ key: 'k', message: 'm' }]), EXIT.usage],
    ['usage', new StageUsageError('--x: bad'), EXIT.usage],
    ['commander', new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"), EXIT.usage],
    ['help', new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), EXIT.ok],
    ['another library params error (by code)', Object.assign(new Error('bad'), { code: 'ERR_DATA_PREP_PARAMS' }), EXIT.usage],
    ['another library params error (by name)', Object.assign(new Error('bad'), { name: 'ParamsError' }), EXIT.usage],
    ['input', new StageInputError('models/x: run train@x first'), EXIT.failure],
    ['anything else', new Error('server down'), EXIT.failure],
    ['SIGINT', new StageInterruptedError('SIGINT'), 130],
    ['SIGTERM', new StageInterruptedError('SIGTERM'), 143],
  ])('%s', (_name, error, code) => {
    expect(exitCodeOf(error)).toBe(code);
  });
});

test('errors have stable codes and instanceof works across two copies of the module', async () => {
  const specifier = '../src/errors.ts?copy'; // a second instance of the module, as a second installed copy would be
  const copy = (await import(specifier)) as typeof Errors;
  expect(copy.StageParamsError).not.toBe(StageParamsError);
  const theirs = new copy.StageParamsError('p.yaml', [{ key: 'a', message: 'b' }]);
  expect(theirs).toBeInstanceOf(StageParamsError);
  expect(theirs).toBeInstanceOf(StageError);
  expect(theirs).not.toBeInstanceOf(StageUsageError);
  expect(new StageUsageError('x')).toBeInstanceOf(copy.StageError);
  expect(new Error('x')).not.toBeInstanceOf(StageError);
  expect([theirs.code, new StageUsageError('x').code, new StageInputError('x').code, new StageInterruptedError('SIGINT').code]).toEqual([
    'ERR_STAGE_PARAMS',
    'ERR_STAGE_USAGE',
    'ERR_STAGE_INPUT',
    'ERR_STAGE_INTERRUPTED',
  ]);
  expect(exitCodeOf(theirs)).toBe(2);
});

describe('defineStage', () => {
  const stage = defineStage({
    name: 'demo',
    description: 'demo stage',
    cli: (p) => p.requiredOption('--model <name>', 'model').option('--repeat <n>', 'times', '1'),
    args: z.object({ model: z.string(), repeat: z.coerce.number().int().min(1) }),
    params: { split: SplitSchema, train: TrainSchema },
    label: (o) => `demo ${o.model}`,
    async run({ options, params, log }) {
      log(`model ${options.model} × ${options.repeat}, ${params.train.epochs} epochs`);
      if (options.model === 'boom') throw new Error('disk full');
      return params.split.train;
    },
  });
  const io = () => {
    const out = { text: '', io: { stderr: (s: string) => void (out.text += s), stdout: (s: string) => void (out.text += s) } };
    return out;
  };

  test('parses, validates, runs: typed options and params, log lines carry the label', async () => {
    const file = join(dir, 'ok.yaml');
    await writeFile(file, 'split: { train: 0.8, valid: 0.1, test: 0.1 }\n');
    const o = io();
    expect(await stage.run(['--params', file, '--model', 'm', '--repeat', '3'], o.io)).toBe(0.8);
    expect(o.text).toBe('[demo m] model m × 3, 10 epochs\n');
    expect(Object.keys(stage.params)).toEqual(['split', 'train']);
  });

  test('bad params: exit 2, every problem on its own line naming the file and the key; run is not called', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'split: { train: 0.7, valid: 0.15, test: 0.1 }\ntrain: { epochs: 0 }\n');
    const o = io();
    expect(await stage.main(['--params', file, '--model', 'm'], o.io)).toBe(2);
    expect(o.text).toBe(`demo: ${file}: split: fractions sum to 0.95, not 1\ndemo: ${file}: train.epochs: must be >= 1 (got 0)\n`);
  });

  test('bad usage: exit 2 (commander says what), an invalid option value names the option', async () => {
    const o = io();
    expect(await stage.main(['--model', 'm', '--nope'], o.io)).toBe(2);
    expect(o.text).toMatch(/unknown option '--nope'/);
    const v = io();
    expect(await stage.main(['--model', 'm', '--repeat', '0'], v.io)).toBe(2);
    expect(v.text).toBe('demo: --repeat: must be >= 1 (got "0")\n');
    const h = io();
    expect(await stage.main(['--help'], h.io)).toBe(0);
    expect(h.text).toMatch(/--params <file>/);
  });

  test('any other failure: exit 1 with one line', async () => {
    const file = join(dir, 'ok2.yaml');
    await writeFile(file, 'split: { train: 0.8, valid: 0.1, test: 0.1 }\n');
    const o = io();
    expect(await stage.main(['--params', file, '--model', 'boom'], o.io)).toBe(1);
    expect(o.text.trim().split('\n').at(-1)).toBe('demo: disk full');
  });

  test.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s runs the registered cleanups, then exits %i', async (signal, code) => {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const mark = join(dir, `mark-${signal}`);
    const child = execa('node', ['--conditions=@mlops-ts/source', '--import', tsx, join(import.meta.dirname, 'fixtures/interruptible.ts'), '--mark', mark], { reject: false });
    await new Promise<void>((resolve) => child.stderr!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    child.kill(signal);
    const r = await child;
    expect(r.exitCode).toBe(code);
    expect(r.stderr).toContain(`waiter: stopped by ${signal}; cleaning up`);
    expect(await readFile(mark, 'utf8')).toBe('cleaned');
  });
});

describe('atomic outputs', () => {
  test('writeDirAtomic replaces a folder whole, and on failure leaves the old one and no staging folder', async () => {
    const target = join(dir, 'out/model');
    await writeDirAtomic(target, async (s) => writeFile(join(s, 'a.txt'), 'one'));
    await expect(
      writeDirAtomic(target, async (s) => {
        await writeFile(join(s, 'a.txt'), 'half');
        throw new Error('training diverged');
      }),
    ).rejects.toThrow('training diverged');
    expect(await readFile(join(target, 'a.txt'), 'utf8')).toBe('one');
    expect(await readdir(join(dir, 'out'))).toEqual(['model']);
    await writeDirAtomic(target, async (s) => writeFile(join(s, 'b.txt'), 'two'));
    expect(await readdir(target)).toEqual(['b.txt']);
    expect(await readdir(join(dir, 'out'))).toEqual(['model']);
  });

  test('an OutputSet shows its files only on commit; discard leaves nothing', async () => {
    const d = join(dir, 'set');
    await mkdir(d);
    const set = new OutputSet();
    await set.json(join(d, 'metrics.json'), { a: 1 });
    await set.file(join(d, 'plots/roc.json'), '[]');
    expect(existsSync(join(d, 'metrics.json'))).toBe(false);
    await set.commit();
    expect(await readFile(join(d, 'metrics.json'), 'utf8')).toBe('{\n  "a": 1\n}\n');
    const failed = new OutputSet();
    await failed.json(join(d, 'metrics.json'), { a: 2 });
    await failed.discard();
    expect(await readFile(join(d, 'metrics.json'), 'utf8')).toBe('{\n  "a": 1\n}\n');
    expect((await readdir(d)).sort()).toEqual(['metrics.json', 'plots']);
    expect(await readdir(join(d, 'plots'))).toEqual(['roc.json']);
  });
});
