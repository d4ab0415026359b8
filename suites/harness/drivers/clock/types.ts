/** How a check lets time pass: the mock's clock jumps, a real IdP's clock is waited for. */

export interface WaitOptions {
  /** Aborts a real wait (the run's deadline, Ctrl-C); rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface Clock {
  readonly kind: 'mock' | 'real';
  /** `true`, or why this clock cannot wait that long (the check is then skipped). */
  canWait(seconds: number): true | string;
  /** Lets `seconds` pass; `why` says what for (shown in progress reports). Throws SkipError when canWait is not true. */
  wait(seconds: number, why: string, options?: WaitOptions): Promise<void>;
}

/** Shared argument check: a wait is a finite, non-negative number of seconds. */
export function invalidWait(seconds: number): string | undefined {
  return Number.isFinite(seconds) && seconds >= 0 ? undefined : `invalid wait of ${seconds} seconds`;
}
