import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sdkPython, repoRoot } from '../../../tools/testing/clearml-server.js';
import { ClearmlConfigError, HoconParseError, clearmlConfigFromEnv, deriveHosts, hoconGet, parseHocon, readClearmlConf } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clearml-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('HOCON reader', () => {
  test('objects with and without separators, paths, = and :, quoted and unquoted strings, comments, merging', () => {
    const doc = parseHocon(`
      # a comment
      api {
        api_server: http://localhost:8008   // trailing comment
        web_server = "http://localhost:8080"
        credentials {"access_key": "AK", "secret_key": "S#K//x"}
      }
      api.files_server: http://files.example.com:8081/base
      a.b.c = 3
      a { b { d: true, e: null }, f: [1, 2.5, "x", [y]] }
      "quoted.key": v
      msg: hello   world
      concat: "a" b "c"
      triple: """line1
line2 "q" """
      n: -1e3
      big: 10GB
      arr: [
        one
        two,
        three
      ]
      arr += four
    `);
    expect(doc).toMatchObject({
      api: {
        api_server: 'http://localhost:8008',
        web_server: 'http://localhost:8080',
        files_server: 'http://files.example.com:8081/base',
        credentials: { access_key: 'AK', secret_key: 'S#K//x' },
      },
      a: { b: { c: 3, d: true, e: null }, f: [1, 2.5, 'x', ['y']] },
      'quoted.key': 'v',
      msg: 'hello   world',
      concat: 'a b c',
      triple: 'line1\nline2 "q" ',
      n: -1000,
      big: '10GB',
      arr: ['one', 'two', 'three', 'four'],
    });
    expect(hoconGet(doc, 'api.credentials.access_key')).toBe('AK');
    expect(hoconGet(doc, 'api.nope')).toBeUndefined();
  });

  test('a braced root, later values override, objects merge, substitutions resolve', () => {
    const doc = parseHocon('{ x: 1, o { a: 1 }, o { b: 2 }, x: 2, y: ${x}, z: ${?NOPE}, h: ${?HOME_DIR}/c }', { env: { HOME_DIR: '/h' } });
    expect(doc).toEqual({ x: 2, o: { a: 1, b: 2 }, y: 2, h: '/h/c' });
  });

  test('syntax errors name the file, line and column', () => {
    const err = (() => {
      try {
        parseHocon('api {\n  api_server: "http://x\n}', { file: '/etc/clearml.conf' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(HoconParseError);
    expect(err).toBeInstanceOf(ClearmlConfigError);
    expect((err as HoconParseError).line).toBe(2);
    expect((err as HoconParseError).message).toMatch(/^\/etc\/clearml\.conf:2:\d+: unterminated quoted string/);
    expect(() => parseHocon('a { b: 1')).toThrow(/missing '}'/);
    expect(() => parseHocon('a b c')).toThrow(/expected ':', '=' or '\{'/);
    expect(() => parseHocon('include "other.conf"')).toThrow(/include.*not supported/);
    expect(() => parseHocon('a: ${missing.path}')).toThrow(/unresolved substitution \$\{missing\.path\}/);
  });
});

describe('clearmlConfigFromEnv', () => {
  test('the environment wins; hosts derived the SDK way', () => {
    const c = clearmlConfigFromEnv(
      { CLEARML_API_HOST: 'http://127.0.0.1:8008/', CLEARML_API_ACCESS_KEY: 'ak', CLEARML_API_SECRET_KEY: 'sk', CLEARML_CONFIG_FILE: join(dir, 'none.conf') },
      {},
    );
    expect(c).toMatchObject({ apiHost: 'http://127.0.0.1:8008', webHost: 'http://127.0.0.1:8080', filesHost: 'http://127.0.0.1:8081', credentials: { accessKey: 'ak', secretKey: 'sk' }, source: 'env' });
    expect(deriveHosts('https://api.clear.ml')).toEqual({ webHost: 'https://app.clear.ml', filesHost: 'https://files.clear.ml' });
  });

  test('nothing configured → undefined; half configured → one error naming what is missing, never a secret', async () => {
    expect(clearmlConfigFromEnv({ CLEARML_CONFIG_FILE: join(dir, 'none.conf') })).toBeUndefined();
    expect(clearmlConfigFromEnv({}, { homeDir: join(dir, 'empty-home') })).toBeUndefined();
    expect(() => clearmlConfigFromEnv({ CLEARML_API_HOST: 'http://h:8008', CLEARML_API_SECRET_KEY: 'very-secret', CLEARML_CONFIG_FILE: join(dir, 'none.conf') })).toThrow(
      /^ClearML API host http:\/\/h:8008 is set but CLEARML_API_ACCESS_KEY .* is not/,
    );
    try {
      clearmlConfigFromEnv({ CLEARML_API_HOST: 'not a url', CLEARML_API_ACCESS_KEY: 'a', CLEARML_API_SECRET_KEY: 'very-secret', CLEARML_CONFIG_FILE: join(dir, 'none.conf') });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ClearmlConfigError);
      expect((e as Error).message).toMatch(/apiHost: must be an http\(s\) URL/);
      expect((e as Error).message).not.toContain('very-secret');
    }
  });

  test('a clearml.conf as clearml-init writes it reads the same as the official SDK reads it', async () => {
    const sdkDefault = await readFile(join(repoRoot, '.venv/lib/python3.11/site-packages/clearml/config/default/sdk.conf'), 'utf8');
    // clearml-init's header (cli/config/__main__.py), then a few more forms users write by hand
    const conf =
      '# ClearML SDK configuration file\n' +
      'api {\n' +
      "    # Notice: 'host' is the api server (default port 8008), not the web server.\n" +
      '    api_server: http://10.1.2.3:8008\n' +
      '    web_server: http://10.1.2.3:8080\n' +
      '    files_server: http://10.1.2.3:8081\n' +
      '    # Credentials are generated using the webapp, http://10.1.2.3:8080/settings\n' +
      '    # Override with os environment: CLEARML_API_ACCESS_KEY / CLEARML_API_SECRET_KEY\n' +
      '    credentials {"access_key": "CONFKEY123", "secret_key": "conf-secret-=:#x"}\n' +
      '}\n' +
      'sdk ' +
      sdkDefault +
      '\napi.verify_certificate = false\napi { http.retries.total: 7 }\n';
    const file = join(dir, 'clearml.conf');
    await writeFile(file, conf);

    const ours = readClearmlConf(conf, file);
    const cfg = clearmlConfigFromEnv({ CLEARML_CONFIG_FILE: file });
    const doc = parseHocon(conf, { file });

    const r = await execa(sdkPython, [join(import.meta.dirname, 'python/read_config.py')], {
      env: { CLEARML_CONFIG_FILE: file, HOME: dir, CLEARML_LOG_LEVEL: 'ERROR' },
      extendEnv: false,
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const sdk = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      api: Record<string, unknown>;
      apiHost: string;
      webHost: string;
      filesHost: string;
      sdk_storage_cache_dir: string;
      sdk_log_env: unknown;
    };
    // The SDK merges its built-in defaults under the file; compare every key the file itself sets.
    expect(doc['api']).toEqual({
      api_server: sdk.api['api_server'],
      web_server: sdk.api['web_server'],
      files_server: sdk.api['files_server'],
      credentials: sdk.api['credentials'],
      verify_certificate: sdk.api['verify_certificate'],
      http: { retries: { total: (sdk.api['http'] as { retries: { total: number } }).retries.total } },
    });
    expect(ours).toEqual({ apiServer: sdk.apiHost, webServer: sdk.webHost, filesServer: sdk.filesHost, accessKey: 'CONFKEY123', secretKey: 'conf-secret-=:#x' });
    expect(cfg).toMatchObject({ apiHost: sdk.apiHost, webHost: sdk.webHost, filesHost: sdk.filesHost, source: file });
    expect(hoconGet(doc, 'sdk.storage.cache.default_base_dir')).toBe(sdk.sdk_storage_cache_dir);
    expect(hoconGet(doc, 'sdk.development.log_os_environments')).toEqual(sdk.sdk_log_env);

    // environment variables override single settings of the file, as in the SDK
    const mixed = clearmlConfigFromEnv({ CLEARML_CONFIG_FILE: file, CLEARML_API_SECRET_KEY: 'from-env' });
    expect(mixed).toMatchObject({ apiHost: 'http://10.1.2.3:8008', credentials: { accessKey: 'CONFKEY123', secretKey: 'from-env' } });
  });
});
