// Typed errors from the real dvc CLI: failing commands, credentials kept out, a missing binary, unparsable output.
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDvc,
  DvcCommandError,
  DvcError,
  DvcFileError,
  DvcNotFoundError,
  DvcOutputParseError,
  readDvcPointer,
  resolveDvcBinary,
} from '../src/index.js';
import { DVC_BIN, makeRepo, type TempRepo } from './helpers.js';

let repo: TempRepo;
let scratch: string;
beforeAll(async () => {
  repo = await makeRepo('errors');
  scratch = await mkdtemp(join(tmpdir(), 'dvc-adapter-errors-'));
});
afterAll(async () => {
  await repo?.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

test('repro of an unknown stage is a DvcCommandError with the command, exit code and DVC message', async () => {
  await repo.write('dvc.yaml', 'stages:\n  hello:\n    cmd: node -e "1"\n');
  const err = await repo.dvc.repro({ targets: ['nope'] }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DvcCommandError);
  expect(err).toBeInstanceOf(DvcError);
  const e = err as DvcCommandError;
  expect(e.args).toEqual(['repro', 'nope']);
  expect(e.exitCode).not.toBe(0);
  expect(e.dvcMessage).toBe("Stage 'nope' not found inside 'dvc.yaml' file");
  expect(e.message).toContain('`dvc repro nope` failed');
  expect(e.stderr).toContain('ERROR:');
});

test('pull of data that is in no cache and no remote fails with DVC reason', async () => {
  await repo.write('lost.txt', 'gone soon\n');
  await repo.dvc.add('lost.txt');
  await rm(join(repo.dir, '.dvc/cache'), { recursive: true });
  await rm(join(repo.dir, 'lost.txt'));
  const err = (await repo.dvc.pull().catch((e: unknown) => e)) as DvcCommandError;
  expect(err).toBeInstanceOf(DvcCommandError);
  expect(err.exitCode).toBe(1);
  expect(err.dvcMessage).toMatch(/failed to pull data from the cloud/);
  expect(err.dvcMessage).toContain('lost.txt');
});

test('credentials never reach error messages, args or stderr', async () => {
  const secret = 'Sup3rS3cretPw';
  await repo.dvc.remoteAdd('web', `http://alice:${secret}@127.0.0.1:9/store`);
  await repo.write('pushme.txt', 'data for an unreachable remote\n');
  await repo.dvc.add('pushme.txt');
  // With -v dvc itself prints the remote URL (password included) on stderr: the error must not carry it.
  const verboseErr = (await repo.dvc.raw(['push', '-v', '--remote', 'web']).catch((e: unknown) => e)) as DvcCommandError;
  expect(verboseErr).toBeInstanceOf(DvcCommandError);
  expect(verboseErr.dvcMessage).toMatch(/failed to push data to the cloud/);
  expect(verboseErr.stdout + verboseErr.stderr).toContain('http://***@127.0.0.1:9'); // DEBUG lines go to stdout
  const modifyErr = (await repo.dvc.remoteModify('absent', 'secret_access_key', secret).catch((e: unknown) => e)) as DvcCommandError;
  expect(modifyErr).toBeInstanceOf(DvcCommandError);
  expect(modifyErr.args).toEqual(['remote', 'modify', 'absent', 'secret_access_key', '***']);
  expect(modifyErr.dvcMessage).toContain("remote 'absent' doesn't exist");
  for (const e of [verboseErr, modifyErr]) {
    expect(`${e.message}\n${e.args.join(' ')}\n${e.stderr}\n${e.stdout}\n${e.dvcMessage}`).not.toContain(secret);
  }
});

test('a missing dvc binary gives one clear error with install instructions', async () => {
  const missing = createDvc({ cwd: repo.dir, dvcBin: join(scratch, 'no-such-dvc') });
  const err = await missing.status().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DvcNotFoundError);
  expect((err as Error).message).toContain('npm run setup');
  expect((err as Error).message).toContain('pip install -r requirements.txt -c constraints.txt');
  await expect(resolveDvcBinary({ cwd: scratch, pathEnv: join(scratch, 'empty-bin') })).rejects.toThrow(DvcNotFoundError);
  // A bare name that the OS cannot start is reported the same way.
  const bare = createDvc({ cwd: repo.dir, dvcBin: 'dvc-does-not-exist-here' });
  await expect(bare.version()).rejects.toThrow(DvcNotFoundError);
});

test('resolveDvcBinary prefers the nearest .venv/bin/dvc, then PATH', async () => {
  const project = join(scratch, 'project');
  await mkdir(join(project, '.venv/bin'), { recursive: true });
  await mkdir(join(project, 'apps/deep'), { recursive: true });
  await symlink(DVC_BIN, join(project, '.venv/bin/dvc'));
  expect(await resolveDvcBinary({ cwd: join(project, 'apps/deep'), pathEnv: '' })).toBe(join(project, '.venv/bin/dvc'));
  const binDir = join(scratch, 'bin');
  await mkdir(binDir);
  await symlink(DVC_BIN, join(binDir, 'dvc'));
  expect(await resolveDvcBinary({ cwd: scratch, pathEnv: `${join(scratch, 'nothing')}:${binDir}` })).toBe(join(binDir, 'dvc'));
  const viaPath = createDvc({ cwd: repo.dir, env: { PATH: binDir } });
  expect(await viaPath.binary()).toBe(join(binDir, 'dvc'));
});

test('output that is not the expected JSON is a DvcOutputParseError', async () => {
  // A stand-in executable: the real dvc never prints this, so this is the only way to reach the parse error path.
  const fake = join(scratch, 'fake-dvc');
  await writeFile(fake, '#!/bin/sh\necho "this is not json"\n');
  await chmod(fake, 0o755);
  const err = await createDvc({ cwd: repo.dir, dvcBin: fake }).status().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DvcOutputParseError);
  expect((err as DvcOutputParseError).args).toEqual(['status', '--json']);
  const wrongShape = join(scratch, 'fake-dvc-2');
  await writeFile(wrongShape, '#!/bin/sh\necho \'{"a.txt": 5}\'\n');
  await chmod(wrongShape, 0o755);
  const err2 = (await createDvc({ cwd: repo.dir, dvcBin: wrongShape }).status({ cloud: true }).catch((e: unknown) => e)) as DvcOutputParseError;
  expect(err2).toBeInstanceOf(DvcOutputParseError);
  expect(err2.issues).toContain('a.txt');
});

test('a malformed .dvc pointer is a DvcFileError naming the file and the key', async () => {
  const file = join(scratch, 'bad.dvc');
  await writeFile(file, 'outs:\n- md5: 123\n');
  const err = (await readDvcPointer(file).catch((e: unknown) => e)) as DvcFileError;
  expect(err).toBeInstanceOf(DvcFileError);
  expect(err.file).toBe(file);
  expect(err.message).toMatch(/outs\.0\.(path|md5)/);
  await expect(readDvcPointer(join(scratch, 'absent.dvc'))).rejects.toThrow(/absent\.dvc: \.dvc pointer not found/);
});

test('a dvc killed by the timeout is a DvcCommandError with timedOut and the signal, not an exit code', async () => {
  const slow = createDvc({ cwd: repo.dir, dvcBin: DVC_BIN, timeoutMs: 50 });
  const err = (await slow.status().catch((e: unknown) => e)) as DvcCommandError;
  expect(err).toBeInstanceOf(DvcCommandError);
  expect(err).toMatchObject({ code: 'ERR_DVC_COMMAND', timedOut: true, isCanceled: false, signal: 'SIGTERM', exitCode: undefined });
  expect(err.message).toMatch(/^`dvc status --json` timed out after 50 ms in /);
});

test('an aborted cancelSignal is a DvcCommandError with isCanceled', async () => {
  const controller = new AbortController();
  const dvc = createDvc({ cwd: repo.dir, dvcBin: DVC_BIN, cancelSignal: controller.signal });
  const pending = dvc.status().catch((e: unknown) => e);
  setTimeout(() => controller.abort(), 20);
  const err = (await pending) as DvcCommandError;
  expect(err).toBeInstanceOf(DvcCommandError);
  expect(err).toMatchObject({ isCanceled: true, timedOut: false, exitCode: undefined });
  expect(err.message).toMatch(/^`dvc status --json` was canceled in /);
});

test('a failing dvc has its exit code and no signal', async () => {
  const err = (await repo.dvc.raw(['no-such-command']).catch((e: unknown) => e)) as DvcCommandError;
  expect(err).toBeInstanceOf(DvcCommandError);
  expect(err).toMatchObject({ timedOut: false, isCanceled: false, signal: undefined });
  expect(err.exitCode).toBeGreaterThan(0);
  expect(err.message).toContain(`failed with exit code ${err.exitCode}`);
});

test('every error class has a stable code, and instanceof holds across a second copy of the module', async () => {
  const here = await import('../src/errors.js');
  const nxHere = await import('../src/nx/errors.js');
  // A second copy of the same modules, as two installed versions of the package would give.
  // @ts-expect-error the query makes vite load a second instance; TypeScript knows no such module
  const copy = (await import('../src/errors.ts?copy')) as typeof here;
  // @ts-expect-error as above
  const nxCopy = (await import('../src/nx/errors.ts?copy')) as typeof nxHere;
  expect(copy.DvcCommandError).not.toBe(here.DvcCommandError);
  const make = (m: typeof here, n: typeof nxHere) => ({
    DvcError: new m.DvcError('x'),
    DvcNotFoundError: new m.DvcNotFoundError(['dvc']),
    DvcCommandError: new m.DvcCommandError({ args: ['status'], exitCode: 1, stderr: '', stdout: '', dvcMessage: 'm', cwd: '/' }),
    DvcOutputParseError: new m.DvcOutputParseError({ args: ['status'], output: '', issues: 'i' }),
    DvcFileError: new m.DvcFileError('f', 'p'),
    DataIntegrityError: new m.DataIntegrityError({ file: 'f', expectedMd5: 'a', actualMd5: 'b' }),
    DataRestoreError: new m.DataRestoreError('f', 'r'),
    DvcYamlError: new n.DvcYamlError('y', { where: 'dvc.yaml' }),
    DvcNxStageError: new n.DvcNxStageError('s', { stage: 's', dvcYaml: 'dvc.yaml' }),
  });
  const codes = {
    DvcError: 'ERR_DVC',
    DvcNotFoundError: 'ERR_DVC_NOT_FOUND',
    DvcCommandError: 'ERR_DVC_COMMAND',
    DvcOutputParseError: 'ERR_DVC_OUTPUT_PARSE',
    DvcFileError: 'ERR_DVC_FILE',
    DataIntegrityError: 'ERR_DVC_DATA_INTEGRITY',
    DataRestoreError: 'ERR_DVC_DATA_RESTORE',
    DvcYamlError: 'ERR_DVC_YAML',
    DvcNxStageError: 'ERR_DVC_NX_STAGE',
  } as const;
  const fromCopy = make(copy, nxCopy);
  const classes = { ...here, ...nxHere } as unknown as Record<string, abstract new (...a: never[]) => Error>;
  const copyClasses = { ...copy, ...nxCopy } as unknown as Record<string, abstract new (...a: never[]) => Error>;
  for (const [name, err] of Object.entries(make(here, nxHere))) {
    const other = fromCopy[name as keyof typeof fromCopy];
    expect(err.code, name).toBe(codes[name as keyof typeof codes]);
    expect(err.name, name).toBe(name);
    expect(other, name).toBeInstanceOf(classes[name]!); // the copy's instance, this copy's class
    expect(err, name).toBeInstanceOf(copyClasses[name]!);
    expect(other, name).toBeInstanceOf(here.DvcError);
    expect(other, name).toBeInstanceOf(Error);
  }
  // brands do not leak sideways or upwards
  expect(fromCopy.DvcError).not.toBeInstanceOf(here.DvcCommandError);
  expect(fromCopy.DvcFileError).not.toBeInstanceOf(here.DvcCommandError);
  expect(new Error('plain')).not.toBeInstanceOf(here.DvcError);
  expect({ code: 'ERR_DVC_COMMAND' }).not.toBeInstanceOf(here.DvcCommandError);
});
