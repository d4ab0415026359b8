/**
 * A check's token timeline: what happened to its refresh tokens, on the target's clock.
 * The runner records it (suites/runner/context.ts), report.json carries it, html.ts draws it.
 *
 * Tokens appear only as fingerprints: the first 6 hex digits of sha256(token), the same as in the
 * exchanges' `[redacted:refresh_token#…]` markers, so a lane of the drawing and a line of an exchange
 * can be matched by eye. Times are seconds since the check started, on the target's clock (the mock's
 * clock jumps with each wait). Everything here is plain JSON and pure.
 */

export type TimelineKind = 'login' | 'refresh' | 'rotation' | 'revocation' | 'logout' | 'rejected' | 'wait';

/** A refresh token as the timeline knows it: fingerprint, issue time and declared expiry. */
export interface TokenMark {
  /** First 6 hex digits of sha256(token). Never the token. */
  id: string;
  /** When it was issued (seconds since the check started). */
  issuedAt: number;
  /**
   * Its declared end by the profile's policy (seconds since the check started): sliding, the last
   * renewal + lifetime; fixed, the login's first issue + lifetime. Absent when the policy declares no refresh.
   */
  expiresAt?: number;
  expiry?: 'sliding' | 'fixed';
  /** The RFC 7638 thumbprint of the DPoP key the token is declared bound to (RFC 9449 §5); a public key's, not a secret. */
  jkt?: string;
}

/** What the runner adds to the events a check notes. All optional: older reports have none of it. */
export interface TimelineDetails {
  /** The refresh token this event issued (login, rotation) or renewed (refresh with sliding expiry). */
  token?: TokenMark;
  /** Fingerprint of the refresh token presented (refresh, rotation, rejected, revocation). */
  presented?: string;
  /** A rejection's OAuth `error` code (RFC 6749 §5.2), when the body had one. */
  error?: string;
  /** HTTP status of the answer (rejected, revocation). */
  status?: number;
  /** wait: the seconds that passed. */
  seconds?: number;
  /** What the check said this step was, when that differs from what the harness saw (e.g. `rejected` for a 200). */
  noted?: TimelineKind;
  /** Noted by the check alone, with no exchange of the harness behind it. */
  byCheck?: true;
}

export interface TimelineRecord extends TimelineDetails {
  at: number;
  kind: TimelineKind;
  label?: string;
}

// ---------------------------------------------------------------------------------------------
// Lanes: one per refresh token, for drawing.

export interface LaneEvent {
  at: number;
  kind: TimelineKind;
  /** Order among the check's events (the drawing keeps events apart in this order). */
  seq: number;
  label?: string;
  error?: string;
  status?: number;
  noted?: TimelineKind;
  /** rotation: the new token's fingerprint. */
  to?: string;
  /** Tooltip text. */
  text: string;
}

export interface Lane {
  /** Fingerprint; '' for the lane of events without a refresh token (a login without one, say). */
  id: string;
  issuedAt: number;
  /** `seq` of the event that issued it (the bar starts there); -1 when none did. */
  issuedSeq: number;
  /** Seen issued in this check (login or rotation); false for a token only presented (a forged one, say). */
  issued: boolean;
  /** Declared ends in order: the first, then each move of a sliding renewal; the last is current. */
  expiries: number[];
  expiry?: 'sliding' | 'fixed';
  /** The token it was rotated from. */
  from?: string;
  events: LaneEvent[];
}

export interface TimelineLanes {
  lanes: Lane[];
  /** Events of the whole session (logout), drawn across every lane. */
  session: LaneEvent[];
  /** Latest time any event or declared expiry reaches. */
  end: number;
}

/** Turns a check's timeline into lanes: one per refresh token, in the order they appeared. */
export function timelineLanes(records: readonly TimelineRecord[]): TimelineLanes {
  const lanes = new Map<string, Lane>();
  const session: LaneEvent[] = [];
  let end = 0;
  let seq = 0;

  const laneOf = (id: string | undefined): Lane => {
    const key = id ?? '';
    let lane = lanes.get(key);
    if (!lane) {
      lane = { id: key, issuedAt: 0, issuedSeq: -1, issued: false, expiries: [], events: [] };
      lanes.set(key, lane);
    }
    return lane;
  };
  const issue = (mark: TokenMark, s: number, from?: string): Lane => {
    const known = lanes.get(mark.id);
    if (known) return known; // the same token handed out again: one lane
    const lane: Lane = {
      id: mark.id,
      issuedAt: mark.issuedAt,
      issuedSeq: s,
      issued: true,
      expiries: mark.expiresAt === undefined ? [] : [mark.expiresAt],
      events: [],
      ...(mark.expiry && { expiry: mark.expiry }),
      ...(from !== undefined && { from }),
    };
    lanes.set(mark.id, lane);
    return lane;
  };

  for (const r of records) {
    if (r.kind === 'wait') continue;
    const s = seq++;
    end = Math.max(end, r.at, r.token?.expiresAt ?? 0);
    const event: LaneEvent = {
      at: r.at,
      kind: r.kind,
      seq: s,
      text: describeRecord(r),
      ...(r.label !== undefined && { label: r.label }),
      ...(r.error !== undefined && { error: r.error }),
      ...(r.status !== undefined && { status: r.status }),
      ...(r.noted !== undefined && { noted: r.noted }),
    };
    switch (r.kind) {
      case 'login':
        (r.token ? issue(r.token, s) : laneOf(undefined)).events.push(event);
        break;
      case 'rotation': {
        const old = r.presented !== undefined ? laneOf(r.presented) : undefined;
        if (r.token) {
          old?.events.push({ ...event, to: r.token.id });
          issue(r.token, s, r.presented);
        } else (old ?? laneOf(undefined)).events.push(event);
        break;
      }
      case 'refresh': {
        const lane = laneOf(r.presented ?? r.token?.id);
        lane.events.push(event);
        const next = r.token?.expiresAt;
        if (r.token && r.token.id === lane.id && next !== undefined && next !== lane.expiries.at(-1)) lane.expiries.push(next);
        break;
      }
      case 'logout':
        session.push(event);
        break;
      default:
        laneOf(r.presented).events.push(event);
    }
  }
  // A lane made only for a presented token never seen issued (a forged token, say) starts at its first event.
  for (const lane of lanes.values()) {
    if (lane.id !== '' && !lane.issued && lane.events.length) {
      lane.issuedAt = lane.events[0]!.at;
      lane.issuedSeq = lane.events[0]!.seq;
    }
  }
  // The token-less lane last, so the token lanes stay together.
  const ordered = [...lanes.values()].filter((l) => l.id !== '');
  const none = lanes.get('');
  if (none) ordered.push(none);
  return { lanes: ordered, session, end };
}

/** One line describing an event, for tooltips. */
export function describeRecord(r: TimelineRecord): string {
  const when = `at ${formatSeconds(r.at)}`;
  const tok = (id: string | undefined) => (id ? `rt#${id}` : 'a token');
  const bound = (m: TokenMark) => (m.jkt !== undefined ? `, bound to DPoP key ${m.jkt.slice(0, 8)}` : '');
  const expiry = (m: TokenMark | undefined) =>
    m === undefined ? '' : `${m.expiresAt !== undefined ? `, declared to expire at ${formatSeconds(m.expiresAt)}${m.expiry ? ` (${m.expiry})` : ''}` : ''}${bound(m)}`;
  const label = r.label ? ` (${r.label})` : '';
  const noted = r.noted && r.noted !== r.kind ? `; the check expected ${r.noted}` : '';
  switch (r.kind) {
    case 'login':
      return r.token ? `login ${when}: ${tok(r.token.id)} issued${expiry(r.token)}${label}` : `login ${when}${label}`;
    case 'rotation':
      return `refresh ${when}: ${tok(r.presented)} rotated to ${tok(r.token?.id)}${expiry(r.token)}${label}${noted}`;
    case 'refresh':
      return `refresh ${when} with ${tok(r.presented)}: no new refresh token${r.token ? expiry(r.token) : ''}${label}${noted}`;
    case 'rejected':
      return `${tok(r.presented)} rejected ${when}: ${r.error ?? 'no error code'}${r.status !== undefined ? ` (HTTP ${r.status})` : ''}${label}${noted}`;
    case 'revocation':
      return `revocation of ${r.presented ? tok(r.presented) : 'a token'} ${when}${r.status !== undefined ? ` (HTTP ${r.status})` : ''}${label}`;
    case 'logout':
      return `logout ${when}${label}`;
    case 'wait':
      return `waited ${formatSeconds(r.seconds ?? 0)}${label}`;
  }
}

/** `0 s`, `45 s`, `10 min`, `8 h 1 s`, `90 d`, `90 d 1 s`: the three largest non-zero units. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const sign = seconds < 0 ? '-' : '';
  let rest = Math.round(Math.abs(seconds));
  if (rest === 0) return '0 s';
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['min', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n) parts.push(`${n} ${unit}`);
  }
  return sign + parts.slice(0, 3).join(' ');
}
