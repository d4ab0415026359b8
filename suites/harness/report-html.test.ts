/** report.html, as text: clause links, escaping, the failure details and one timeline per client. */
import { Parser } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import type { Exchange } from './record.ts';
import { cite, renderCitations, type Citation } from '../../mock-idp/citations.ts';
import { citationsToHtml, reportToHtml, type HtmlCheck } from './report/html.ts';
import { buildReport } from './report/json.ts';
import { brokenAxis, timelineSvg } from './report/timeline-svg.ts';

/** Every `<a href>` of a fragment, with its text. */
function links(html: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let href: string | undefined;
  let text = '';
  const p = new Parser({
    onopentag(name, attrs) {
      if (name === 'a') {
        href = attrs.href;
        text = '';
      }
    },
    ontext(t) {
      if (href !== undefined) text += t;
    },
    onclosetag(name) {
      if (name === 'a' && href !== undefined) {
        out.push([text, href]);
        href = undefined;
      }
    },
  }, { decodeEntities: true });
  p.write(html);
  p.end();
  return out;
}

describe('clause links', () => {
  const html = (citations: Citation[]) => citationsToHtml({ clause: renderCitations(citations), citations });

  it('links RFC sections and appendices at rfc-editor.org, one link per citation', () => {
    expect(links(html([cite.spec('RFC 6749', '10.10'), cite.spec('RFC 6749', 'A.17'), cite.spec('RFC 7009', '2.1')]))).toEqual([
      ['RFC 6749 §10.10', 'https://www.rfc-editor.org/rfc/rfc6749#section-10.10'],
      ['RFC 6749 Appendix A.17', 'https://www.rfc-editor.org/rfc/rfc6749#appendix-A.17'],
      ['RFC 7009 §2.1', 'https://www.rfc-editor.org/rfc/rfc7009#section-2.1'],
    ]);
  });

  it('links OpenID specs to their named anchors, or xml2rfc section anchors', () => {
    expect(links(html([cite.spec('OIDC Core', '12.2'), cite.spec('OIDC Core', '5.4')]))).toEqual([
      ['OIDC Core §12.2', 'https://openid.net/specs/openid-connect-core-1_0.html#RefreshTokenResponse'],
      ['OIDC Core §5.4', 'https://openid.net/specs/openid-connect-core-1_0.html#rfc.section.5.4'],
    ]);
    expect(links(html([cite.spec('OpenID Connect Discovery 1.0', '3')]))).toEqual([['OpenID Connect Discovery 1.0 §3', 'https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderMetadata']]);
    expect(links(html([cite.spec('OpenID RP-Initiated Logout 1.0', '2')]))).toEqual([['OpenID RP-Initiated Logout 1.0 §2', 'https://openid.net/specs/openid-connect-rpinitiated-1_0.html#RPLogout']]);
  });

  it('keeps seed sections and profile fields as labels, links advisories, and escapes notes', () => {
    const out = html([
      cite.seed('000_a8c14fb60ecbbef3.txt', 'TelenorID+ Refresh policies', "Sliding: 'a new token' <b>"),
      cite.field('policies.Mobile.rotation', true),
      cite.spec('Keycloak GHSA-m2w5-7xhv-w6fh', undefined, 'non-atomic rotation'),
    ]);
    expect(out).toContain(
      '<span class="ref seed" title="TelenorID+ Token Refresh (Markdown): a seed document (../shared/seeds/000_a8c14fb60ecbbef3.txt), not published">000_a8c14fb60ecbbef3.txt §TelenorID+ Refresh policies <span class="note">(Sliding: &apos;a new token&apos; &lt;b&gt;)</span></span>',
    );
    expect(out).toContain('<span class="ref profile" title="a field of the profile (fixtures/profiles/*.json); its notes give the reason for a choice">profile policies.Mobile.rotation=true</span>');
    expect(links(out)).toEqual([['Keycloak GHSA-m2w5-7xhv-w6fh', 'https://github.com/advisories/GHSA-m2w5-7xhv-w6fh']]);
    expect(out).not.toContain('<b>');
  });

  it('links a documentation page to its URL, with the section in the link text and the note beside it', () => {
    const out = html([cite.doc('https://www.keycloak.org/docs/latest/server_admin/#_timeouts', 'Session and token timeouts', 'SSO Session Idle <30 min>')]);
    expect(links(out)).toEqual([['https://www.keycloak.org/docs/latest/server_admin/#_timeouts §Session and token timeouts', 'https://www.keycloak.org/docs/latest/server_admin/#_timeouts']]);
    expect(out).toContain('<span class="ref doc" title="public documentation at www.keycloak.org">');
    expect(out).toContain('<span class="note">(SSO Session Idle &lt;30 min&gt;)</span>');
  });

  it('shows the clause text, escaped and unlinked, for a result without citations', () => {
    const out = citationsToHtml({ clause: 'RFC 6749 §6 <b>' });
    expect(out).toBe('<span class="ref">RFC 6749 §6 &lt;b&gt;</span>');
    expect(links(out)).toEqual([]);
  });
});

const exchange: Exchange = {
  method: 'POST',
  url: 'https://idp.test/token',
  requestHeaders: [['content-type', 'application/x-www-form-urlencoded']],
  requestBody: 'grant_type=refresh_token&refresh_token=[redacted:refresh_token#3fa2c1]',
  status: 400,
  responseHeaders: [['content-type', 'application/json']],
  responseBody: '{"error":"invalid_grant","error_description":"<script>alert(1)</script>"}',
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 12,
};

const checks: HtmlCheck[] = [
  {
    id: 'rotation.old-token-rejected',
    group: 'rotation',
    title: 'Old token <rejected>',
    clause: 'RFC 6749 §6',
    citations: [cite.spec('RFC 6749', '6')],
    client: 'mobile',
    policy: 'Mobile',
    status: 'failed',
    level: 'MUST',
    message:
      'Old token <rejected> (RFC 6749 §6)\nexpected: invalid_grant\nseen: HTTP 200 & "a token"\n\nHTTP exchanges (secrets redacted):\n#1\n> POST https://idp.test/token\n< HTTP 200 OK (3 ms)\n<\n< {"x":"<img src=x onerror=alert(1)>"}',
    durationMs: 40,
    exchanges: [exchange],
    timeline: [
      { at: 0, kind: 'login', token: { id: 'aaaaaa', issuedAt: 0, expiresAt: 600, expiry: 'sliding' } },
      { at: 0, kind: 'refresh', presented: 'aaaaaa', noted: 'rejected', label: 'old token' },
    ],
  },
  { id: 'rotation.old-token-rejected', group: 'rotation', title: 'Old token <rejected>', clause: 'RFC 6749 §6', client: 'web', policy: 'Web', status: 'passed', level: 'MUST', message: null, durationMs: 5 },
  { id: 'offline-access.issued', group: 'offline-access', title: 'Issued', clause: 'OIDC Core §11', client: 'no-refresh', policy: 'NoRefresh', status: 'skipped', level: 'MUST', message: 'policy NoRefresh does not issue refresh tokens', durationMs: 0 },
];

describe('reportToHtml', () => {
  const report = buildReport({ target: 'staging <idp>', profile: 'telenorid-plus', startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1234, checks });
  const html = reportToHtml({ ...report, checks: report.checks.map((c, i) => ({ ...c, timeline: checks[i]!.timeline ?? [] })) }, {});

  it('is one self-contained page: no script, no stylesheet or image fetched', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    const fetched: string[] = [];
    const p = new Parser({
      onopentag(name, attrs) {
        if (name === 'script' || (name === 'link' && attrs.rel === 'stylesheet') || ((name === 'img' || name === 'iframe') && attrs.src)) fetched.push(name);
      },
    });
    p.write(html);
    p.end();
    expect(fetched).toEqual([]);
    expect(html).not.toMatch(/url\(/);
  });

  it('escapes everything it did not write itself', () => {
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<rejected>');
    expect(html).not.toContain('staging <idp>');
    expect(html).toContain('staging &lt;idp&gt;');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('shows the summary, the groups, the failure with its evidence and every recorded exchange', () => {
    expect(html).toMatch(/<li class="count passed" data-status="passed" data-count="1"><b>1<\/b> passed<\/li>/);
    expect(html).toMatch(/data-count="1"><b>1<\/b> failed/);
    expect(html).toContain('id="group-rotation"');
    expect(html).toContain('id="group-offline-access"');
    expect(html).toContain('<div class="exchanges evidence"><figure class="exchange"><figcaption>#1 POST /token · 400</figcaption>');
    expect(html).toContain('<span class="req">&gt; POST https://idp.test/token</span>');
    expect(html).toContain('Evidence: every exchange and step of the check (1)');
    expect(html).toContain('grant_type=refresh_token&amp;refresh_token=[redacted:refresh_token#3fa2c1]');
    expect(html).toContain('policy NoRefresh does not issue refresh tokens');
  });

  it('links a check\'s citations from report.json; a result without them shows its clause text', () => {
    expect(links(html)).toContainEqual(['RFC 6749 §6', 'https://www.rfc-editor.org/rfc/rfc6749#section-6']);
    expect(html).toContain('<span class="ref">OIDC Core §11</span>');
  });

  it('draws one timeline per client, the lane named by fingerprint', () => {
    for (const client of ['mobile', 'web', 'no-refresh']) expect(html).toContain(`<figure class="timeline" id="timeline-${client}" data-client="${client}">`);
    expect(html.match(/<svg xmlns="http:\/\/www.w3.org\/2000\/svg" class="timeline-svg"/g)).toHaveLength(3);
    expect(html).toContain('#aaaaaa');
    expect(html).toContain('class="bar bar-sliding" data-token="aaaaaa"');
    // The check expected a rejection where the target refreshed: ringed, and said in the tooltip.
    expect(html).toContain('the check expected rejected');
  });
});

describe('reportToHtml: every status, the level, the verdict', () => {
  const statuses = ['passed', 'failed', 'warning', 'errored', 'skipped', 'inconclusive', 'expected-failure'] as const;
  const six: HtmlCheck[] = statuses.map((status) => ({
    id: `rotation.${status}`,
    group: 'rotation',
    title: `The ${status} one`,
    clause: 'RFC 6749 §6',
    client: 'web',
    policy: 'Web',
    status,
    level: status === 'warning' ? 'SHOULD' : 'MUST',
    message: status === 'passed' ? null : `why it is ${status}`,
    durationMs: 5,
  }));
  const page = (checks: readonly HtmlCheck[], extra: { strict?: boolean; setupError?: string } = {}) =>
    reportToHtml(buildReport({ target: 't', profile: 'p', startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1, checks, ...extra }));

  it('counts all six statuses (and expected failures), with a badge each, and shows each check’s level', () => {
    const html = page(six);
    for (const [status, label] of [['passed', 'passed'], ['failed', 'failed'], ['warning', 'warnings'], ['errored', 'errored'], ['skipped', 'skipped'], ['inconclusive', 'inconclusive'], ['expected-failure', 'expected failures']]) {
      expect(html).toContain(`<li class="count ${status}" data-status="${status}" data-count="1"><b>1</b> ${label}</li>`);
    }
    expect(html).toContain('<span class="badge warning">! warning</span>');
    expect(html).toContain('<span class="badge errored">E errored</span>');
    expect(html).toContain('<span class="badge inconclusive">? inconclusive</span><div class="reason">why it is inconclusive</div>');
    expect(html).toContain('<td class="clause"><span class="level level-SHOULD" data-level="SHOULD">SHOULD</span> <span class="ref">');
    // The messages of warnings and errored checks are shown under their rows, like failures.
    expect(html).toContain('<h3>Warning: <code>rotation.warning</code> [web]</h3>');
    expect(html).toContain('<h3>Errored: <code>rotation.errored</code> [web]</h3>');
    expect(html).toMatch(/data-verdict="failed">1 check failed</);
  });

  it('says errored, not passed, when a check errored and none failed; a warning fails only under --strict', () => {
    const errored = six.filter((c) => c.status !== 'failed');
    expect(page(errored)).toMatch(/data-verdict="errored">1 check errored: the harness could not complete it</);
    const warned = six.filter((c) => c.status === 'passed' || c.status === 'warning');
    expect(page(warned)).toMatch(/data-verdict="passed">All applicable checks passed</);
    expect(page(warned, { strict: true })).toMatch(/data-verdict="failed">1 check failed</);
  });

  it('a setup failure says so, with the reason', () => {
    const html = page([], { setupError: 'issuer https://idp.example unreachable: <refused>' });
    expect(html).toMatch(/data-verdict="setup">Setup failed: nothing was checked</);
    expect(html).toContain('<pre class="message setup-error">issuer https://idp.example unreachable: &lt;refused&gt;</pre>');
  });
});

describe('reportToHtml: where a failure is, and why', () => {
  const step: Exchange = { ...exchange, url: 'https://idp.test/__control/sso/end', requestBody: '{"username":"u"}', status: undefined, responseHeaders: undefined, responseBody: '{"ended":1}', via: 'in-process' };
  const ok: Exchange = { ...exchange, status: 200, responseBody: '{"access_token":"[redacted:access_token#111111]"}' };
  const base = { group: 'sso', title: 'After logout', clause: 'RFC 6749 §6', level: 'MUST' as const, durationMs: 1 };
  const checks: HtmlCheck[] = [
    {
      ...base,
      id: 'sso.refresh-after-logout',
      client: 'mobile',
      policy: 'Mobile',
      status: 'failed',
      message: 'After logout (RFC 6749 §6)\nexpected: the refresh after logout to be refused\nseen: HTTP 200 access_token=<present>',
      expected: 'the refresh after logout to be refused',
      seen: 'HTTP 200 access_token=<present>',
      evidence: [2],
      exchanges: [exchange, step, ok],
      timeline: [
        { at: 0, kind: 'login', token: { id: 'bbbbbb', issuedAt: 0, expiresAt: 600, expiry: 'sliding' } },
        { at: 0, kind: 'logout' },
        { at: 0, kind: 'rotation', presented: 'bbbbbb', token: { id: 'cccccc', issuedAt: 0, expiresAt: 600, expiry: 'sliding' }, noted: 'rejected' },
      ],
    },
    { ...base, id: 'sso.refresh-after-logout', client: 'web', policy: 'Web', status: 'passed', message: null },
    { ...base, id: 'sso.refresh-after-logout', client: 'no-refresh', policy: 'NoRefresh', status: 'skipped', message: 'no refresh tokens for this policy' },
  ];
  const report = buildReport({ target: 't', profile: 'p', startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1, checks });
  const html = reportToHtml({ ...report, checks: report.checks.map((c, i) => ({ ...c, timeline: checks[i]!.timeline ?? [] })) });
  const rows = [...html.matchAll(/<tr class="([^"]*)"[^>]*?(?:data-client="([^"]*)"|data-detail-of="([^"]*)")/g)].map((m) => (m[2] !== undefined ? `row ${m[2]}` : `detail ${m[3]}`));

  it("puts each failure's detail directly under its own row, not under the check's other clients", () => {
    expect(rows.slice(0, 3)).toEqual(['row mobile', 'detail check-sso.refresh-after-logout--mobile', 'row web']);
    // The check's cell spans its two rows and the detail between them.
    expect(html).toContain('<td class="check" rowspan="3"><code>sso.refresh-after-logout</code>');
  });

  it('says expected and seen in the failures list', () => {
    const list = html.slice(html.indexOf('<div class="failure-list">'), html.indexOf('</header>'));
    expect(list).toContain('<span class="k">expected</span> the refresh after logout to be refused <span class="k">seen</span> HTTP 200 access_token=&lt;present&gt;');
  });

  it('shows every exchange and step of the check as evidence, the logout step included, the cited one marked', () => {
    const detail = html.slice(html.indexOf('id="check-sso.refresh-after-logout--mobile-detail"'));
    expect(detail).toContain('Evidence: every exchange and step of the check (3); the verdict cites #3');
    expect(detail).toContain('<figcaption>#2 POST /__control/sso/end · in-process step</figcaption>');
    expect(detail).toContain("&gt; POST https://idp.test/__control/sso/end (in-process: the embedded mock&apos;s control, no HTTP)");
    expect(detail).toContain('<figure class="exchange cited"><figcaption>#3 POST /token · 200 · cited</figcaption>');
  });

  it('says the issuer, Node and any seeded defects at the top', () => {
    const page = reportToHtml(buildReport({ target: 't', profile: 'p', startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1, checks, issuer: 'https://idp.example', defects: ['no-rotation'], node: 'v20.20.0' }));
    expect(page).toContain('<div><dt>Issuer</dt><dd>https://idp.example</dd></div>');
    expect(page).toContain('<div><dt>Node</dt><dd>v20.20.0</dd></div>');
    expect(page).toContain('<div class="defects"><dt>Seeded defects</dt><dd>no-rotation</dd></div>');
    expect(html).not.toContain('Seeded defects');
  });

  it('folds the skipped rows away by default, with their count and reasons', () => {
    const folded = /<details class="skipped-rows" data-count="1"><summary>1 skipped[^<]*<\/summary>([^]*?)<\/details>/.exec(html);
    expect(folded).not.toBeNull();
    expect(folded![1]).toContain('data-client="no-refresh"');
    expect(folded![1]).toContain('no refresh tokens for this policy');
    expect(html.indexOf('data-client="no-refresh"')).toBeGreaterThan(html.indexOf('<details class="skipped-rows"'));
  });

  it('labels a timeline mark where the check expected something else, visibly, not only on hover', () => {
    expect(html).toMatch(/<g class="ev ev-rotation mismatch" data-expected="rejected">.*<text class="mismatch-label"[^>]*>✗ expected rejected<\/text>/);
  });
});

describe('the timeline axis', () => {
  it('keeps events a minute apart readable on a 90-day lifetime: the long gap is broken, and labelled', () => {
    const day = 86400;
    const axis = brokenAxis([0, 60, 120, 90 * day - 60, 90 * day, 90 * day + 60]);
    expect(axis.segments).toHaveLength(2);
    for (const [a, b] of [[0, 60], [60, 120], [90 * day - 60, 90 * day], [90 * day, 90 * day + 60]] as const) {
      expect(axis.x(b) - axis.x(a), `${a}..${b}`).toBeGreaterThan(30);
    }
    expect(axis.x(45 * day)).toBeGreaterThan(axis.x(120));
    expect(axis.x(45 * day)).toBeLessThan(axis.x(90 * day - 60));
    const svg = timelineSvg([{ check: 'x', status: 'passed', timeline: [{ at: 0, kind: 'login', token: { id: 'aaaaaa', issuedAt: 0, expiresAt: 90 * day, expiry: 'fixed' } }, { at: 60, kind: 'refresh', presented: 'aaaaaa' }, { at: 90 * day + 1, kind: 'rejected', presented: 'aaaaaa', error: 'invalid_grant' }] }], { title: 't' });
    expect(svg).toMatch(/<g class="axis-break" data-skips="\d+">.*>\+89 d 23 h 59 min<\/text><\/g>/);
  });

  it('stays one linear axis when nothing is far apart', () => {
    const axis = brokenAxis([0, 300, 600, 900]);
    expect(axis.segments).toHaveLength(1);
    expect(axis.x(600) - axis.x(300)).toBeCloseTo(axis.x(900) - axis.x(600), 6);
  });
});
