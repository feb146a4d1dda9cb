/**
 * Typed errors of the ClearML client. Every message names the server (no credentials), the endpoint and the
 * server's own words; none ever contains a secret key, a token or an Authorization header.
 */

const brandOf = (className: string): symbol => Symbol.for(`@mlops-ts/clearml-client/${className}`);

/**
 * Base class of every error this library throws.
 *
 * Every class has a stable string `code` (`ERR_CLEARML_*`, listed in {@link ClearmlErrorCodes}) and an `instanceof`
 * that also holds across two installed copies of this package: each instance carries a
 * `Symbol.for('@mlops-ts/clearml-client/<ClassName>')` brand for its class and every parent class, and
 * `static [Symbol.hasInstance]` checks that brand instead of the prototype chain.
 */
export class ClearmlError extends Error {
  static readonly brand: symbol = brandOf('ClearmlError');
  readonly code: string = 'ERR_CLEARML';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    for (let c: unknown = new.target; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
      if (Object.hasOwn(c, 'brand')) Object.defineProperty(this, (c as typeof ClearmlError).brand, { value: true, enumerable: false });
    }
  }
  static override [Symbol.hasInstance](x: unknown): boolean {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[this.brand] === true;
  }
}

/** Configuration missing or invalid (environment, clearml.conf, options). */
export class ClearmlConfigError extends ClearmlError {
  static override readonly brand: symbol = brandOf('ClearmlConfigError');
  override readonly code: string = 'ERR_CLEARML_CONFIG';
  /** The file the value came from, when it came from one. */
  readonly file: string | undefined;
  /** The variable or config key, e.g. `CLEARML_API_HOST` or `api.credentials.secret_key`. */
  readonly key: string | undefined;
  constructor(message: string, fields: { file?: string | undefined; key?: string | undefined } = {}, cause?: unknown) {
    super(message, { cause });
    this.file = fields.file;
    this.key = fields.key;
  }
}

/** A HOCON file (clearml.conf) that does not parse. */
export class HoconParseError extends ClearmlConfigError {
  static override readonly brand: symbol = brandOf('HoconParseError');
  override readonly code: string = 'ERR_CLEARML_HOCON';
  readonly line: number;
  readonly column: number;
  constructor(fields: { file?: string | undefined; line: number; column: number; problem: string }) {
    super(`${fields.file ?? '<hocon>'}:${fields.line}:${fields.column}: ${fields.problem}`, { file: fields.file });
    this.line = fields.line;
    this.column = fields.column;
  }
}

export interface ClearmlApiErrorFields {
  /** `tasks.create` (service.action). */
  endpoint: string;
  /** The API server's base URL (never with credentials). */
  server: string;
  httpStatus: number;
  /** `meta.result_code` (equals the HTTP status on ClearML), or the HTTP status when there was no envelope. */
  resultCode: number;
  /** `meta.result_subcode`: e.g. 800 data validation, 101 invalid task id, 22 invalid credentials (0 when none). */
  resultSubcode: number;
  /** `meta.result_msg`, or the start of a non-envelope body. */
  serverMessage: string;
  /** `meta.error_data`, when the server gave any. */
  errorData?: Record<string, unknown> | undefined;
}

/** The server rejected a request (its envelope had a result code other than 200). */
export class ClearmlApiError extends ClearmlError {
  static override readonly brand: symbol = brandOf('ClearmlApiError');
  override readonly code: string = 'ERR_CLEARML_API';
  readonly endpoint: string;
  readonly server: string;
  readonly httpStatus: number;
  readonly resultCode: number;
  readonly resultSubcode: number;
  readonly serverMessage: string;
  readonly errorData: Record<string, unknown> | undefined;
  constructor(fields: ClearmlApiErrorFields, message?: string) {
    super(
      message ??
        `ClearML ${fields.endpoint} at ${fields.server} failed: ${fields.resultCode}/${fields.resultSubcode} (HTTP ${fields.httpStatus}): ${truncate(fields.serverMessage, 600)}`,
    );
    this.endpoint = fields.endpoint;
    this.server = fields.server;
    this.httpStatus = fields.httpStatus;
    this.resultCode = fields.resultCode;
    this.resultSubcode = fields.resultSubcode;
    this.serverMessage = fields.serverMessage;
    this.errorData = fields.errorData;
  }
}

/** HTTP 401/403: the server refused the credentials or the token. One line; names the server, never a key. */
export class ClearmlAuthError extends ClearmlApiError {
  static override readonly brand: symbol = brandOf('ClearmlAuthError');
  override readonly code: string = 'ERR_CLEARML_AUTH';
  constructor(fields: ClearmlApiErrorFields) {
    super(
      fields,
      fields.endpoint === 'auth.login'
        ? `ClearML server ${fields.server} refused the API credentials (auth.login: ${fields.resultCode}/${fields.resultSubcode} ${oneLine(fields.serverMessage)}); check CLEARML_API_ACCESS_KEY / CLEARML_API_SECRET_KEY or api.credentials in clearml.conf`
        : `ClearML server ${fields.server} refused ${fields.endpoint}: ${fields.resultCode}/${fields.resultSubcode} ${oneLine(fields.serverMessage)}`,
    );
  }
}

/** The server could not be reached (refused, reset, DNS, timeout, 502/503/504) after all retries. */
export class ClearmlUnreachableError extends ClearmlError {
  static override readonly brand: symbol = brandOf('ClearmlUnreachableError');
  override readonly code: string = 'ERR_CLEARML_UNREACHABLE';
  readonly server: string;
  readonly endpoint: string;
  readonly attempts: number;
  /** The low-level code (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`, `HTTP_503`…). */
  readonly reason: string;
  constructor(fields: { server: string; endpoint: string; attempts: number; reason: string }, cause?: unknown) {
    super(
      `ClearML server ${fields.server} is unreachable (${fields.endpoint}, ${fields.attempts} attempt${fields.attempts === 1 ? '' : 's'}): ${fields.reason}`,
      { cause },
    );
    this.server = fields.server;
    this.endpoint = fields.endpoint;
    this.attempts = fields.attempts;
    this.reason = fields.reason;
  }
}

/** A 200 response that does not have the documented shape (zod issues included). */
export class ClearmlResponseError extends ClearmlError {
  static override readonly brand: symbol = brandOf('ClearmlResponseError');
  override readonly code: string = 'ERR_CLEARML_RESPONSE';
  readonly endpoint: string;
  readonly server: string;
  constructor(fields: { server: string; endpoint: string; problem: string }) {
    super(`ClearML ${fields.endpoint} at ${fields.server} returned an unexpected response: ${truncate(fields.problem, 800)}`);
    this.endpoint = fields.endpoint;
    this.server = fields.server;
  }
}

/** The server's API is older than this client needs. */
export class ClearmlVersionError extends ClearmlError {
  static override readonly brand: symbol = brandOf('ClearmlVersionError');
  override readonly code: string = 'ERR_CLEARML_VERSION';
  readonly server: string;
  readonly serverApiVersion: string;
  readonly requiredApiVersion: string;
  constructor(fields: { server: string; serverApiVersion: string; requiredApiVersion: string; serverVersion?: string | undefined }) {
    super(
      `ClearML server ${fields.server} speaks API ${fields.serverApiVersion}${fields.serverVersion ? ` (server ${fields.serverVersion})` : ''}; this client needs API ${fields.requiredApiVersion} or newer: upgrade the server`,
    );
    this.server = fields.server;
    this.serverApiVersion = fields.serverApiVersion;
    this.requiredApiVersion = fields.requiredApiVersion;
  }
}

/** Upload to / download from the fileserver failed. */
export class ClearmlFilesError extends ClearmlError {
  static override readonly brand: symbol = brandOf('ClearmlFilesError');
  override readonly code: string = 'ERR_CLEARML_FILES';
  readonly operation: 'upload' | 'download' | 'delete' | 'read';
  /** The file URL (no credentials). */
  readonly url: string;
  readonly httpStatus: number | undefined;
  constructor(fields: { operation: 'upload' | 'download' | 'delete' | 'read'; url: string; httpStatus?: number | undefined; problem: string }, cause?: unknown) {
    super(`ClearML fileserver ${fields.operation} of ${fields.url} failed${fields.httpStatus ? ` (HTTP ${fields.httpStatus})` : ''}: ${truncate(fields.problem, 400)}`, { cause });
    this.operation = fields.operation;
    this.url = fields.url;
    this.httpStatus = fields.httpStatus;
  }
}

/** Input rejected on the client before anything is sent. */
export class ClearmlValidationError extends ClearmlError {
  static override readonly brand: symbol = brandOf('ClearmlValidationError');
  override readonly code: string = 'ERR_CLEARML_VALIDATION';
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`Invalid ${field}: ${problem}`);
    this.field = field;
  }
}

/** A lookup by name or id found nothing (e.g. `projects.byName`, a model id). */
export class ClearmlNotFoundError extends ClearmlError {
  static override readonly brand: symbol = brandOf('ClearmlNotFoundError');
  override readonly code: string = 'ERR_CLEARML_NOT_FOUND';
  readonly kind: string;
  readonly what: string;
  constructor(kind: string, what: string, server: string) {
    super(`ClearML ${kind} ${what} not found on ${server}`);
    this.kind = kind;
    this.what = what;
  }
}

/** The stable `code` of every error class. */
export const ClearmlErrorCodes = {
  ClearmlError: 'ERR_CLEARML',
  ClearmlConfigError: 'ERR_CLEARML_CONFIG',
  HoconParseError: 'ERR_CLEARML_HOCON',
  ClearmlApiError: 'ERR_CLEARML_API',
  ClearmlAuthError: 'ERR_CLEARML_AUTH',
  ClearmlUnreachableError: 'ERR_CLEARML_UNREACHABLE',
  ClearmlResponseError: 'ERR_CLEARML_RESPONSE',
  ClearmlVersionError: 'ERR_CLEARML_VERSION',
  ClearmlFilesError: 'ERR_CLEARML_FILES',
  ClearmlValidationError: 'ERR_CLEARML_VALIDATION',
  ClearmlNotFoundError: 'ERR_CLEARML_NOT_FOUND',
} as const;

export function truncate(s: string, max: number): string {
  const t = s.trim();
  return t.length <= max ? t : `${t.slice(0, max)}… (${t.length - max} more characters)`;
}

function oneLine(s: string): string {
  return truncate(s.replace(/\s+/g, ' '), 300);
}

/** Remove secrets from text that may echo a request (user-info in URLs, Authorization values, known secrets). */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+(?::[^/\s@]*)?@/gi, '$1***@')
    .replace(/(authorization["']?\s*[:=]\s*["']?)(basic|bearer)\s+[^\s"',}]+/gi, '$1$2 ***')
    .replace(/\bey[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+/g, '***jwt***');
  for (const s of secrets) {
    if (s.length >= 3) out = out.split(s).join('***');
  }
  return out;
}
