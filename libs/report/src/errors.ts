/**
 * Typed errors of the report library. Each class has a stable `code` (`ERR_REPORT_*`) and an `instanceof` that holds
 * across two installed copies of the package: instances carry a `Symbol.for('@mlops-ts/report/<ClassName>')` brand
 * for their class and every parent class, and `static [Symbol.hasInstance]` checks the brand (undici's pattern).
 */

const brandOf = (className: string): symbol => Symbol.for(`@mlops-ts/report/${className}`);

/** Base class of every error this library throws. */
export class ReportError extends Error {
  static readonly brand: symbol = brandOf('ReportError');
  readonly code: string = 'ERR_REPORT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    for (let c: unknown = new.target; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
      if (Object.hasOwn(c, 'brand')) Object.defineProperty(this, (c as typeof ReportError).brand, { value: true, enumerable: false });
    }
  }
  static override [Symbol.hasInstance](x: unknown): boolean {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[this.brand] === true;
  }
}

/** One problem found in the input: where (`path`, dotted) and what. */
export interface ReportInputIssue {
  path: string;
  message: string;
}

/** The report input does not match {@link ReportInputSchema}, or its parts disagree (e.g. two models scored different test rows). */
export class ReportInputError extends ReportError {
  static override readonly brand: symbol = brandOf('ReportInputError');
  override readonly code: string = 'ERR_REPORT_INPUT';
  readonly issues: ReportInputIssue[];
  constructor(issues: ReportInputIssue[], options?: { cause?: unknown; what?: string }) {
    super(`${options?.what ?? 'report input'} is invalid: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, options);
    this.issues = issues;
  }
}

/** A statistic cannot be computed from the data given (e.g. no rows, probabilities of the wrong width). */
export class ReportStatsError extends ReportError {
  static override readonly brand: symbol = brandOf('ReportStatsError');
  override readonly code: string = 'ERR_REPORT_STATS';
}

/** Vega could not render a chart or resvg could not rasterise it; `chart` names which. */
export class ReportRenderError extends ReportError {
  static override readonly brand: symbol = brandOf('ReportRenderError');
  override readonly code: string = 'ERR_REPORT_RENDER';
  readonly chart: string;
  constructor(chart: string, message: string, options?: { cause?: unknown }) {
    super(`chart ${chart}: ${message}`, options);
    this.chart = chart;
  }
}

/** Every `code` this library's errors carry. */
export const ReportErrorCodes = {
  ReportError: 'ERR_REPORT',
  ReportInputError: 'ERR_REPORT_INPUT',
  ReportStatsError: 'ERR_REPORT_STATS',
  ReportRenderError: 'ERR_REPORT_RENDER',
} as const;
