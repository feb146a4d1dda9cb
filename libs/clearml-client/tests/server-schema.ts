// The server's own compiled API schemas (the apiserver writes `schema/services/_cache.json` from its *.conf files
// at start), and a small JSON-schema check of request bodies against them: known fields, required fields, types,
// enums, items, `$ref`s into the service's definitions.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

type Json = Record<string, unknown>;
export interface ServerSchemas {
  services: Record<string, Json>;
}

export function loadServerSchemas(env: Record<string, string | undefined>): ServerSchemas | undefined {
  const home = env['CLEARML_SERVER_HOME'] || join(homedir(), '.cache', 'clearml-server');
  const file = join(home, 'src', 'apiserver', 'schema', 'services', '_cache.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as ServerSchemas;
}

const cmp = (a: string, b: string) => {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1! - b1! || a2! - b2!;
};

/** The endpoint's schema at `version` (the newest defined version not above it), or undefined. */
export function endpointSchema(s: ServerSchemas, endpoint: string, version: string): { version: string; request: Json; response: Json; definitions: Json } | undefined {
  const [service, action] = endpoint.split('.') as [string, string];
  const svc = s.services[service];
  const ep = svc?.[action] as Record<string, Json> | undefined;
  if (!svc || !ep) return undefined;
  const versions = Object.keys(ep)
    .filter((v) => /^\d+\.\d+$/.test(v) && cmp(v, version) <= 0)
    .sort(cmp);
  const v = versions[versions.length - 1];
  if (!v) return undefined;
  const def = ep[v]!;
  let request = def['request'] as Json;
  // The server's models.create "2.13" declares `metadata` beside `request` instead of inside it (a slip in
  // models.conf); the server accepts the field. Fields declared that way are treated as request fields.
  const stray = Object.entries(def).filter(([k, x]) => !['description', 'request', 'response'].includes(k) && typeof x === 'object' && x !== null && 'type' in x);
  if (stray.length > 0) request = { ...request, properties: { ...(request['properties'] as Json), ...Object.fromEntries(stray) } };
  return { version: v, request, response: def['response'] as Json, definitions: (svc['_definitions'] ?? {}) as Json };
}

function resolveRef(schema: Json, defs: Json): Json {
  let s = schema;
  for (let i = 0; i < 5 && typeof s['$ref'] === 'string'; i++) {
    const name = (s['$ref'] as string).replace('#/definitions/', '');
    const target = defs[name] as Json | undefined;
    if (!target) return {};
    const { $ref: _ref, ...rest } = s;
    s = { ...target, ...rest };
  }
  return s;
}

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);

/** Problems of `value` against `schema` ('' when it conforms). */
export function checkValue(value: unknown, schema0: Json, defs: Json, path: string, problems: string[]): void {
  const schema = resolveRef(schema0, defs);
  const t = schema['type'];
  const types = Array.isArray(t) ? (t as string[]) : typeof t === 'string' ? [t] : [];
  const actual = typeOf(value);
  if (types.length > 0 && !types.some((x) => x === actual || (x === 'number' && actual === 'integer'))) {
    problems.push(`${path}: ${actual} where the server wants ${types.join('|')}`);
    return;
  }
  if (Array.isArray(schema['enum']) && !(schema['enum'] as unknown[]).includes(value)) problems.push(`${path}: ${JSON.stringify(value)} not in ${JSON.stringify(schema['enum'])}`);
  if (actual === 'array' && schema['items']) (value as unknown[]).forEach((x, i) => checkValue(x, schema['items'] as Json, defs, `${path}[${i}]`, problems));
  if (actual === 'object') {
    const props = (schema['properties'] ?? {}) as Record<string, Json>;
    const extra = schema['additionalProperties'];
    for (const req of (schema['required'] as string[] | undefined) ?? []) if (!(req in (value as Json))) problems.push(`${path}: required field '${req}' missing`);
    for (const [k, v] of Object.entries(value as Json)) {
      if (props[k]) checkValue(v, props[k], defs, `${path}.${k}`, problems);
      else if (typeof extra === 'object' && extra !== null) checkValue(v, extra as Json, defs, `${path}.${k}`, problems);
      else if (extra !== true && Object.keys(props).length > 0) problems.push(`${path}: field '${k}' is not in the server's schema`);
    }
  }
}
