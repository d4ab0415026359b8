/**
 * Finding a time boundary by experiment: a quantity (seconds between two events of a trial) is
 * accepted below the boundary and refused from it on. On the mock's clock the quantity is exact and
 * the search ends on the exact whole second; on a real clock each trial measures the quantity as an
 * interval (send and receipt times), and the search narrows [low, high] until it is within the
 * wanted precision, the budget of trials runs out, or the next wait would pass the wait budget.
 */
export interface BoundarySample {
  accepted: boolean;
  /** The measured quantity lies in [min, max] (equal on the mock's clock). */
  min: number;
  max: number;
}

export interface BoundaryOptions {
  /** Exact whole seconds (mock clock) or measured intervals (real clock). */
  exact: boolean;
  /** The largest wait to try (seconds). */
  cap: number;
  /** Real clock: stop once high - low is at most this. */
  precision?: number;
  /** At most this many trials. */
  maxTrials?: number;
  /** Real clock: trials at once in each narrowing round (default 3). */
  parallel?: number;
}

/**
 * The boundary B with: accepted ⇔ quantity < B. Returns the interval B lies in: [low, high]
 * (exact: low = high); high is Infinity when nothing up to the cap was refused, low is 0 when
 * even the first trial was refused.
 */
export async function findBoundary(
  sample: (wait: number) => Promise<BoundarySample | { error: string }>,
  o: BoundaryOptions,
): Promise<{ low: number; high: number; trials: number } | { error: string; trials: number }> {
  let low = 0;
  let high = Infinity;
  let trials = 0;
  const maxTrials = o.maxTrials ?? (o.exact ? 80 : 16);
  const precision = o.exact ? 1 : (o.precision ?? 1);
  let failure = '';
  const at = async (w: number): Promise<boolean | undefined> => {
    trials++;
    const s = await sample(w);
    if ('error' in s) {
      failure = s.error;
      return undefined;
    }
    if (s.accepted) low = Math.max(low, o.exact ? s.min + 1 : s.min);
    else high = Math.min(high, s.max);
    return s.accepted;
  };
  // Grow: 0, 1, 2, 4, ... until refused or past the cap.
  let w = 0;
  for (;;) {
    if (trials >= maxTrials) return { low, high, trials };
    const r = await at(w);
    if (r === undefined) return { error: `the trial at ${+w.toFixed(1)} s: ${failure}`, trials };
    if (!r) break;
    if (w >= o.cap) return { low, high: Infinity, trials };
    w = Math.min(o.cap, w === 0 ? 1 : w * 2);
  }
  // Narrow: bisection on the exact clock; on a real one, rounds of `parallel` trials spread over
  // [low, high] at once (their waits overlap, so a round costs one wait, not several).
  const parallel = o.exact ? 1 : Math.max(1, o.parallel ?? 3);
  while (high - low > (o.exact ? 0 : precision) && trials < maxTrials) {
    const points = o.exact
      ? [Math.floor((low + high) / 2)]
      : Array.from({ length: Math.min(parallel, maxTrials - trials) }, (_, i) => low + ((high - low) * (i + 1)) / (parallel + 1));
    const answers = await Promise.all(points.map((p) => at(p)));
    const bad = answers.indexOf(undefined);
    if (bad >= 0) return { error: `the trial at ${+points[bad]!.toFixed(1)} s: ${failure}`, trials };
  }
  return { low, high, trials };
}
