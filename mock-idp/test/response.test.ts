/**
 * The core's response values and its two faces: helpers build plain values, `handle` returns them
 * as they are, `fetch` turns them into genuine Fetch-API Responses at the boundary.
 */
import { describe, expect, it } from 'vitest';
import { createMockIdp } from '../idp.ts';
import { html, json, redirect } from '../http.ts';
import { loadProfile } from '../profile/index.ts';

const profile = await loadProfile('telenorid-plus');
const issuer = 'https://mock-idp.test';

describe('the core builds plain response values', () => {
  it('helpers return status, headers and body text, not a Response', () => {
    const built = [json({ a: 1 }, 201), html('<p>hi</p>'), redirect('https://rp.test/cb', { 'set-cookie': 'a=b' }, 302)];
    for (const r of built) {
      expect(r).not.toBeInstanceOf(Response);
      expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    }
    expect(built[0]).toEqual({ status: 201, headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"a":1}' });
    expect(built[2]).toEqual({ status: 302, headers: { 'set-cookie': 'a=b', location: 'https://rp.test/cb', 'cache-control': 'no-store' }, body: null });
  });

  it('handle answers an IdpRequest with a PlainResponse; a body is read only through bytes()', async () => {
    const idp = await createMockIdp({ profile, issuer });
    let reads = 0;
    const bytes = async () => {
      reads++;
      return new TextEncoder().encode('grant_type=refresh_token&refresh_token=nope');
    };
    const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded' });
    const refused = await idp.handle({ method: 'POST', url: `${issuer}/token`, headers, bytes });
    expect(refused).not.toBeInstanceOf(Response);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body!)).toMatchObject({ error: 'invalid_client' }); // the form was read: no client named in it
    expect(reads).toBe(1);
    const jwks = await idp.handle({ method: 'GET', url: `${issuer}/jwks`, headers: new Headers(), bytes });
    expect(jwks.status).toBe(200);
    expect(JSON.parse(jwks.body!).keys).toHaveLength(1);
    expect(reads).toBe(1);
  });
});

describe('fetch is the Fetch-API boundary', () => {
  it('returns a genuine Response (its own prototype, every method native)', async () => {
    const idp = await createMockIdp({ profile, issuer });
    const res = await idp.fetch(new Request(`${issuer}/.well-known/openid-configuration`));
    expect(Object.getPrototypeOf(res)).toBe(Response.prototype);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect((await res.clone().json()).issuer).toBe(issuer);
    expect(res.body).toBeInstanceOf(ReadableStream);
    const err = await idp.fetch(new Request(`${issuer}/token`, { method: 'GET' }));
    expect(Object.getPrototypeOf(err)).toBe(Response.prototype);
    expect(err.status).toBe(405);
    expect(err.headers.get('allow')).toBe('POST');
  });
});
