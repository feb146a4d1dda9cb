/** Mapping artifact URIs to the tracking server's artifact proxy (`/api/2.0/mlflow-artifacts/artifacts/...`). */
import { MlflowValidationError } from './errors.js';

const PROXY_MARK = '/api/2.0/mlflow-artifacts/artifacts';

/**
 * The proxy path (relative to the server's artifact root) of an artifact URI as the server reports it:
 * `mlflow-artifacts:/1/<run>/artifacts`, `mlflow-artifacts://host:port/1/<run>/artifacts` or
 * `http(s)://host/api/2.0/mlflow-artifacts/artifacts/1/<run>/artifacts` → `1/<run>/artifacts`.
 */
export function proxyRootOf(artifactUri: string): string {
  if (artifactUri.startsWith('mlflow-artifacts:')) {
    const rest = artifactUri.slice('mlflow-artifacts:'.length);
    // mlflow-artifacts://host:port/path (authority present) or mlflow-artifacts:/path
    const path = rest.startsWith('//') ? rest.slice(2).replace(/^[^/]*/, '') : rest;
    return trimSlashes(path);
  }
  if (/^https?:\/\//i.test(artifactUri)) {
    const u = new URL(artifactUri);
    const i = u.pathname.indexOf(PROXY_MARK);
    if (i >= 0) return trimSlashes(decodeURIComponent(u.pathname.slice(i + PROXY_MARK.length)));
  }
  throw new MlflowValidationError(
    `artifact location ${JSON.stringify(artifactUri.replace(/\/\/[^/@]*@/, '//***@'))}`,
    'is not served through the tracking server; start `mlflow server` with --serve-artifacts (the default) so artifact URIs are mlflow-artifacts:/…',
  );
}

export function joinArtifactPath(...parts: (string | undefined)[]): string {
  const segs: string[] = [];
  for (const p of parts) {
    if (!p) continue;
    for (const s of p.split(/[\\/]+/)) {
      if (s === '' || s === '.') continue;
      if (s === '..') throw new MlflowValidationError(`artifact path ${JSON.stringify(p)}`, 'must not contain ".."');
      segs.push(s);
    }
  }
  return segs.join('/');
}

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, '');
}
