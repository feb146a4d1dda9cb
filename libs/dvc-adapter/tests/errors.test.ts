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
