import { describe, expect, it } from 'vitest';
import { buildSubmission, chooseConfirmationForm, chooseSubmitter, hasPassword, parseHtml } from './html.ts';

describe('parseHtml', () => {
  it('reads forms with their controls, values and buttons', () => {
    const page = parseHtml(`<!doctype html>
      <html><head><title> Sign   in </title></head><body>
      <form id="login" method="POST" action="/login?ctx=a&amp;b=1">
        <input type="hidden" name="csrf" value="t&lt;k&gt;">
        <label>User <input name="username" autocomplete="username"></label>
        <input type="password" name="password">
        <input type="checkbox" name="remember" checked>
        <input type="checkbox" name="spam" value="yes">
        <input type="radio" name="lang" value="en"><input type="radio" name="lang" value="no" checked>
        <input name="disabled" value="x" disabled>
        <input type="file" name="upload">
        <select name="country"><option value="se">Sweden<option value="no" selected>Norway</select>
        <select name="first"><option>One</option><option>Two</option></select>
        <textarea name="note">
line</textarea>
        <button type="button" name="show">Show</button>
        <button name="action" value="login"><span>Sign</span> in</button>
        <input type="submit" value="Go">
      </form>
      <script>document.write('<form action="/evil"><input name="x"></form>')</script>
      </body></html>`);
    expect(page.title).toBe('Sign in');
    expect(page.forms).toHaveLength(1);
    const form = page.forms[0]!;
    expect(form.method).toBe('POST');
    expect(form.action).toBe('/login?ctx=a&b=1');
    expect(form.controls.map((c) => [c.name, c.type, c.value, c.checked])).toEqual([
      ['csrf', 'hidden', 't<k>', false],
      ['username', 'text', '', false],
      ['password', 'password', '', false],
      ['remember', 'checkbox', 'on', true],
      ['spam', 'checkbox', 'yes', false],
      ['lang', 'radio', 'en', false],
      ['lang', 'radio', 'no', true],
      ['country', 'select', 'no', false],
      ['first', 'select', 'One', false],
      ['note', 'textarea', 'line', false],
    ]);
    expect(form.controls[1]!.autocomplete).toBe('username');
    expect(form.buttons).toEqual([
      { name: 'action', value: 'login', text: 'Sign in' },
      { value: 'Go', text: 'Go' },
    ]);
    expect(hasPassword(form)).toBe(true);
  });

  it('attaches controls outside a form through the form attribute', () => {
    const page = parseHtml('<form id="f" action="/x"></form><input form="f" name="outside" value="1"><button form="f" name="go" value="y">Go</button>');
    expect(page.forms[0]!.controls.map((c) => c.name)).toEqual(['outside']);
    expect(page.forms[0]!.buttons.map((b) => b.name)).toEqual(['go']);
  });

  it('finds a meta refresh, a base href and alert texts', () => {
    const page = parseHtml(`<head><base href="https://idp.test/app/"><meta http-equiv="Refresh" content="0; URL='/next?a=1'"></head>
      <div class="alert alert-danger"> Wrong <b>password</b> </div><p role="alert">Try again</p><p class="errorless">no</p>`);
    expect(page.metaRefresh).toBe('/next?a=1');
    expect(page.baseHref).toBe('https://idp.test/app/');
    expect(page.alerts).toEqual(['Wrong password', 'Try again']);
  });

  it('copes with broken markup', () => {
    const page = parseHtml('<form action=/a><input name=a value=1><p><b>unclosed <div><input name=b value="2"></span></form');
    expect(page.forms[0]!.controls.map((c) => `${c.name}=${c.value}`)).toEqual(['a=1', 'b=2']);
  });
});

describe('buildSubmission', () => {
  const pageUrl = 'https://idp.test/login/step?x=1#frag';

  it('POSTs every control with overrides and the submitter, resolving a relative action', () => {
    const page = parseHtml(
      '<form method=post action="../do"><input type=hidden name=h value=1><input name=u><input type=password name=p><input type=checkbox name=c><button name=b value=v>Go</button></form>',
    );
    const form = page.forms[0]!;
    const [, u, p] = form.controls;
    const sub = buildSubmission(form, page, pageUrl, { values: new Map([[u!, 'alice'], [p!, 'pw']]), submitter: form.buttons[0]! });
    expect(sub.method).toBe('POST');
    expect(sub.url).toBe('https://idp.test/do');
    expect(sub.body?.toString()).toBe('h=1&u=alice&p=pw&b=v');
  });

  it('uses the page URL for an absent or empty action, and replaces the query for GET', () => {
    const empty = parseHtml('<form action=""><input name=q value="a b"></form>');
    expect(buildSubmission(empty.forms[0]!, empty, pageUrl)).toEqual({ method: 'GET', url: 'https://idp.test/login/step?q=a+b' });
    const absent = parseHtml('<form method=post><input name=q value=1></form>');
    expect(buildSubmission(absent.forms[0]!, absent, pageUrl).url).toBe('https://idp.test/login/step?x=1');
  });

  it('resolves against <base href> and honours formaction/formmethod', () => {
    const page = parseHtml('<base href="https://other.test/base/"><form action="go"><button formaction="/alt" formmethod="post" name=k value=v>OK</button></form>');
    const form = page.forms[0]!;
    expect(buildSubmission(form, page, pageUrl).url).toBe('https://other.test/base/go');
    const sub = buildSubmission(form, page, pageUrl, { submitter: form.buttons[0]! });
    expect(sub).toMatchObject({ method: 'POST', url: 'https://other.test/alt' });
    expect(sub.body?.toString()).toBe('k=v');
  });
});

describe('choosing what to press', () => {
  it('prefers an affirmative button, else a non-negative one', () => {
    const page = parseHtml(`
      <form><button name=d value=deny>No thanks</button><button name=d value=allow>Allow access</button></form>
      <form><button name=x value=1>Cancel</button><button name=x value=2>Proceed</button></form>
      <form><input type=submit name=only value="Deny"></form>`);
    expect(chooseSubmitter(page.forms[0]!)?.value).toBe('allow');
    expect(chooseSubmitter(page.forms[1]!)?.value).toBe('2');
    expect(chooseSubmitter(page.forms[2]!)?.value).toBe('Deny');
  });

  it('picks the form with an affirmative button among several', () => {
    const page = parseHtml('<form action=/deny><button>Cancel</button></form><form action=/ok><button>Yes, sign me out</button></form>');
    expect(chooseConfirmationForm(page.forms)?.action).toBe('/ok');
  });
});
