/**
 * What the harness knows, from measured times, of the life of each refresh token a check holds and of
 * the SSO session it came from (README "Real clock"). On a real clock a busy machine can stretch a
 * request until the token it presents, or the session a new token depends on, may have ended: the
 * answer then says nothing about the rule the check tests, and the check is inconclusive instead of
 * failing a correct IdP: at once for a refusal (`refusalUnjudgeable`: whatever the check expected, it
 * may be the expiry), when a failure cites it for a missing new refresh token (`ssoUnjudgeable`: only
 * checks that want one care). Only the uncertain span counts: a request sent after the token or
 * session surely ended (a deliberate expiry probe) is judged as usual.
 */
import type { CheckContext, Tokens } from '../checks/types.ts';
import { aliveUntil, deadFrom, secs, type Issued } from '../checks/timing.ts';
import { isRefreshPolicy, type Profile, type RefreshPolicy } from '../../mock-idp/profile/index.ts';

interface Family {
  /** The SSO session is surely active until, and surely over from (logout ends it at once). */
  ssoActiveUntil: number;
  ssoEndedFrom: number;
}

interface Life {
  issued: Issued;
  family: Family;
}

export function createTokenLives(profile: Profile, policy: CheckContext['policy'], now: () => number) {
  const p: RefreshPolicy | undefined = isRefreshPolicy(policy) ? policy : undefined;
  const lives = new Map<string, Life>();
  const families: Family[] = [];
  const S = profile.ssoSessionLifetimeSeconds;
  const ssoMatters = profile.refreshAfterSsoEnd !== 'new-refresh-token';
  const ssoSurelyActive = (f: Family, at: number) => at <= f.ssoActiveUntil;

  return {
    loggedIn(startedAt: number, t: Tokens): void {
      if (!p || !t.refresh_token) return;
      const family: Family = { ssoActiveUntil: startedAt + S - 1, ssoEndedFrom: t.receivedAt + S + 1 };
      families.push(family);
      lives.set(t.refresh_token, { issued: t, family });
    },
    refreshed(presented: string, t: Tokens): void {
      const life = lives.get(presented);
      if (!p || !life || t.status !== 200) return;
      const renews = p.expiry === 'sliding' && (!ssoMatters || ssoSurelyActive(life.family, t.receivedAt));
      if (t.refresh_token && t.refresh_token !== presented) {
        // A new token: a fixed one keeps the family's first expiry (the presented one's); a sliding one counts from now if surely renewed.
        lives.set(t.refresh_token, { issued: p.expiry === 'fixed' || !renews ? life.issued : t, family: life.family });
      } else if (renews) {
        life.issued = t;
      }
    },
    loggedOut(): void {
      const at = now();
      for (const f of families) {
        f.ssoActiveUntil = -Infinity;
        f.ssoEndedFrom = Math.min(f.ssoEndedFrom, at);
      }
    },
    /** Why a refusal of `presented` cannot be judged, or undefined. */
    refusalUnjudgeable(presented: string, t: Tokens): string | undefined {
      const life = lives.get(presented);
      if (!p || !life) return undefined;
      const L = p.lifetimeSeconds;
      const f = life.family;
      const error = typeof t.body?.error === 'string' ? t.body.error : undefined;
      // invalid_client is decided before the token is looked at.
      if (t.status !== 200 && error !== 'invalid_client') {
        if (t.receivedAt > aliveUntil(life.issued, L) && t.sentAt < deadFrom(life.issued, L)) {
          return `the refresh token presented (lifetime ${secs(L)}) was surely alive until ${secs(aliveUntil(life.issued, L))} and the refresh was answered at ${secs(t.receivedAt)} (sent at ${secs(t.sentAt)}): it may have expired on the way, so the refusal (HTTP ${t.status}${error ? ` ${error}` : ''}) cannot be judged`;
        }
        if (profile.refreshAfterSsoEnd === 'invalid_grant' && t.receivedAt > f.ssoActiveUntil && t.sentAt < f.ssoEndedFrom) {
          return `the SSO session (${secs(S)}) was surely active until ${secs(f.ssoActiveUntil)} and the refresh was answered at ${secs(t.receivedAt)}: it may have ended on the way, so the refusal cannot be judged`;
        }
      }
      return undefined;
    },
    /** Why a success without a new refresh token cannot be judged, or undefined. */
    ssoUnjudgeable(presented: string, t: Tokens): string | undefined {
      const life = lives.get(presented);
      if (!p || !life) return undefined;
      const f = life.family;
      const noNewToken = t.status === 200 && (!t.refresh_token || t.refresh_token === presented);
      if (noNewToken && p.rotation && ssoMatters && t.receivedAt > f.ssoActiveUntil && t.sentAt < f.ssoEndedFrom) {
        return `the SSO session (${secs(S)}) was surely active until ${secs(f.ssoActiveUntil)} and the refresh was answered at ${secs(t.receivedAt)}: it may have ended on the way, so the missing new refresh token cannot be judged`;
      }
      return undefined;
    },
  };
}
