/** The HTML pages: plain forms that an HTTP client with a cookie jar, or a browser, can complete. */
import { escapeHtml } from './http.ts';

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem}button{margin-top:1rem;padding:.5rem 1.2rem}
.error{color:#a00}</style></head>
<body>${body}</body></html>`;
}

export function loginPage(input: { action: string; tx: string; clientId: string; error?: string; username?: string }): string {
  return page(
    'Sign in',
    `<h1>Sign in to mock-idp</h1>
<p>Application: <code>${escapeHtml(input.clientId)}</code></p>
${input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : ''}
<form method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="tx" value="${escapeHtml(input.tx)}">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" value="${escapeHtml(input.username ?? '')}" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}

export function logoutConfirmPage(input: { action: string; hidden: Record<string, string> }): string {
  const hidden = Object.entries(input.hidden)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n');
  return page(
    'Sign out',
    `<h1>Sign out?</h1>
<form method="post" action="${escapeHtml(input.action)}">
${hidden}
<button type="submit" name="confirm" value="yes">Yes, sign me out</button>
</form>`,
  );
}

export function signedOutPage(): string {
  return page('Signed out', '<h1>You are signed out</h1>');
}

/** The store behind the mock is unreachable (503): a browser gets a page, not a redirect, when the client is unknown. */
export function unavailablePage(): string {
  return page('Temporarily unavailable', '<h1>Temporarily unavailable</h1>\n<p>The sign-in service cannot reach its store. Try again shortly.</p>');
}
