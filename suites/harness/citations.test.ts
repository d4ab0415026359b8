/** Citations (mock-idp/citations.ts): the text form, its strict parser, links, and report.json's structured tokens. */
import { describe, expect, it } from 'vitest';
import { CitationSyntaxError, SPECS, citationLinks, cite, parseCitations, renderCitations, sameToken, type Citation } from '../../mock-idp/citations.ts';
import { buildReport, reportToJson } from './report/json.ts';

describe('renderCitations', () => {
  it('writes spec sections, appendices and notes, and collapses consecutive sections of one document', () => {
    expect(renderCitations([cite.spec('RFC 6749', '10.10'), cite.spec('RFC 6749', 'A.17')])).toBe('RFC 6749 §10.10, Appendix A.17');
    expect(renderCitations([cite.spec('RFC 6749', '6', 'bound to the client'), cite.spec('RFC 6749', '10.4'), cite.spec('RFC 7009', '2.1')])).toBe(
      'RFC 6749 §6 (bound to the client), §10.4; RFC 7009 §2.1',
    );
    expect(renderCitations([cite.spec('Keycloak GHSA-m2w5-7xhv-w6fh', undefined, 'non-atomic rotation')])).toBe('Keycloak GHSA-m2w5-7xhv-w6fh (non-atomic rotation)');
  });

  it('writes documentation pages as their URL, and collapses consecutive sections of one page', () => {
    expect(
      renderCitations([
        cite.doc('https://www.keycloak.org/docs/latest/server_admin/', 'Session and token timeouts', 'SSO Session Idle'),
        cite.doc('https://www.keycloak.org/docs/latest/server_admin/', 'Offline access'),
        cite.doc('https://auth0.com/docs/x'),
      ]),
    ).toBe('https://www.keycloak.org/docs/latest/server_admin/ §Session and token timeouts (SSO Session Idle), §Offline access; https://auth0.com/docs/x');
  });

  it('writes seed sections and profile fields with their values', () => {
    expect(
      renderCitations([
        cite.seed('002_e32d96fc439dbedc.txt', 'Token Lifetime and Renewal'),
        cite.seed('002_e32d96fc439dbedc.txt', 'Exchanging a Refresh Token', 'WARNING'),
        cite.field('policies.Mobile.rotation', true),
        cite.field('refreshAfterSsoEnd', 'no-new-refresh-token'),
      ]),
    ).toBe('002_e32d96fc439dbedc.txt §Token Lifetime and Renewal, §Exchanging a Refresh Token (WARNING); profile policies.Mobile.rotation=true; profile refreshAfterSsoEnd=no-new-refresh-token');
  });
});

describe('parseCitations', () => {
  it.each([
    'RFC 6749 §10.10, Appendix A.17; RFC 7009 §2.1',
    "000_a8c14fb60ecbbef3.txt §TelenorID+ Refresh policies (Sliding: 'a new token will be provided'); RFC 9700 §4.14.2",
    "002_e32d96fc439dbedc.txt §Refresh Tokens in Interactive Apps (NOTE: 'not issued for the Client Credentials flow'); RFC 6749 §4.4.3",
    'profile reuseOfRotatedToken (the seeds are silent: see its note); RFC 9700 §4.14.2',
    'OIDC Core §3.1.3.7 (9: exp in the future; 10: iat not in the future), §12.2',
    'https://www.keycloak.org/docs/latest/server_admin/ §Session and token timeouts (SSO Session Idle: 30 minutes)',
    'https://auth0.com/docs/secure/tokens/refresh-tokens/refresh-token-rotation (reuse revokes the family); RFC 9700 §4.14.2',
    'https://www.ory.sh/docs/hydra/reference/configuration §Refresh token rotation, §TTL',
  ])('reads back what renderCitations writes: %s', (text) => {
    expect(renderCitations(parseCitations(text))).toBe(text);
  });

  it('reads the tokens: a part starting with § continues the document before it', () => {
    expect(parseCitations('002_e32d96fc439dbedc.txt §Token Lifetime and Renewal; §Learn More (Redirect URIs and PKCE)')).toEqual([
      { seed: '002_e32d96fc439dbedc.txt', section: 'Token Lifetime and Renewal' },
      { seed: '002_e32d96fc439dbedc.txt', section: 'Learn More', note: 'Redirect URIs and PKCE' },
    ]);
    expect(parseCitations('RFC 6749 §6, §5.2 (invalid_scope); profile policies.Web.rotation=true')).toEqual([
      { spec: 'RFC 6749', section: '6' },
      { spec: 'RFC 6749', section: '5.2', note: 'invalid_scope' },
      { profileField: 'policies.Web.rotation', value: 'true' },
    ]);
  });

  it('reads documentation pages: a URL, then an optional §heading and (note); a § part continues the page', () => {
    expect(parseCitations('https://www.keycloak.org/docs/latest/server_admin/#_timeouts §Session and token timeouts (SSO Session Max); §Offline access')).toEqual([
      { doc: 'https://www.keycloak.org/docs/latest/server_admin/#_timeouts', section: 'Session and token timeouts', note: 'SSO Session Max' },
      { doc: 'https://www.keycloak.org/docs/latest/server_admin/#_timeouts', section: 'Offline access' },
    ]);
    expect(parseCitations('https://developer.okta.com/docs/guides/refresh-tokens/main/ (leeway 30 s)')).toEqual([
      { doc: 'https://developer.okta.com/docs/guides/refresh-tokens/main/', note: 'leeway 30 s' },
    ]);
    expect(parseCitations('https://auth0.com/docs/x; profile invalidGrantStatus=403')).toEqual([{ doc: 'https://auth0.com/docs/x' }, { profileField: 'invalidGrantStatus', value: '403' }]);
  });

  it.each([
    ['RFC 6750 §2', /"RFC 6750 §2": not a citation.*specs: .*RFC 6749/],
    ['http://www.keycloak.org/docs/ §Timeouts', /not a citation; .*"<https URL> §<heading>"/],
    ['https://www.keycloak.org/docs/ Timeouts', /expected "§<heading>" and\/or "\(note\)" after https:\/\/www.keycloak.org\/docs\//],
    ['https://[bad §Timeouts', /https:\/\/\[bad is not a URL/],
    ['RFC 6749 section 6', /expected "§<number>" or "Appendix <letter>" after RFC 6749/],
    ['§6', /a section with no spec, seed file or documentation page before it/],
    ['RFC 6749 §6;', /empty citation/],
    ['000_a8c14fb60ecbbef3.txt Refresh policies', /not a citation/],
  ])('refuses %s with a clear error', (text, message) => {
    expect(() => parseCitations(text)).toThrow(CitationSyntaxError);
    expect(() => parseCitations(text)).toThrow(message);
  });
});

describe('citationLinks', () => {
  it('links every spec section through the table; seeds and profile fields carry no link', () => {
    const links = citationLinks([cite.spec('RFC 9700', '4.14.2'), cite.spec('OIDC Core', '11'), cite.seed('000_a8c14fb60ecbbef3.txt', 'Get refresh_token'), cite.field('offlineAccessScope')]);
    expect(links.map((l) => [l.kind, l.text, l.href])).toEqual([
      ['spec', 'RFC 9700 §4.14.2', 'https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2'],
      ['spec', 'OIDC Core §11', 'https://openid.net/specs/openid-connect-core-1_0.html#OfflineAccess'],
      ['seed', '000_a8c14fb60ecbbef3.txt §Get refresh_token', undefined],
      ['profile', 'profile offlineAccessScope', undefined],
    ]);
    expect(links[0]!.title).toBe('RFC 9700: Best Current Practice for OAuth 2.0 Security');
  });

  it('links a documentation page to its URL, with its host as tooltip; its text is the URL and the section', () => {
    const [link] = citationLinks([cite.doc('https://www.keycloak.org/docs/latest/server_admin/#_timeouts', 'Session and token timeouts', 'SSO Session Idle')]);
    expect(link).toEqual({
      kind: 'doc',
      text: 'https://www.keycloak.org/docs/latest/server_admin/#_timeouts §Session and token timeouts',
      note: 'SSO Session Idle',
      href: 'https://www.keycloak.org/docs/latest/server_admin/#_timeouts',
      title: 'public documentation at www.keycloak.org',
    });
    expect(citationLinks([cite.doc('https://auth0.com/docs/secure/tokens')])[0]).toMatchObject({ text: 'https://auth0.com/docs/secure/tokens', href: 'https://auth0.com/docs/secure/tokens' });
  });

  it('every spec of the table has an https page', () => {
    for (const spec of Object.values(SPECS)) expect(spec.url).toMatch(/^https:\/\//);
  });
});

describe('sameToken', () => {
  it('matches a section of a spec or seed regardless of notes, and profile fields segment by segment with *', () => {
    expect(sameToken(cite.spec('RFC 6749', '6', 'a'), cite.spec('RFC 6749', '6'))).toBe(true);
    expect(sameToken(cite.spec('RFC 6749', '6'), cite.spec('RFC 6749', '6.1'))).toBe(false);
    expect(sameToken(cite.field('policies.*.rotation'), cite.field('policies.Mobile.rotation', true))).toBe(true);
    expect(sameToken(cite.field('policies.*.rotation'), cite.field('policies.Mobile.expiry'))).toBe(false);
    expect(sameToken(cite.field('rotation'), cite.spec('RFC 6749', '6'))).toBe(false);
    expect(sameToken(cite.doc('https://a.example/d', 'X', 'n'), cite.doc('https://a.example/d', 'X'))).toBe(true);
    expect(sameToken(cite.doc('https://a.example/d', 'X'), cite.doc('https://a.example/d', 'Y'))).toBe(false);
    expect(sameToken(cite.doc('https://a.example/d'), cite.seed('https://a.example/d', 'X'))).toBe(false);
  });
});

describe('report.json', () => {
  it('keeps each check\'s citations as tokens beside its clause text', () => {
    const citations: Citation[] = [cite.spec('RFC 6749', '6'), cite.field('policies.Web.rotation', true)];
    const report = buildReport({
      target: 't',
      profile: 'p',
      startedAt: '2026-01-01T00:00:00.000Z',
      durationMs: 1,
      checks: [{ id: 'rotation.x', group: 'rotation', title: 'x', clause: renderCitations(citations), citations, client: 'web', policy: 'Web', status: 'passed', level: 'MUST', message: null, durationMs: 1 }],
    });
    const json = JSON.parse(reportToJson(report));
    expect(json.checks[0].clause).toBe('RFC 6749 §6; profile policies.Web.rotation=true');
    expect(json.checks[0].citations).toEqual([{ spec: 'RFC 6749', section: '6' }, { profileField: 'policies.Web.rotation', value: true }]);
  });
});
