/**
 * Expected failures: checks a target is known to fail, with the reason. They are reported as
 * expected-failure and do not fail the run; one that now passes says so, so the list can shrink.
 * An entry applies to a failed result, and under --strict to a warning too (then a warning fails
 * the run like a failure). An errored or inconclusive result stays as it is: it is no verdict on
 * the IdP, so it can neither meet nor miss the expectation.
 */
import type { ExpectedFailure } from '../harness/target.ts';
import type { InstanceResult } from './run.ts';

export function applyExpectations(result: InstanceResult, expected: readonly ExpectedFailure[], strict = false): InstanceResult {
  const entry = expected.find((e) => e.id === result.id && (e.client === undefined || e.client === result.client));
  if (!entry) return result;
  if (result.status === 'failed' || (strict && result.status === 'warning')) {
    return { ...result, status: 'expected-failure', expectedFailureReason: entry.reason, message: `expected failure: ${entry.reason}\n\n${result.message ?? ''}` };
  }
  if (result.status === 'passed') {
    return { ...result, message: `listed as an expected failure (${entry.reason}) but passed: remove it from expectedFailures` };
  }
  return result;
}

/** Ids of expected-failure entries that name no check (a typo would silently expect nothing). */
export function unknownExpectedIds(expected: readonly { id: string }[], checkIds: ReadonlySet<string>): string[] {
  return [...new Set(expected.map((e) => e.id).filter((id) => !checkIds.has(id)))];
}
