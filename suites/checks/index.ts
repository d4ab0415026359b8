/** The catalogue: every check, in report order. Ids are stable; never reuse a retired id. */
import { expiryChecks } from './expiry.ts';
import { offlineAccessChecks } from './offline-access.ts';
import { rotationChecks } from './rotation.ts';
import { publicRefreshProtected, senderConstraintChecks } from './dpop.ts';
import { ssoChecks } from './sso.ts';
import { tokenEndpointChecks } from './token-endpoint.ts';
import type { Check } from './types.ts';

export const CHECKS: readonly Check[] = [...offlineAccessChecks, ...rotationChecks, publicRefreshProtected, ...expiryChecks, ...ssoChecks, ...tokenEndpointChecks, ...senderConstraintChecks];

const ids = new Set<string>();
for (const c of CHECKS) {
  if (ids.has(c.id)) throw new Error(`duplicate check id ${c.id}`);
  ids.add(c.id);
}

export * from './types.ts';
export * from './expect.ts';
