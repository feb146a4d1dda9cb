// An S3-compatible DVC remote tested for real on loopback: the real dvc CLI (project venv, dvc-s3) against moto's
// server mode with IAM authentication on (tools/testing/s3-server.ts). Credentials live only in .dvc/config.local.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { snapshotTree } from '../../../tools/testing/fs-snapshot.js';
import { startS3Server, type S3Server } from '../../../tools/testing/s3-server.js';
import { createDvc, DvcCommandError, type Dvc } from '../src/index.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const DVC_BIN = join(ROOT, '.venv/bin/dvc');
const REMOTE = 's3store';
const PREFIX = 'dvcstore';

let server: S3Server;
let work: string; // temp folder: the repo and an empty AWS config outside it
let dir: string; // the git + dvc repository
let dvc: Dvc;
const progress: string[] = [];
/** Environment of every dvc call: no user AWS profile or config can leak in; botocore tries each request once. */
let awsEnv: Record<string, string>;

/** The file and directory the scenario tracks, kept to compare bytes after pull. */
const fileBytes = randomBytes(48 * 1024);
const dirFiles: Record<string, Buffer> = {
  'a.bin': randomBytes(4096),
  'b.txt': Buffer.from('second file of the directory\n'),
  'nested/c.csv': Buffer.from('x,y\n1,2\n3,4\n'),
};

/** `dvc status -r` once cache and workspace are wiped: every tracked file `deleted` (the directory entry itself is not listed). */
function allDeleted(): Record<string, string> {
  const files = ['data.bin', ...Object.keys(dirFiles).map((name) => `images/${name}`)];
  return Object.fromEntries(files.map((path) => [path, 'deleted']));
}

async function git(...args: string[]): Promise<string> {
  return (await execa('git', args, { cwd: dir })).stdout;
}

async function cacheSnapshot(): Promise<Record<string, string>> {
  return snapshotTree(join(dir, '.dvc/cache'));
}

/** Objects under the remote prefix as cache-relative paths (`files/md5/ab/cdef…`), from the server's own listing. */
async function remoteObjects(): Promise<string[]> {
  return (await server.listObjects({ prefix: `${PREFIX}/` })).map((o) => o.key.slice(PREFIX.length + 1)).sort();
}

/** Every text the adapter surfaces for a failed command. */
function surfaced(err: DvcCommandError): string {
  return [err.message, err.dvcMessage, err.stderr, err.stdout, err.args.join(' '), ...progress].join('\n');
}

async function expectDvcError(promise: Promise<unknown>): Promise<DvcCommandError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DvcCommandError);
  return err as DvcCommandError;
}

/** A loopback port nothing listens on: bound by the OS, then closed. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const address = srv.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  await new Promise<void>((res) => srv.close(() => res()));
  return address.port;
}

beforeAll(async () => {
  // The first run on a machine installs the server (tools/s3/install.sh, ~30-80 s): show its progress lines.
  server = await startS3Server({ bucket: 'dvc-remote-s3-test', onLog: (line) => line.startsWith('[s3-install] install') && console.info(line) });
  console.info(`[remote-s3] S3 server ready: install check ${server.timings.installMs.toFixed(0)} ms, start ${server.timings.startMs.toFixed(0)} ms`);
  work = await mkdtemp(join(tmpdir(), 'dvc-adapter-remote-s3-'));
  dir = join(work, 'repo');
  await mkdir(dir);
  await writeFile(join(work, 'aws-config'), '');
  awsEnv = {
    AWS_CONFIG_FILE: join(work, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'aws-config'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_MAX_ATTEMPTS: '1',
  };
  await git('init', '-q', '-b', 'main');
  await git('config', 'user.email', 'tests@example.invalid');
  await git('config', 'user.name', 'remote-s3 tests');
  await git('config', 'commit.gpgsign', 'false');
  dvc = createDvc({ cwd: dir, dvcBin: DVC_BIN, env: awsEnv, onProgress: (line) => progress.push(line) });
  await dvc.init();

  await dvc.remoteAdd(REMOTE, `s3://${server.bucket}/${PREFIX}`, { default: true });
  await dvc.remoteModify(REMOTE, 'endpointurl', server.endpoint, { level: 'local' });
  await dvc.remoteModify(REMOTE, 'access_key_id', server.accessKeyId, { level: 'local' });
  await dvc.remoteModify(REMOTE, 'secret_access_key', server.secretAccessKey, { level: 'local' });
  // Short timeouts so an unreachable endpoint fails in seconds (retries: AWS_MAX_ATTEMPTS above).
  await dvc.remoteModify(REMOTE, 'connect_timeout', '3', { level: 'local' });
  await dvc.remoteModify(REMOTE, 'read_timeout', '20', { level: 'local' });

  await writeFile(join(dir, 'data.bin'), fileBytes);
  for (const [name, bytes] of Object.entries(dirFiles)) {
    await mkdir(join(dir, 'images', name, '..'), { recursive: true });
    await writeFile(join(dir, 'images', name), bytes);
  }
  await dvc.add(['data.bin', 'images']);
  await git('add', '-A');
  await git('commit', '-q', '-m', 'track data.bin and images/ with an S3 remote');
});

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

test('credentials stay in the git-ignored .dvc/config.local', async () => {
  const shared = await readFile(join(dir, '.dvc/config'), 'utf8');
  const local = await readFile(join(dir, '.dvc/config.local'), 'utf8');
  expect(shared).toContain(`s3://${server.bucket}/${PREFIX}`);
  expect(shared).not.toContain(server.secretAccessKey);
  expect(shared).not.toContain(server.accessKeyId);
  expect(local).toContain(server.secretAccessKey);
  expect(await git('check-ignore', '.dvc/config.local')).toBe('.dvc/config.local');
  // Nothing the adapter reported so far carries the secret.
  expect(progress.join('\n')).not.toContain(server.secretAccessKey);
});

test('push, status -c clean, wipe cache and workspace, pull restores byte-identical data', async () => {
  const cache = await cacheSnapshot();
  const cacheObjects = Object.keys(cache).sort();
  // data.bin, each directory file and the directory manifest (.dir).
  expect(cacheObjects).toHaveLength(1 + Object.keys(dirFiles).length + 1);

  const pushed = await dvc.push();
  expect(pushed.counts['pushed']).toBe(cacheObjects.length);
  // The server holds exactly the cache's objects, under the same content-addressed paths.
  expect(await remoteObjects()).toEqual(cacheObjects);
  expect(await dvc.status({ cloud: true })).toEqual({ kind: 'cloud', clean: true, files: {} });

  await rm(join(dir, '.dvc/cache'), { recursive: true, force: true });
  await rm(join(dir, 'data.bin'));
  await rm(join(dir, 'images'), { recursive: true });
  // With the cache gone, dvc reads the directory manifest from the remote to list what is missing locally.
  expect((await dvc.status({ remote: REMOTE })).files).toEqual(allDeleted());

  const pulled = await dvc.pull();
  expect(pulled.changes.added.sort()).toEqual(['data.bin', 'images/']);
  expect(Buffer.compare(await readFile(join(dir, 'data.bin')), fileBytes)).toBe(0);
  for (const [name, bytes] of Object.entries(dirFiles)) {
    expect(Buffer.compare(await readFile(join(dir, 'images', name)), bytes), `images/${name}`).toBe(0);
  }
  expect(await cacheSnapshot()).toEqual(cache);
  expect(progress.join('\n')).not.toContain(server.secretAccessKey);
});

test('wrong credentials: a typed error about access, no secret surfaced, local cache and remote untouched', async () => {
  await writeFile(join(dir, 'late.bin'), randomBytes(2048));
  await dvc.add('late.bin');
  const cache = await cacheSnapshot();
  const remote = await remoteObjects();
  const wrongSecret = `wrong-${randomBytes(12).toString('hex')}`;

  try {
    // A known key signed with the wrong secret.
    await dvc.remoteModify(REMOTE, 'secret_access_key', wrongSecret, { level: 'local' });
    progress.length = 0;
    const pushErr = await expectDvcError(dvc.push());
    expect(pushErr.exitCode).not.toBe(0);
    expect(pushErr.args[0]).toBe('push');
    expect(pushErr.dvcMessage).toMatch(/forbidden|403|access denied|signature|credential|invalidaccesskeyid/i);
    for (const secret of [wrongSecret, server.secretAccessKey]) expect(surfaced(pushErr)).not.toContain(secret);

    // An access key id the server does not know.
    await dvc.remoteModify(REMOTE, 'access_key_id', 'AKIAUNKNOWNKEY000000', { level: 'local' });
    progress.length = 0;
    const statusErr = await expectDvcError(dvc.status({ cloud: true }));
    expect(statusErr.dvcMessage).toMatch(/forbidden|403|access denied|signature|credential|invalidaccesskeyid/i);
    for (const secret of [wrongSecret, server.secretAccessKey]) expect(surfaced(statusErr)).not.toContain(secret);

    expect(await cacheSnapshot()).toEqual(cache);
    expect(await remoteObjects()).toEqual(remote);
  } finally {
    await dvc.remoteModify(REMOTE, 'access_key_id', server.accessKeyId, { level: 'local' });
    await dvc.remoteModify(REMOTE, 'secret_access_key', server.secretAccessKey, { level: 'local' });
  }

  // With the right credentials back, the same push goes through.
  const pushed = await dvc.push();
  expect(pushed.counts['pushed']).toBe(1);
  expect(await remoteObjects()).toEqual(Object.keys(cache).sort());
  expect(await cacheSnapshot()).toEqual(cache);
});

test('unreachable endpoint: a clear error naming the endpoint within seconds, local cache intact', async () => {
  await writeFile(join(dir, 'offline.bin'), randomBytes(1024));
  await dvc.add('offline.bin');
  const cache = await cacheSnapshot();
  const port = await closedPort();

  try {
    await dvc.remoteModify(REMOTE, 'endpointurl', `http://127.0.0.1:${port}`, { level: 'local' });
    progress.length = 0;
    const t0 = performance.now();
    const pushErr = await expectDvcError(dvc.push());
    const pushMs = performance.now() - t0;
    expect(pushErr.dvcMessage).toMatch(/could not connect|connection refused|connect call failed/i);
    expect(pushErr.dvcMessage).toContain(`127.0.0.1:${port}`);
    expect(surfaced(pushErr)).not.toContain(server.secretAccessKey);

    const t1 = performance.now();
    const statusErr = await expectDvcError(dvc.status({ cloud: true }));
    const statusMs = performance.now() - t1;
    expect(statusErr.dvcMessage).toContain(`127.0.0.1:${port}`);
    console.info(`[remote-s3] unreachable endpoint: push failed after ${pushMs.toFixed(0)} ms, status -c after ${statusMs.toFixed(0)} ms`);
    // One attempt per request and short timeouts: seconds, not the minutes of default retries with backoff.
    expect(Math.max(pushMs, statusMs)).toBeLessThan(30_000);

    expect(await cacheSnapshot()).toEqual(cache);
    expect(Buffer.byteLength(await readFile(join(dir, 'offline.bin')))).toBe(1024);
  } finally {
    await dvc.remoteModify(REMOTE, 'endpointurl', server.endpoint, { level: 'local' });
  }
  expect((await dvc.status({ cloud: true })).files).toEqual({ 'offline.bin': 'new' });
});
