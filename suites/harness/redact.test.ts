import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatExchange, formatExchanges, Recorder, sealResult, type Exchange } from './record.ts';
import { fingerprint, marker, redact, redactHeader, SENSITIVE_FIELDS } from './redact.ts';

const fp = (v: string): string => createHash('sha256').update(v).digest('hex').slice(0, 6);

function exchange(parts: Partial<Exchange>): Exchange {
  return { method: 'POST', url: 'https://idp.test/token', requestHeaders: [], startedAt: '2026-01-01T00:00:00.000Z', durationMs: 5, ...parts };
}

describe('fingerprint and marker', () => {
  it('is 6 hex digits, equal for equal values, and not a plain hash a reader could try candidates against', () => {
    expect(fingerprint('rt-123')).toMatch(/^[0-9a-f]{6}$/);
    expect(fingerprint('rt-123')).toBe(fingerprint('rt-123'));
    expect(fingerprint('rt-124')).not.toBe(fingerprint('rt-123'));
    expect(marker('refresh_token', 'rt-123')).toBe(`[redacted:refresh_token#${fingerprint('rt-123')}]`);
    // A short password's marker must not give it away: sha256("hunt") starts with 'fp("hunt")'.
    expect(fingerprint('hunt')).not.toBe(fp('hunt'));
    expect(fingerprint('rt-123')).not.toBe(fp('rt-123'));
  });
});

describe('redact: sensitive fields by name', () => {
  it.each(SENSITIVE_FIELDS)('hides %s in a form body and keeps the other fields', (field) => {
    const value = `v4lue-of-${field}`;
    const out = redact(`grant_type=x&${field}=${encodeURIComponent(value)}&scope=openid`);
    expect(out).toBe(`grant_type=x&${field}=${marker(field, value)}&scope=openid`);
  });

  it.each(SENSITIVE_FIELDS)('hides %s in JSON, nested too', (field) => {
    const value = `secret/${field}+"quoted"`;
    const text = JSON.stringify({ outer: { [field]: value }, keep: 'me' }, null, 1);
    const out = redact(text);
    expect(out).not.toContain(JSON.stringify(value).slice(1, -1));
    expect(out).toContain(`"${field}": "${marker(field, value)}"`);
    expect(out).toContain('"keep": "me"');
  });

  it('does not confuse token with access_token, and leaves token_type alone', () => {
    const out = redact('{"access_token":"AT-1","token_type":"Bearer","token":"T-1"}');
    expect(out).toBe(`{"access_token":"${marker('access_token', 'AT-1')}","token_type":"Bearer","token":"${marker('token', 'T-1')}"}`);
  });

  it('hides query and fragment parameters in URLs, also inside HTML with &amp;', () => {
    const url = 'no.example.mobile:/cb?state=s1&code=C0DE-1#id_token=ID.TOK.EN';
    expect(redact(url)).toBe(`no.example.mobile:/cb?state=s1&code=${marker('code', 'C0DE-1')}#id_token=${marker('id_token', 'ID.TOK.EN')}`);
    const html = '<a href="https://app/cb?state=x&amp;code=C0DE-2">continue</a>';
    expect(redact(html)).toBe(`<a href="https://app/cb?state=x&amp;code=${marker('code', 'C0DE-2')}">continue</a>`);
  });

  it('hides sensitive hidden inputs and any password input in HTML, keeping other inputs', () => {
    const html = [
      '<form method="post" action="https://app/cb">',
      '<input type="hidden" value="C0DE-3" name="code">',
      "<input name='state' value='st'>",
      '<input type=password name=pw value=hunter2>',
      '</form>',
    ].join('');
    const out = redact(html);
    expect(out).toContain(`value="${marker('code', 'C0DE-3')}" name="code"`);
    expect(out).toContain(`value=${marker('password', 'hunter2')}`);
    expect(out).toContain("value='st'");
    expect(out).not.toMatch(/C0DE-3|hunter2/);
  });

  it('hides the password of URL userinfo', () => {
    expect(redact('https://user:pa55@idp.test/x')).toBe(`https://user:${marker('password', 'pa55')}@idp.test/x`);
  });

  it('uses the decoded value for the fingerprint, so a token is followable across encodings', () => {
    const token = 'a+b/c=';
    const inForm = redact(`refresh_token=${encodeURIComponent(token)}`);
    const inJson = redact(JSON.stringify({ refresh_token: token }));
    expect(inForm).toContain(marker('refresh_token', token));
    expect(inJson).toContain(marker('refresh_token', token));
  });
});

describe('redact: registered secrets by value', () => {
  const secret = 's3cr3t &<>"\'/+ x';

  it('hides a registered secret in every encoding it may take', () => {
    const encodings = [
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ v: secret }).toString().slice(2),
      JSON.stringify(secret).slice(1, -1),
      secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'),
    ];
    for (const e of encodings) {
      const out = redact(`before ${e} after`, [{ value: secret, label: 'client_secret' }]);
      expect(out).toBe(`before ${marker('client_secret', secret)} after`);
    }
  });

  it('hides a secret in a URL path and a plain-text body, labelled "secret" by default', () => {
    const out = redact('GET https://idp.test/users/SeCrEt-9/x and SeCrEt-9 again', ['SeCrEt-9']);
    expect(out).toBe(`GET https://idp.test/users/${marker('secret', 'SeCrEt-9')}/x and ${marker('secret', 'SeCrEt-9')} again`);
  });

  it('never corrupts a marker, even with a secret made of hex digits', () => {
    const value = 'rt-value';
    const first = redact(`refresh_token=${value}`);
    const hexSecret = fingerprint(value).slice(0, 3); // occurs inside the marker
    expect(redact(first, [hexSecret])).toBe(first);
  });

  it('replaces a longer secret whole when it contains a shorter one', () => {
    const out = redact('xx-abcdef-xx', ['abc', 'abcdef']);
    expect(out).toBe(`xx-${marker('secret', 'abcdef')}-xx`);
  });
});

describe('redactHeader', () => {
  it('keeps the scheme of Authorization and hides the credentials', () => {
    expect(redactHeader('Authorization', 'Bearer AT.abc').text).toBe(`Bearer ${marker('bearer', 'AT.abc')}`);
    expect(redactHeader('authorization', 'Basic Y2xpZW50OnNlY3JldA==').text).toBe(`Basic ${marker('basic', 'Y2xpZW50OnNlY3JldA==')}`);
  });

  it('keeps cookie names and attributes, hides their values', () => {
    expect(redactHeader('cookie', 'sid=abc; mock_idp_sso=xyz').text).toBe(`sid=${marker('cookie', 'abc')}; mock_idp_sso=${marker('cookie', 'xyz')}`);
    expect(redactHeader('set-cookie', 'sid=abc; Path=/; HttpOnly').text).toBe(`sid=${marker('cookie', 'abc')}; Path=/; HttpOnly`);
  });

  it('redacts fields in a Location header', () => {
    expect(redactHeader('location', 'https://app/cb?code=C1&state=s').text).toBe(`https://app/cb?code=${marker('code', 'C1')}&state=s`);
  });
});

describe('Recorder', () => {
  it('stores no registered secret, and formatted exchanges show none', () => {
    const rec = new Recorder();
    const clientSecret = 'cl1ent-s3cret';
    const password = 'p@ss w0rd!';
    const adminToken = 'admin-T0KEN';
    rec.addSecret(clientSecret, 'client_secret');
    rec.addSecret(password, 'password');
    rec.addSecret(adminToken, 'admin_token');
    rec.record(
      exchange({
        url: `https://idp.test/echo/${clientSecret}?x=${encodeURIComponent(password)}`,
        requestHeaders: [
          ['authorization', `Basic ${Buffer.from(`c:${clientSecret}`).toString('base64')}`],
          ['x-admin', adminToken],
        ],
        requestBody: new URLSearchParams({ username: 'alice', pass: password, client_secret: clientSecret }).toString(),
        status: 200,
        responseHeaders: [['location', `https://app/cb#${encodeURIComponent(password)}`]],
        responseBody: `<p>Hello ${password.replace(/&/g, '&amp;')}, your secret is ${clientSecret}</p>${JSON.stringify({ echo: adminToken })}`,
      }),
    );
    const text = formatExchanges(rec.exchanges);
    for (const s of [clientSecret, password, encodeURIComponent(password), adminToken, Buffer.from(`c:${clientSecret}`).toString('base64')]) {
      expect(text).not.toContain(s);
    }
    expect(text).toContain(marker('client_secret', clientSecret));
    expect(text).toContain(marker('password', password));
    expect(text).toContain('username=alice');
  });

  it('learns tokens it sees by name and hides them wherever they appear later', () => {
    const rec = new Recorder();
    const rt = 'refresh-token-0123456789';
    rec.record(exchange({ status: 200, responseBody: JSON.stringify({ access_token: 'at-0123456789', refresh_token: rt }) }));
    // A later page echoes the token outside any sensitive field.
    rec.record(exchange({ method: 'GET', url: 'https://idp.test/debug', status: 200, responseBody: `your token: ${rt}` }));
    expect(rec.exchanges[1]!.responseBody).toBe(`your token: ${marker('refresh_token', rt)}`);
  });

  it('hides a secret registered later in exchanges recorded earlier', () => {
    const rec = new Recorder();
    rec.record(exchange({ url: 'https://idp.test/x/late-secret-1' }));
    expect(rec.exchanges[0]!.url).toContain('late-secret-1');
    rec.addSecret('late-secret-1', 'id_token');
    expect(rec.exchanges[0]!.url).toBe(`https://idp.test/x/${marker('id_token', 'late-secret-1')}`);
  });

  it('does not learn short values found by name (a 3-letter error code would shred the text)', () => {
    const rec = new Recorder();
    rec.record(exchange({ status: 400, responseBody: '{"code":"E12"}' }));
    rec.record(exchange({ status: 400, responseBody: 'E12 is an error' }));
    expect(rec.exchanges[0]!.responseBody).toBe(`{"code":"${marker('code', 'E12')}"}`);
    expect(rec.exchanges[1]!.responseBody).toBe('E12 is an error');
  });
});

describe('formatExchange', () => {
  it('renders request and response as HTTP text with a cut long body', () => {
    const text = formatExchange(
      exchange({
        requestHeaders: [['content-type', 'application/x-www-form-urlencoded']],
        requestBody: 'grant_type=refresh_token',
        status: 400,
        statusText: 'Bad Request',
        responseHeaders: [['content-type', 'application/json']],
        responseBody: 'x'.repeat(50),
      }),
      { maxBodyChars: 30 },
    );
    expect(text.split('\n')).toEqual([
      '> POST https://idp.test/token',
      '> content-type: application/x-www-form-urlencoded',
      '>',
      '> grant_type=refresh_token',
      '< HTTP 400 Bad Request (5 ms)',
      '< content-type: application/json',
      '<',
      `< ${'x'.repeat(30)}`,
      '< ... (20 more characters)',
    ]);
  });

  it('shows the error of an exchange without response', () => {
    const text = formatExchange(exchange({ error: { code: 'HTTP_TIMEOUT', message: 'POST https://idp.test/token timed out after 200 ms' } }));
    expect(text).toContain('! HTTP_TIMEOUT: POST https://idp.test/token timed out after 200 ms');
    expect(text).not.toContain('< HTTP');
  });
});

/** The encodings an echo of `secret` may take (the issue's list), each as a [name, text] pair. */
function echoes(secret: string): Array<[string, string]> {
  const bytes = Buffer.from(secret, 'utf8');
  const b64 = bytes.toString('base64');
  const url = b64.replace(/\+/g, '-').replace(/\//g, '_');
  const lowerPercent = [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  const allJson = [...secret].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
  // .NET System.Text.Json: + < > & ' " as \u escapes, upper-case hex.
  const dotnet = secret.replace(/[+<>&'"]/g, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
  return [
    ['raw', secret],
    ['base64', b64],
    ['base64 unpadded', b64.replace(/=+$/, '')],
    ['base64url', url],
    ['base64url unpadded', url.replace(/=+$/, '')],
    ['percent upper', encodeURIComponent(secret)],
    ['percent lower', encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
    ['percent every byte, lower', lowerPercent],
    ['form', new URLSearchParams({ v: secret }).toString().slice(2)],
    ['JSON', JSON.stringify(secret).slice(1, -1)],
    ['JSON \\u every character', allJson],
    ['JSON .NET default', dotnet],
    ['HTML named', secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')],
    ['HTML decimal', [...secret].map((c) => `&#${c.codePointAt(0)};`).join('')],
    ['HTML hex', [...secret].map((c) => `&#x${c.codePointAt(0)!.toString(16).toUpperCase()};`).join('')],
  ];
}

describe('redact: a registered secret in every encoding of an echo', () => {
  const secrets = ['s3cr3t+<x>&\'"/ é', 'plainAlnumSecret123', 'ab+/cd?=ef~'];
  it.each(secrets.flatMap((s) => echoes(s).map(([name, text]) => [name, s, text] as const)))('%s of %j', (_name, secret, text) => {
    const out = redact(`error_description: before ${text} after`, [{ value: secret, label: 'client_secret' }]);
    expect(out).toBe(`error_description: before ${marker('client_secret', secret)} after`);
  });

  it('finds a secret inside a larger Base64 string at each of the three alignments', () => {
    const secret = 'inner-secret-value';
    for (const prefix of ['', 'a', 'ab', 'abc', 'user:']) {
      for (const suffix of ['', 'z', 'zz']) {
        const blob = Buffer.from(`${prefix}${secret}${suffix}`).toString('base64');
        for (const text of [blob, blob.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')]) {
          const out = redact(`x ${text} y`, [secret]);
          expect(out, `${prefix}|${suffix}`).toContain(marker('secret', secret));
          // What remains of the blob is the encoding of prefix and suffix, and at most a boundary character and padding on each side.
          const around = Math.ceil(((prefix.length + suffix.length) * 4) / 3);
          expect(out.replace(marker('secret', secret), '').length).toBeLessThanOrEqual(`x  y`.length + around + 4);
        }
      }
    }
  });

  it('finds the Basic credentials of a short secret when the pair is registered, not by chance elsewhere', () => {
    const basic = Buffer.from('my-client:pw1').toString('base64');
    expect(redact(`echo ${basic}`, ['my-client:pw1'])).toBe(`echo ${marker('secret', 'my-client:pw1')}`);
    // A 3-character secret matches its own Base64 only whole, not 3-character fragments of other Base64.
    const other = Buffer.from('xxpw1xx and more text').toString('base64');
    expect(redact(other, ['pw1'])).toBe(other);
  });

  it('redacts a short (4-character) password wherever it appears, raw or encoded', () => {
    expect(redact('seen: wrong pass "hunt" (aHVudA==)', [{ value: 'hunt', label: 'password' }])).toBe(
      `seen: wrong pass "${marker('password', 'hunt')}" (${marker('password', 'hunt')})`,
    );
  });

  it('does not redact inside a marker it just wrote, whatever the order of the secrets', () => {
    const long = 'long-secret-value';
    const out = redact(`a ${long} b`, ['long-secret-value', fingerprint(long).slice(0, 2), 'redacted']);
    expect(out).toBe(`a ${marker('secret', long)} b`);
  });
});

describe('Recorder: every field of an exchange, header names and the reason phrase too', () => {
  it('hides a secret in the reason phrase and a header name, and escapes control characters', () => {
    const rec = new Recorder();
    const secret = 'echoed-secret-42';
    rec.addSecret(secret, 'client_secret');
    const stored = rec.record(
      exchange({
        status: 400,
        statusText: `Bad ${Buffer.from(secret).toString('base64')} \u001b]0;pwned\u0007`,
        responseHeaders: [
          [`x-${secret}`, 'v'],
          ['x-echo', `%${[...Buffer.from(secret)].map((b) => b.toString(16)).join('%')}`],
        ],
        responseBody: `plain \u001b[2J ${secret} \u009b31m`,
      }),
    );
    const text = JSON.stringify(stored);
    expect(text).not.toContain(secret);
    expect(stored.statusText).toBe(`Bad ${marker('client_secret', secret)} \\x1b]0;pwned\\x07`);
    expect(stored.responseHeaders).toEqual([
      [`x-${marker('client_secret', secret)}`, 'v'],
      ['x-echo', marker('client_secret', secret)],
    ]);
    expect(stored.responseBody).toBe(`plain \\x1b[2J ${marker('client_secret', secret)} \\u009b31m`);
  });

  it('sealResult redacts message and timeline with every secret known, and keeps fingerprints', () => {
    const rec = new Recorder();
    const rt = 'refresh-token-echoed-0123';
    rec.record(exchange({ status: 200, responseBody: JSON.stringify({ refresh_token: rt }) }));
    const result = {
      id: 'x',
      message: `expected: invalid_grant\nseen: HTTP 400 error=invalid_grant (token ${encodeURIComponent(rt).toLowerCase()} is \u001b[31mbad)`,
      timeline: [{ kind: 'rejected', presented: fingerprint(rt), error: `${rt}\u0007` }],
    };
    const sealed = sealResult(result, rec);
    expect(sealed.message).toBe(`expected: invalid_grant\nseen: HTTP 400 error=invalid_grant (token ${marker('refresh_token', rt)} is \\x1b[31mbad)`);
    expect(sealed.timeline[0]).toEqual({ kind: 'rejected', presented: fingerprint(rt), error: `${marker('refresh_token', rt)}\\x07` });
  });
});
