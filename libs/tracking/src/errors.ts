const brandOf = (name: string): symbol => Symbol.for(`@mlops-ts/tracking/${name}`);

/**
 * A tracker call failed. `failures` names each tracker that failed and why; the others completed.
 * `code` is stable; `instanceof` works across two installed copies of the package (a `Symbol.for` brand).
 */
export class TrackingError extends Error {
  static readonly brand: symbol = brandOf('TrackingError');
  readonly code: string = 'ERR_TRACKING';
  override readonly name = 'TrackingError';
  constructor(
    readonly operation: string,
    readonly failures: { tracker: string; error: unknown }[],
  ) {
    super(
      `${operation} failed in ${failures.map((f) => `${f.tracker} (${f.error instanceof Error ? f.error.message : String(f.error)})`).join('; ')}`,
      { cause: failures[0]?.error },
    );
    (this as unknown as Record<symbol, boolean>)[TrackingError.brand] = true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TrackingError.brand] === true;
  }
}
