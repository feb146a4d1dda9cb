/** A tracker call failed. `failures` names each tracker that failed and why; the others completed. */
export class TrackingError extends Error {
  override readonly name = 'TrackingError';
  constructor(
    readonly operation: string,
    readonly failures: { tracker: string; error: unknown }[],
  ) {
    super(
      `${operation} failed in ${failures.map((f) => `${f.tracker} (${f.error instanceof Error ? f.error.message : String(f.error)})`).join('; ')}`,
      { cause: failures[0]?.error },
    );
  }
}
