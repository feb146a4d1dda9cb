// Artifact stores other than the server's proxy, against real servers: a moto S3 server (tools/testing/s3-server.ts)
// behind `mlflow server --default-artifact-root s3://… --no-serve-artifacts`, and a local folder behind
// `--default-artifact-root file://… --no-serve-artifacts`. The TypeScript client writes run artifacts and a logged
// model straight to the store; S3 itself (listed with its own key), the tracking server's listing and the official
// Python MlflowClient (tests/python_dump.py) read back what was written.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { installS3Server, startS3Server, type S3Server } from '../../../tools/testing/s3-server.js';
import { MlflowArtifactStoreError, MlflowClient, MlflowNotFoundError, MlflowValidationError, mlflowConfigFromEnv, rest } from '../src/index.js';
import { boto3Env, startStoreServer, VENV_BIN, type StoreServer } from './fixtures/store-servers.js';

const DUMP = resolve(import.meta.dirname, 'python_dump.py');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const BUCKET = 'mlflow-store';

let tmp: string;
let s3: S3Server;
let s3Server: StoreServer;
let localServer: StoreServer;
let awsEnv: Record<string, string>;
let pyEnv: Record<string, string>;
const localRoot = () => join(tmp, 'local-store');

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mlflow-stores-'));
  const [server, s3Python] = await Promise.all([startS3Server({ bucket: BUCKET }), installS3Server()]);
  s3 = server;
  awsEnv = {
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_DEFAULT_REGION: s3.region,
    MLFLOW_S3_ENDPOINT_URL: s3.endpoint,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  pyEnv = { ...(await boto3Env(s3Python, tmp)), MLFLOW_DISABLE_TELEMETRY: 'true' };
  [s3Server, localServer] = await Promise.all([
    // The tracking server lists and resolves artifacts itself: it needs the same AWS settings as the clients.
    startStoreServer({ dir: join(tmp, 'srv-s3'), artifactRoot: `s3://${BUCKET}/mlruns`, env: { ...awsEnv, ...pyEnv } }),
    startStoreServer({ dir: join(tmp, 'srv-local'), artifactRoot: pathToFileURL(localRoot()).href, env: pyEnv }),
  ]);
});
afterAll(async () => {
  await Promise.all([s3Server?.stop(), localServer?.stop(), s3?.stop()]);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

interface Written {
  runId: string;
  modelId: string;
  regName: string;
  files: Record<string, Buffer>;
  modelFiles: Record<string, Buffer>;
}

/** What both store tests write: a directory of artifacts, one text artifact, a logged model registered @champion. */
async function writeEverything(client: MlflowClient, label: string): Promise<Written> {
  const exp = await client.getOrCreateExperiment(`${label}-${Date.now()}`);
  const run = await client.createRun({ experimentId: exp.experiment_id, runName: `${label}-run` });
  const runId = run.info.run_id;
  const src = join(tmp, `${label}-src`);
  await mkdir(join(src, 'plots/deeper'), { recursive: true });
  const files: Record<string, Buffer> = {
    'report.md': Buffer.from('# Report\n'),
    'plots/roc.svg': Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
    'plots/deeper/raw.bin': Buffer.from(Array.from({ length: 150_000 }, (_, i) => (i * 29 + 3) & 0xff)),
    'plots/a b+c.json': Buffer.from('{"x":1}'),
  };
  for (const [p, b] of Object.entries(files)) await writeFile(join(src, p), b);
  expect((await client.logArtifacts(runId, src)).sort()).toEqual(Object.keys(files).sort());
  await client.logArtifactContent(runId, 'hello', 'notes/hello.txt');
  files['notes/hello.txt'] = Buffer.from('hello');

  const modelDir = join(tmp, `${label}-model`);
  await mkdir(modelDir);
  const modelFiles: Record<string, Buffer> = { MLmodel: Buffer.from('flavors: {}\n'), 'model.json': Buffer.from('{"modelTopology":{}}'), 'weights.bin': Buffer.from([9, 8, 7, 6, 5]) };
  for (const [p, b] of Object.entries(modelFiles)) await writeFile(join(modelDir, p), b);
  const model = await client.logModel({ runId, name: 'mlp', dir: modelDir, params: { units: 32 } });
  const regName = `${label}-model-${Date.now()}`;
  const v1 = await client.registerModel({ name: regName, modelId: model.info.model_id, alias: 'champion' });
  expect(v1).toMatchObject({ version: '1', status: 'READY', aliases: ['champion'] });
  await client.endRun(runId);
  return { runId, modelId: model.info.model_id, regName, files, modelFiles };
}

interface PyDump {
  artifacts: { path: string; size: number; sha256: string }[];
  registry: { alias_version: string; alias_model_id: string; status: string; logged_model_files: Record<string, string> };
}

async function pythonReads(uri: string, w: Written, env: Record<string, string>): Promise<PyDump> {
  const out = await execa(join(VENV_BIN, 'python'), [DUMP, '--uri', uri, '--run-id', w.runId, '--download-dir', join(tmp, `py-${w.runId}`), '--model-name', w.regName, '--alias', 'champion'], {
    env,
    reject: false,
  });
  if (out.exitCode !== 0) throw new Error(`python_dump.py failed (exit ${out.exitCode}): ${out.stderr.split('\n').slice(-8).join('\n')}`);
  return JSON.parse(out.stdout) as PyDump;
}

function expectPythonSawIt(py: PyDump, w: Written) {
  const expected = Object.entries(w.files)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([p, b]) => [p, b.length, sha(b)]);
  expect(py.artifacts.map((a) => [a.path, a.size, a.sha256])).toEqual(expected);
  expect(py.registry).toMatchObject({ alias_version: '1', alias_model_id: w.modelId, status: 'READY' });
  expect(py.registry.logged_model_files).toEqual(Object.fromEntries(Object.entries(w.modelFiles).map(([p, b]) => [p, sha(b)])));
}

describe('S3 artifact root (mlflow server --default-artifact-root s3://… --no-serve-artifacts)', () => {
  test('run artifacts and a logged model go straight to S3; S3, the server and the Python client read them back', async () => {
    // The app's way in: MLflow's and AWS's own variable names.
    const config = mlflowConfigFromEnv({ MLFLOW_TRACKING_URI: s3Server.uri, ...awsEnv })!;
    expect(config.s3).toEqual({ endpointUrl: s3.endpoint, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, ignoreTls: false });
    const client = new MlflowClient(config);
    try {
      const w = await writeEverything(client, 's3');
      const run = await client.getRun(w.runId);
      expect(run.info.artifact_uri).toBe(`s3://${BUCKET}/mlruns/${run.info.experiment_id}/${w.runId}/artifacts`);
      const model = await client.getLoggedModel(w.modelId);
      expect(model.info.artifact_uri).toMatch(new RegExp(`^s3://${BUCKET}/mlruns/${run.info.experiment_id}/models/${w.modelId}/artifacts$`));

      // S3's own listing, with the server's key: every byte where MLflow expects it.
      const runPrefix = `mlruns/${run.info.experiment_id}/${w.runId}/artifacts/`;
      const objects = await s3.listObjects({ prefix: runPrefix });
      expect(objects.map((o) => [o.key.slice(runPrefix.length), o.size]).sort()).toEqual(
        Object.entries(w.files)
          .map(([p, b]) => [p, b.length])
          .sort(),
      );
      const modelPrefix = model.info.artifact_uri.slice(`s3://${BUCKET}/`.length) + '/';
      expect((await s3.listObjects({ prefix: modelPrefix })).map((o) => o.key.slice(modelPrefix.length)).sort()).toEqual(Object.keys(w.modelFiles).sort());

      // The tracking server lists the store itself (through boto3 with the same env).
      const served = await rest.listArtifacts(client.transport, { run_id: w.runId, path: 'plots' });
      expect(served.files.map((f) => [f.path, f.is_dir, f.file_size])).toEqual([
        ['plots/a b+c.json', false, 7],
        ['plots/deeper', true, undefined],
        ['plots/roc.svg', false, w.files['plots/roc.svg']!.length],
      ]);

      // The TypeScript client lists and downloads from S3.
      expect((await client.listArtifacts(w.runId)).map((f) => [f.path, f.is_dir])).toEqual([
        ['notes', true],
        ['plots', true],
        ['report.md', false],
      ]);
      expect((await client.listArtifacts(w.runId, undefined, { recursive: true })).map((f) => [f.path, f.file_size])).toEqual(
        Object.entries(w.files)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([p, b]) => [p, b.length]),
      );
      const dl = join(tmp, 's3-ts-dl');
      await client.downloadArtifacts(w.runId, '', dl);
      for (const [p, b] of Object.entries(w.files)) expect(await readFile(join(dl, p)), p).toEqual(b);
      expect((await client.readArtifact(w.runId, 'notes/hello.txt')).toString()).toBe('hello');
      const back = join(tmp, 's3-model-back');
      await client.downloadLoggedModelArtifacts(w.modelId, back);
      for (const [p, b] of Object.entries(w.modelFiles)) expect(await readFile(join(back, p)), p).toEqual(b);
      const missing = await client.downloadArtifacts(w.runId, 'nope.txt', join(tmp, 's3-none')).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(MlflowNotFoundError);
      expect((missing as Error).message).toContain(`s3://${BUCKET}/${runPrefix}nope.txt`);

      // The official Python client reads back what TypeScript wrote (its S3 store, boto3, the same env).
      expectPythonSawIt(await pythonReads(s3Server.uri, w, { ...awsEnv, ...pyEnv }), w);
    } finally {
      await client.close();
    }
  });

  test('a wrong S3 secret is a typed error naming the bucket and the S3 code, never the keys', async () => {
    const wrongSecret = `${s3.secretAccessKey.slice(0, -4)}XXXX`;
    const client = new MlflowClient(mlflowConfigFromEnv({ MLFLOW_TRACKING_URI: s3Server.uri, ...awsEnv, AWS_SECRET_ACCESS_KEY: wrongSecret, AWS_SESSION_TOKEN: 'sess-token-secret' })!);
    try {
      const exp = await client.getOrCreateExperiment(`s3-bad-${Date.now()}`);
      const run = await client.createRun({ experimentId: exp.experiment_id });
      const err = await client.logArtifactContent(run.info.run_id, 'x', 'x.txt').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MlflowArtifactStoreError);
      expect(err).toMatchObject({ code: 'ERR_MLFLOW_ARTIFACT_STORE', store: 's3', operation: 'upload', location: `s3://${BUCKET}/mlruns/${exp.experiment_id}/${run.info.run_id}/artifacts/x.txt` });
      expect((err as MlflowArtifactStoreError).storeCode).toMatch(/SignatureDoesNotMatch|InvalidAccessKeyId|InvalidToken|AccessDenied/);
      const said = [String(err), (err as Error).stack ?? '', inspect(err, { depth: 6 }), JSON.stringify(err)].join('\n');
      for (const secret of [wrongSecret, s3.secretAccessKey, 'sess-token-secret']) expect(said).not.toContain(secret);
    } finally {
      await client.close();
    }
  });
});

describe('local artifact root (mlflow server --default-artifact-root file://… --no-serve-artifacts)', () => {
  test('run artifacts and a logged model are written into the folder; the Python client reads them back', async () => {
    const client = new MlflowClient({ trackingUri: localServer.uri });
    try {
      const w = await writeEverything(client, 'local');
      const run = await client.getRun(w.runId);
      const runDir = join(localRoot(), run.info.experiment_id, w.runId, 'artifacts');
      expect(run.info.artifact_uri).toBe(pathToFileURL(runDir).href);
      for (const [p, b] of Object.entries(w.files)) expect(await readFile(join(runDir, p)), p).toEqual(b);
      const served = await rest.listArtifacts(client.transport, { run_id: w.runId });
      expect(served.files.map((f) => f.path)).toEqual(['notes', 'plots', 'report.md']);
      const dl = join(tmp, 'local-ts-dl');
      await client.downloadArtifacts(w.runId, 'plots', dl);
      expect(await readFile(join(dl, 'plots/deeper/raw.bin'))).toEqual(w.files['plots/deeper/raw.bin']);
      await expect(client.readArtifact(w.runId, 'nope.txt')).rejects.toBeInstanceOf(MlflowNotFoundError);
      expectPythonSawIt(await pythonReads(localServer.uri, w, pyEnv), w);
    } finally {
      await client.close();
    }
  });

  test('an artifact URI of a scheme no store here handles is refused naming the scheme and the way out', () => {
    const client = new MlflowClient({ trackingUri: localServer.uri });
    expect(() => client.artifactRepository('gs://bucket/x')).toThrow(MlflowValidationError);
    expect(() => client.artifactRepository('gs://bucket/x')).toThrow(/scheme "gs".*--serve-artifacts/);
    expect(client.artifactRepository('s3://b/p').kind).toBe('s3');
    expect(client.artifactRepository('mlflow-artifacts:/1/r/artifacts').kind).toBe('mlflow-artifacts');
    expect(client.artifactRepository('/srv/mlruns/1').kind).toBe('local');
  });
});
