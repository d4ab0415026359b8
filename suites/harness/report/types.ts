/** The results of a run, as written to report.json (and turned into JUnit XML). */
import type { Exchange } from '../record.ts';
import type { Citation } from '../../../mock-idp/citations.ts';

/**
 * passed; failed (the IdP broke a declared rule); warning (a SHOULD broken or a MAY not taken);
 * errored (the harness or the machine could not complete the check); skipped (not applicable);
 * inconclusive (applicable, but nothing could be observed); expected-failure (failed, and listed).
 */
export type CheckStatus = 'passed' | 'failed' | 'warning' | 'errored' | 'skipped' | 'inconclusive' | 'expected-failure';

export interface CheckResult {
  /** Stable check id, e.g. `rotation-reuse-revokes-family`. */
  id: string;
  /** The suite the check belongs to, e.g. `rotation`. */
  group: string;
  title: string;
  /** Where the rule checked is written, as text: e.g. `RFC 9700 §4.14.2; profile policies.Mobile.rotation=true`. */
  clause: string;
  /** The same, as tokens (mock-idp/citations.ts): `{ spec, section }`, `{ seed, section }`, `{ profileField, value }`. */
  citations?: Citation[];
  /** Client id the check ran with; null for checks of the IdP as a whole (e.g. discovery). */
  client: string | null;
  /** The client's policy name; null when there is no client. */
  policy: string | null;
  status: CheckStatus;
  /** Normative level of the clause (MUST / SHOULD / MAY). */
  level: 'MUST' | 'SHOULD' | 'MAY';
  /** Why it failed or was skipped (rule, expected, actual); for expected failures, also the target's reason. */
  message: string | null;
  durationMs: number;
  /** The recorded exchanges (redacted), usually only for failed checks. */
  exchanges?: Exchange[];
}

/** How many checks ended in each status (every status, always present). */
export interface ReportSummary {
  passed: number;
  failed: number;
  warnings: number;
  errored: number;
  skipped: number;
  inconclusive: number;
  expectedFailures: number;
}

export interface Report {
  /** The target's name. */
  target: string;
  /** The profile's name. */
  profile: string;
  /** ISO 8601. */
  startedAt: string;
  durationMs: number;
  summary: ReportSummary;
  /** --strict: warnings fail the run (and are failures in JUnit). */
  strict?: boolean;
  /** Why nothing was checked (unreachable issuer, invalid discovery, no browser): the run's setup failed. */
  setupError?: string;
  checks: CheckResult[];
}
