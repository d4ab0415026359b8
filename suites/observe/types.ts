/**
 * What `observe` reports: per profile field, the value it saw, how sure it is, and the evidence.
 * - observed: exact (on the mock's clock, or a yes/no seen directly);
 * - bounded: known to lie between `low` and `high` (a real clock's lifetime, or a value another
 *   rule may hide: a refusal at the SSO session's end could be the lifetime's end);
 * - unobservable: not seen within the budget (with the reason).
 */
import type { Exchange } from '../harness/record.ts';

export type Confidence = 'observed' | 'bounded' | 'unobservable';

export type FieldValue = string | number | boolean | null;

export interface Observation {
  /** A profile path: `refreshTokenIssuance`, `policies.Mobile.lifetimeSeconds`, `onlineTokens.refreshAfterSsoEnd`. */
  field: string;
  confidence: Confidence;
  /** The value written into the observed profile (for bounded: the best estimate; absent: unknown). */
  value?: FieldValue;
  /** For bounded: the interval the true value lies in (seconds; high may be Infinity → null in JSON). */
  low?: number;
  high?: number | null;
  /** How it was seen, or why it could not be. */
  reason: string;
  /** The exchanges that show it (already redacted by the harness's recorder). */
  evidence: Exchange[];
  /** Which client the observation came from. */
  client?: string;
}

/** Something seen that the profile format cannot say (e.g. several different concurrent winners). */
export interface Finding {
  client: string;
  title: string;
  detail: string;
  evidence: Exchange[];
}

export const observed = (field: string, value: FieldValue, reason: string, evidence: Exchange[] = []): Observation => ({
  field,
  confidence: 'observed',
  value,
  reason,
  evidence,
});

export const bounded = (field: string, value: FieldValue | undefined, low: number, high: number, reason: string, evidence: Exchange[] = []): Observation => ({
  field,
  confidence: 'bounded',
  ...(value !== undefined && { value }),
  low,
  high: Number.isFinite(high) ? high : null,
  reason,
  evidence,
});

export const unobservable = (field: string, reason: string, evidence: Exchange[] = []): Observation => ({ field, confidence: 'unobservable', reason, evidence });
