import { Command } from 'commander';
import type { z } from 'zod';
import { StageInterruptedError, StageUsageError } from './errors.js';
import { exitCodeOf } from './exit-codes.js';
import { problemsOf, readParamsFile, validateSections, type ParamsOf, type ParamsSections } from './params.js';

/** What a stage's `run` gets: parsed options, validated params and the few services a stage needs. */
export interface StageContext<O, P> {
  /** Stage name, e.g. `train`. */
  readonly name: string;
  /** Command-line options, validated by the stage's `args` schema. */
  readonly options: O;
  /** The params sections the stage declared, validated (all problems at once) before `run` starts. */
  readonly params: P;
  /** The params file the sections came from (`--params`, default `params.yaml`). */
  readonly paramsFile: string;
  /** The whole params mapping, for what the sections do not cover. */
  readonly rawParams: Record<string, unknown>;
  /** The environment the app passed in (`io.env`, e.g. `process.env`); libraries get config from here, never read it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** One progress line on stderr: `[<label>] line`. */
  log(line: string): void;
  /**
   * Registers work that must run if the stage is stopped by SIGINT/SIGTERM (e.g. ending a tracker run, which
   * flushes its logger). Runs newest first, then the process exits 130/143. Returns a function that unregisters it.
   */
  onInterrupt(cleanup: () => unknown): () => void;
}

export interface StageSpec<A extends z.ZodType, S extends ParamsSections, R> {
  name: string;
  description: string;
  /** Adds the stage's options to its commander program (`--params` is added when `params` is given). */
  cli?: (program: Command) => Command;
  /** Validates commander's option values and gives them their type; a failure is a usage error (exit 2). */
  args: A;
  /** Params sections → schemas. `check` validates the same list before a pipeline run. */
  params?: S;
  /** Log prefix, e.g. `train logreg`; default: the stage name. */
  label?: (options: z.output<A>) => string;
  run(ctx: StageContext<z.output<A>, ParamsOf<S>>): Promise<R>;
}

/** Where a stage writes and what it listens to; tests pass their own. */
export interface StageIo {
  stderr?: (text: string) => void;
  stdout?: (text: string) => void;
  /** The environment for `ctx.env` (the app passes `process.env`; default: empty). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Receives SIGINT/SIGTERM (default: `process`). */
  signals?: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
  /** Ends the process after a signal's cleanups (default: `process.exit`). */
  exit?: (code: number) => void;
}

export interface Stage<S extends ParamsSections, R> {
  readonly name: string;
  readonly description: string;
  /** The params sections this stage validates (the list `npm run check` goes through). */
  readonly params: S;
  /** Parses `argv`, validates, runs; throws what the stage throws. */
  run(argv: readonly string[], io?: StageIo): Promise<R>;
  /** `run`, with every error turned into `<stage>: <message>` lines and an exit code (see `EXIT`). Never throws. */
  main(argv?: readonly string[], io?: StageIo): Promise<number>;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * One way to write a pipeline stage: commander options, params sections validated with zod (every problem named
 * with file and key, all at once), one exit-code table, signal handling that runs the stage's registered cleanups.
 * The app's `main.ts` is then `stage.main(process.argv.slice(2), { env: process.env }).then((c) => (process.exitCode = c))`.
 */
export function defineStage<A extends z.ZodType, S extends ParamsSections = Record<never, never>, R = unknown>(spec: StageSpec<A, S, R>): Stage<S, R> {
  const sections = (spec.params ?? {}) as S;
  const hasParams = Object.keys(sections).length > 0;

  async function run(argv: readonly string[], io: StageIo = {}, cleanups: (() => unknown)[] = []): Promise<R> {
    const stderr = io.stderr ?? ((s: string) => void process.stderr.write(s));
    const stdout = io.stdout ?? ((s: string) => void process.stdout.write(s));
    let program = new Command(spec.name)
      .description(spec.description)
      .exitOverride()
      .configureOutput({ writeErr: stderr, writeOut: stdout });
    if (hasParams) program = program.option('--params <file>', 'params file', 'params.yaml');
    if (spec.cli) program = spec.cli(program);
    program.parse([...argv], { from: 'user' });
    const raw = program.opts();
    const parsed = spec.args.safeParse(raw);
    if (!parsed.success) {
      throw new StageUsageError(problemsOf('', parsed.error, raw).map((p) => `--${p.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${p.message}`).join('\n'));
    }
    const options = parsed.data as z.output<A>;
    const paramsFile = typeof raw['params'] === 'string' ? raw['params'] : 'params.yaml';
    const rawParams = hasParams ? await readParamsFile(paramsFile) : {};
    const params = validateSections(rawParams, sections, paramsFile);
    const label = spec.label?.(options) ?? spec.name;
    return spec.run({
      name: spec.name,
      options,
      params,
      paramsFile,
      rawParams,
      env: io.env ?? {},
      log: (line) => stderr(`[${label}] ${line}\n`),
      onInterrupt(cleanup) {
        cleanups.push(cleanup);
        return () => {
          const i = cleanups.indexOf(cleanup);
          if (i >= 0) cleanups.splice(i, 1);
        };
      },
    });
  }

  async function main(argv: readonly string[] = process.argv.slice(2), io: StageIo = {}): Promise<number> {
    const stderr = io.stderr ?? ((s: string) => void process.stderr.write(s));
    const signals = io.signals ?? process;
    const exit = io.exit ?? ((code: number) => process.exit(code));
    const cleanups: (() => unknown)[] = [];
    let stopping = false;
    const handlers = SIGNALS.map((signal) => {
      const handler = (): void => {
        if (stopping) return;
        stopping = true;
        const error = new StageInterruptedError(signal);
        stderr(`${spec.name}: ${error.message}; cleaning up\n`);
        void (async () => {
          for (const cleanup of cleanups.splice(0).reverse()) {
            try {
              await cleanup();
            } catch (e) {
              stderr(`${spec.name}: cleanup failed: ${e instanceof Error ? e.message : String(e)}\n`);
            }
          }
          exit(exitCodeOf(error));
        })();
      };
      signals.on(signal, handler);
      return [signal, handler] as const;
    });
    try {
      await run(argv, io, cleanups);
      return 0;
    } catch (error) {
      const code = exitCodeOf(error);
      // commander has printed its own message already.
      const fromCommander = typeof (error as { code?: unknown }).code === 'string' && (error as { code: string }).code.startsWith('commander.');
      if (!fromCommander) {
        const message = error instanceof Error ? error.message : String(error);
        stderr(message.split('\n').map((line) => `${spec.name}: ${line.trim()}\n`).join(''));
      }
      return code;
    } finally {
      for (const [signal, handler] of handlers) signals.off(signal, handler);
    }
  }

  return { name: spec.name, description: spec.description, params: sections, run: (argv, io) => run(argv, io), main };
}
