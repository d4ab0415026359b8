/**
 * Expected failures: checks a target is known to fail, with the reason. They are reported as
 * expected-failure and do not fail the run; one that now passes says so, so the list can shrink.
 */
import type { ExpectedFailure } from '../harness/target.ts';
import type { InstanceResult } from './run.ts';

export function applyExpectations(result: InstanceResult, expected: readonly ExpectedFailure[]): InstanceResult {
  const entry = expected.find((e) => e.id === result.id && (e.client === undefined || e.client === result.client));
  if (!entry) return result;
  if (result.status === 'failed') {
    return { ...result, status: 'expected-failure', message: `expected failure: ${entry.reason}\n\n${result.message ?? ''}` };
  }
  if (result.status === 'passed') {
    return { ...result, message: `listed as an expected failure (${entry.reason}) but passed: remove it from expectedFailures` };
  }
  return result;
}
