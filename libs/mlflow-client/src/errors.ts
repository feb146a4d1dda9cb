/**
 * Typed errors of the MLflow client. Every message names the server (credentials stripped), the endpoint and the
 * server's own words; none ever contains a password, a token or an Authorization header.
 */

/** Base class of every error this library throws. */
export class MlflowError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
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
export class MlflowNotFoundError extends MlflowApiError {}
/** `RESOURCE_ALREADY_EXISTS` (MLflow answers HTTP 400). */
export class MlflowAlreadyExistsError extends MlflowApiError {}
/** `INVALID_PARAMETER_VALUE` / `BAD_REQUEST` / `MALFORMED_REQUEST`: the request itself is wrong; retrying will not help. */
export class MlflowInvalidRequestError extends MlflowApiError {}

/** HTTP 401/403: the server refused the credentials (or their absence). The message names no credential. */
export class MlflowAuthError extends MlflowApiError {
  constructor(fields: MlflowApiErrorFields & { authKind: 'basic' | 'bearer' | 'none' }) {
    super(fields);
    const hint =
      fields.authKind === 'none'
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
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`Invalid ${field}: ${problem}`);
    this.field = field;
  }
}

/** The local `mlflow server` could not be started, or stopped. */
export class MlflowServerError extends MlflowError {
  readonly logTail: string;
  constructor(message: string, logTail = '') {
    super(logTail ? `${message}\n--- last lines of the server log ---\n${logTail}` : message);
    this.logTail = logTail;
  }
}

/** Replaying a spill file failed for some records (the rest were delivered and removed). */
export class MlflowReplayError extends MlflowError {
  readonly file: string;
  constructor(file: string, problem: string, cause?: unknown) {
    super(`Replay of ${file} failed: ${problem}`, { cause });
    this.file = file;
  }
}

export function truncate(s: string, max: number): string {
  const t = s.trim();
  return t.length <= max ? t : `${t.slice(0, max)}… (${t.length - max} more characters)`;
}

/** Build the most specific error class for a server error. */
export function apiErrorFor(fields: MlflowApiErrorFields, authKind: 'basic' | 'bearer' | 'none'): MlflowApiError {
  if (fields.httpStatus === 401 || fields.httpStatus === 403 || fields.errorCode === 'UNAUTHENTICATED' || fields.errorCode === 'PERMISSION_DENIED') {
    return new MlflowAuthError({ ...fields, authKind });
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
