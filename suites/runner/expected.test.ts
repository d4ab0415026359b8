/** Expected failures: which statuses an entry covers, and ids that name no check. */
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../checks/index.ts';
import { applyExpectations, unknownExpectedIds } from './expected.ts';
import type { InstanceResult } from './run.ts';

const result = (status: InstanceResult['status']): InstanceResult => ({
  id: 'rotation.old-token-rejected',
  group: 'rotation',
  title: 'Old token rejected',
  clause: 'RFC 6749 §6',
  level: 'MUST',
  client: 'web',
  policy: 'Web',
  status,
  message: `why ${status}`,
  durationMs: 1,
  timeline: [],
});
const entry = [{ id: 'rotation.old-token-rejected', reason: 'known' }];

describe('applyExpectations', () => {
  it('covers a failed check; a warning only under --strict; an errored or inconclusive one stays as it is', () => {
    expect(applyExpectations(result('failed'), entry)).toMatchObject({ status: 'expected-failure', message: 'expected failure: known\n\nwhy failed' });
    expect(applyExpectations(result('warning'), entry).status).toBe('warning');
    expect(applyExpectations(result('warning'), entry, true)).toMatchObject({ status: 'expected-failure', message: 'expected failure: known\n\nwhy warning' });
    for (const status of ['errored', 'inconclusive', 'skipped'] as const) expect(applyExpectations(result(status), entry, true)).toEqual(result(status));
    expect(applyExpectations(result('passed'), entry).message).toBe('listed as an expected failure (known) but passed: remove it from expectedFailures');
    expect(applyExpectations(result('failed'), [{ ...entry[0]!, client: 'mobile' }]).status).toBe('failed');
  });

  it('names the entries whose id is no check, once each', () => {
    const known = new Set(CHECKS.map((c) => c.id));
    expect(unknownExpectedIds([{ id: 'rotation.old-token-rejected' }, { id: 'rotation.nope' }, { id: 'rotation.nope' }, { id: 'x' }], known)).toEqual(['rotation.nope', 'x']);
    expect(unknownExpectedIds([], known)).toEqual([]);
  });
});
