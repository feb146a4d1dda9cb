/**
 * Typed errors of the MLflow client. Every message names the server (credentials stripped), the endpoint and the
 * server's own words; none ever contains a password, a token or an Authorization header.
 */

const brandOf = (className: string): symbol => Symbol.for(`@mlops-ts/mlflow-client/${className}`);

/**
 * Base class of every error this library throws.
 *
 * Every class has a stable string `code` (`ERR_MLFLOW_*`, listed in {@link MlflowErrorCodes}) and an `instanceof`
 * that also holds across two installed copies of this package (undici's pattern): each instance carries a
 * `Symbol.for('@mlops-ts/mlflow-client/<ClassName>')` brand for its class and every parent class, and
 * `static [Symbol.hasInstance]` checks that brand instead of the prototype chain.
 */
export class MlflowError extends Error {
  /** The brand `instanceof` checks; every subclass declares its own. */
  static readonly brand: symbol = brandOf('MlflowError');
  readonly code: string = 'ERR_MLFLOW';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    for (let c: unknown = new.target; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
      if (Object.hasOwn(c, 'brand')) Object.defineProperty(this, (c as typeof MlflowError).brand, { value: true, enumerable: false });
    }
  }
  static override [Symbol.hasInstance](x: unknown): boolean {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[this.brand] === true;
  }
}

/** MLflow error codes seen from the REST API (databricks.proto `ErrorCode`; the common ones are listed). */
export type MlflowErrorCode =
  | 'INTERNAL_ERROR'
  | 'TEMPORARILY_UNAVAILABLE'
  | 'BAD_REQUEST'
  | 'INVALID_PARAMETER_VALUE'
  | 'ENDPOINT_NOT_FOUND'
  | 'MALFORMED_REQUEST'
  | 'INVALID_STATE'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'FEATURE_DISABLED'
  | 'REQUEST_LIMIT_EXCEEDED'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'RESOURCE_CONFLICT'
  | 'NOT_IMPLEMENTED'
  | 'RESOURCE_EXHAUSTED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'UNPARSEABLE_HTTP_ERROR'
  | (string & {});

export interface MlflowApiErrorFields {
  errorCode: MlflowErrorCode;
  httpStatus: number;
  /** `METHOD /api/2.0/...` (path only, no query string: queries can carry names but never credentials). */
  endpoint: string;
  /** The server's message (trimmed). */
  serverMessage: string;
  /** Tracking server base URL with any user-info removed. */
  server: string;
}

/** The server answered with an error (`{error_code, message}`, or a non-JSON error page). */
export class MlflowApiError extends MlflowError {
  static override readonly brand: symbol = brandOf('MlflowApiError');
  override readonly code: string = 'ERR_MLFLOW_REST';
  readonly errorCode: MlflowErrorCode;
  readonly httpStatus: number;
  readonly endpoint: string;
  readonly serverMessage: string;
  readonly server: string;
  constructor(fields: MlflowApiErrorFields) {
    super(
      `MLflow ${fields.endpoint} at ${fields.server} failed: ${fields.errorCode} (HTTP ${fields.httpStatus}): ${truncate(fields.serverMessage, 600)}`,
    );
    this.errorCode = fields.errorCode;
    this.httpStatus = fields.httpStatus;
    this.endpoint = fields.endpoint;
    this.serverMessage = fields.serverMessage;
    this.server = fields.server;
  }
}

/** `RESOURCE_DOES_NOT_EXIST` (HTTP 404). */
export class MlflowNotFoundError extends MlflowApiError {
  static override readonly brand: symbol = brandOf('MlflowNotFoundError');
  override readonly code: string = 'ERR_MLFLOW_NOT_FOUND';
}
/** `RESOURCE_ALREADY_EXISTS` (MLflow answers HTTP 400). */
export class MlflowAlreadyExistsError extends MlflowApiError {
  static override readonly brand: symbol = brandOf('MlflowAlreadyExistsError');
  override readonly code: string = 'ERR_MLFLOW_ALREADY_EXISTS';
}
/** `INVALID_PARAMETER_VALUE` / `BAD_REQUEST` / `MALFORMED_REQUEST`: the request itself is wrong; retrying will not help. */
export class MlflowInvalidRequestError extends MlflowApiError {
  static override readonly brand: symbol = brandOf('MlflowInvalidRequestError');
  override readonly code: string = 'ERR_MLFLOW_INVALID_REQUEST';
}

/** HTTP 401/403: the server refused the credentials (or their absence). The message names no credential. */
export class MlflowAuthError extends MlflowApiError {
  static override readonly brand: symbol = brandOf('MlflowAuthError');
  override readonly code: string = 'ERR_MLFLOW_AUTH';
  constructor(fields: MlflowApiErrorFields & { authKind: 'basic' | 'bearer' | 'none'; fromProvider?: boolean }) {
    super(fields);
    const hint = fields.fromProvider
      ? fields.authKind === 'none'
        ? 'the credentials provider returned no credentials'
        : `the ${fields.authKind === 'basic' ? 'username/password' : 'bearer token'} from the credentials provider ${fields.authKind === 'basic' ? 'were' : 'was'} rejected`
      : fields.authKind === 'none'
        ? 'no credentials were sent: set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN'
        : fields.authKind === 'basic'
          ? 'the username/password (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD) were rejected'
          : 'the bearer token (MLFLOW_TRACKING_TOKEN) was rejected';
    this.message = `MLflow server ${fields.server} refused ${fields.endpoint}: HTTP ${fields.httpStatus} ${
      fields.httpStatus === 403 ? 'permission denied' : 'not authenticated'
    } (${hint})`;
    this.authKind = fields.authKind;
  }
  readonly authKind: 'basic' | 'bearer' | 'none';
}

/** The server could not be reached (refused, reset, DNS, timeout) after all retries. */
export class MlflowConnectionError extends MlflowError {
  static override readonly brand: symbol = brandOf('MlflowConnectionError');
  override readonly code: string = 'ERR_MLFLOW_CONNECTION';
  readonly server: string;
  readonly endpoint: string;
  readonly attempts: number;
  constructor(fields: { server: string; endpoint: string; attempts: number; reason: string }, cause?: unknown) {
    super(
      `MLflow server ${fields.server} is unreachable (${fields.endpoint}, ${fields.attempts} attempt${fields.attempts === 1 ? '' : 's'}): ${fields.reason}`,
      { cause },
    );
    this.server = fields.server;
    this.endpoint = fields.endpoint;
    this.attempts = fields.attempts;
  }
}

/** A 2xx response that does not match the documented shape (zod issues included). */
export class MlflowResponseError extends MlflowError {
  static override readonly brand: symbol = brandOf('MlflowResponseError');
  override readonly code: string = 'ERR_MLFLOW_RESPONSE';
  readonly endpoint: string;
  readonly server: string;
  constructor(fields: { server: string; endpoint: string; problem: string }) {
    super(`MLflow ${fields.endpoint} at ${fields.server} returned an unexpected response: ${truncate(fields.problem, 800)}`);
    this.endpoint = fields.endpoint;
    this.server = fields.server;
  }
}

/** Input rejected on the client before anything is sent (same rules as the server's validation). */
export class MlflowValidationError extends MlflowError {
  static override readonly brand: symbol = brandOf('MlflowValidationError');
  override readonly code: string = 'ERR_MLFLOW_VALIDATION';
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`Invalid ${field}: ${problem}`);
    this.field = field;
  }
}

/** The local `mlflow server` could not be started, or stopped. */
export class MlflowServerError extends MlflowError {
  static override readonly brand: symbol = brandOf('MlflowServerError');
  override readonly code: string = 'ERR_MLFLOW_SERVER';
  readonly logTail: string;
  constructor(message: string, logTail = '') {
    super(logTail ? `${message}\n--- last lines of the server log ---\n${logTail}` : message);
    this.logTail = logTail;
  }
}

/** Replaying a spill file failed for some records (the rest were delivered and removed). */
export class MlflowReplayError extends MlflowError {
  static override readonly brand: symbol = brandOf('MlflowReplayError');
  override readonly code: string = 'ERR_MLFLOW_REPLAY';
  readonly file: string;
  constructor(file: string, problem: string, cause?: unknown) {
    super(`Replay of ${file} failed: ${problem}`, { cause });
    this.file = file;
  }
}

/** The per-request credentials provider threw. The message names the server and the error's class, not its text. */
export class MlflowCredentialsError extends MlflowError {
  static override readonly brand: symbol = brandOf('MlflowCredentialsError');
  override readonly code: string = 'ERR_MLFLOW_CREDENTIALS';
  readonly server: string;
  constructor(server: string, cause: unknown) {
    super(
      `The MLflow credentials provider failed for ${server}: ${cause instanceof Error ? cause.name : typeof cause} (its message is kept in \`cause\`, unprinted: it may hold a secret)`,
      { cause },
    );
    this.server = server;
  }
}

/** The TLS handshake with the tracking server failed (untrusted or mismatched certificate, bad client certificate). */
export class MlflowTlsError extends MlflowError {
  static override readonly brand: symbol = brandOf('MlflowTlsError');
  override readonly code: string = 'ERR_MLFLOW_TLS';
  readonly server: string;
  readonly endpoint: string;
  /** The TLS/OpenSSL code, e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `ERR_TLS_CERT_ALTNAME_INVALID`. */
  readonly tlsCode: string;
  constructor(fields: { server: string; endpoint: string; tlsCode: string; reason: string }, cause?: unknown) {
    super(
      `TLS connection to MLflow server ${fields.server} failed (${fields.endpoint}): ${fields.tlsCode}${fields.reason ? ` (${fields.reason})` : ''}. ` +
        'Set MLFLOW_TRACKING_SERVER_CERT_PATH to the CA bundle that signed the server certificate, or MLFLOW_TRACKING_INSECURE_TLS=true to skip verification (not for production)',
      { cause },
    );
    this.server = fields.server;
    this.endpoint = fields.endpoint;
    this.tlsCode = fields.tlsCode;
  }
}

/** A new model version did not become READY: registration failed, or the wait ran out while it was still pending. */
export class MlflowModelVersionNotReadyError extends MlflowError {
  static override readonly brand: symbol = brandOf('MlflowModelVersionNotReadyError');
  override readonly code: string = 'ERR_MLFLOW_MODEL_VERSION_NOT_READY';
  readonly modelName: string;
  readonly version: string;
  /** The last status the registry reported: `FAILED_REGISTRATION` or `PENDING_REGISTRATION` (timed out). */
  readonly status: string;
  readonly statusMessage: string | undefined;
  readonly waitedMs: number;
  constructor(fields: { modelName: string; version: string; status: string; statusMessage?: string | undefined; waitedMs: number }) {
    super(
      fields.status === 'FAILED_REGISTRATION'
        ? `Model version ${fields.modelName} version ${fields.version} failed to register (status FAILED_REGISTRATION): ${fields.statusMessage || 'the registry gave no message'}`
        : `Model version ${fields.modelName} version ${fields.version} is still ${fields.status} after ${Math.round(fields.waitedMs / 1000)} s; not using it (raise awaitReadyMs, or check the registry)${fields.statusMessage ? `: ${fields.statusMessage}` : ''}`,
    );
    this.modelName = fields.modelName;
    this.version = fields.version;
    this.status = fields.status;
    this.statusMessage = fields.statusMessage;
    this.waitedMs = fields.waitedMs;
  }
}

/** An artifact store (S3, a local folder) refused or failed an operation. Names the store and the object, never a key. */
export class MlflowArtifactStoreError extends MlflowError {
  static override readonly brand: symbol = brandOf('MlflowArtifactStoreError');
  override readonly code: string = 'ERR_MLFLOW_ARTIFACT_STORE';
  /** `s3` or `local`. */
  readonly store: string;
  /** The object or folder, e.g. `s3://bucket/1/<run>/artifacts/model.json` (no credentials). */
  readonly location: string;
  readonly operation: string;
  /** The store's own error code when it gave one (`NoSuchBucket`, `AccessDenied`, `SignatureDoesNotMatch`, `ENOENT`…). */
  readonly storeCode: string | undefined;
  constructor(fields: { store: string; location: string; operation: string; storeCode?: string | undefined; problem: string }, cause?: unknown) {
    super(`Artifact ${fields.operation} at ${fields.location} failed: ${fields.storeCode ? `${fields.storeCode}: ` : ''}${truncate(fields.problem, 600)}`, { cause });
    this.store = fields.store;
    this.location = fields.location;
    this.operation = fields.operation;
    this.storeCode = fields.storeCode;
  }
}

/** The stable `code` of every error class. */
export const MlflowErrorCodes = {
  MlflowError: 'ERR_MLFLOW',
  MlflowApiError: 'ERR_MLFLOW_REST',
  MlflowNotFoundError: 'ERR_MLFLOW_NOT_FOUND',
  MlflowAlreadyExistsError: 'ERR_MLFLOW_ALREADY_EXISTS',
  MlflowInvalidRequestError: 'ERR_MLFLOW_INVALID_REQUEST',
  MlflowAuthError: 'ERR_MLFLOW_AUTH',
  MlflowConnectionError: 'ERR_MLFLOW_CONNECTION',
  MlflowTlsError: 'ERR_MLFLOW_TLS',
  MlflowCredentialsError: 'ERR_MLFLOW_CREDENTIALS',
  MlflowResponseError: 'ERR_MLFLOW_RESPONSE',
  MlflowValidationError: 'ERR_MLFLOW_VALIDATION',
  MlflowServerError: 'ERR_MLFLOW_SERVER',
  MlflowReplayError: 'ERR_MLFLOW_REPLAY',
  MlflowModelVersionNotReadyError: 'ERR_MLFLOW_MODEL_VERSION_NOT_READY',
  MlflowArtifactStoreError: 'ERR_MLFLOW_ARTIFACT_STORE',
} as const;

export function truncate(s: string, max: number): string {
  const t = s.trim();
  return t.length <= max ? t : `${t.slice(0, max)}… (${t.length - max} more characters)`;
}

/** Build the most specific error class for a server error. */
export function apiErrorFor(fields: MlflowApiErrorFields, authKind: 'basic' | 'bearer' | 'none', fromProvider = false): MlflowApiError {
  if (fields.httpStatus === 401 || fields.httpStatus === 403 || fields.errorCode === 'UNAUTHENTICATED' || fields.errorCode === 'PERMISSION_DENIED') {
    return new MlflowAuthError({ ...fields, authKind, fromProvider });
  }
  switch (fields.errorCode) {
    case 'RESOURCE_DOES_NOT_EXIST':
    case 'NOT_FOUND':
      return new MlflowNotFoundError(fields);
    case 'RESOURCE_ALREADY_EXISTS':
    case 'ALREADY_EXISTS':
      return new MlflowAlreadyExistsError(fields);
    case 'INVALID_PARAMETER_VALUE':
    case 'BAD_REQUEST':
    case 'MALFORMED_REQUEST':
      return new MlflowInvalidRequestError(fields);
    default:
      return new MlflowApiError(fields);
  }
}

/** Remove secrets from text that may echo a request (user-info in URLs, Authorization values, known secrets). */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+(?::[^/\s@]*)?@/gi, '$1***@')
    .replace(/(authorization["']?\s*[:=]\s*["']?)(basic|bearer)\s+[^\s"',}]+/gi, '$1$2 ***');
  for (const s of secrets) {
    if (s.length >= 3) out = out.split(s).join('***');
  }
  return out;
}
