/**
 * report.html: one self-contained page (inline CSS and SVG, no script, nothing fetched) that a person
 * can read and hand on. Summary first; then each group's checks with their citations linked to the spec
 * (RFCs to rfc-editor.org, OpenID specs to their anchors; seed sections stay plain labels); failures with
 * the recorded HTTP exchanges (redacted by the harness, escaped here); and per client the token
 * timelines of its checks (timeline-svg.ts). Pure, apart from writeHtmlReport.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isRefreshPolicy, type Profile } from '../../../mock-idp/profile/index.ts';
import { citationLinks } from '../../../mock-idp/citations.ts';
import { formatExchange } from '../record.ts';
import { escapeXmlAttribute as esc } from './junit.ts';
import { formatSeconds, type TimelineRecord } from './timeline.ts';
import { timelineSvg, type TimelineBlock } from './timeline-svg.ts';
import type { CheckResult, CheckStatus, Report } from './types.ts';

/** A check as the page reads it: a report.json entry, with its timeline when the run recorded one. */
export type HtmlCheck = CheckResult & { timeline?: readonly TimelineRecord[] };
export type HtmlReport = Omit<Report, 'checks'> & { checks: readonly HtmlCheck[] };

export interface HtmlOptions {
  /** Describes each client's policy above its timeline (lifetime, sliding or fixed, rotation). */
  profile?: Pick<Profile, 'policies'>;
  /** Shown in the footer, e.g. `refresh-conformance 0.1.0`. */
  generator?: string;
  /** A line under the title, e.g. the issuer or `embedded mock over msw`. */
  subtitle?: string;
}

const STATUS_LABEL: Record<CheckStatus, string> = {
  passed: 'passed',
  failed: 'failed',
  warning: 'warning',
  errored: 'errored',
  skipped: 'skipped',
  inconclusive: 'inconclusive',
  'expected-failure': 'expected failure',
};
const STATUS_MARK: Record<CheckStatus, string> = { passed: '✓', failed: '✗', warning: '!', errored: 'E', skipped: '–', inconclusive: '?', 'expected-failure': '≈' };

export function reportToHtml(report: HtmlReport, options: HtmlOptions = {}): string {
  const s = report.summary;
  const failed = report.checks.filter((c) => c.status === 'failed' || (report.strict && c.status === 'warning'));
  const errored = report.checks.filter((c) => c.status === 'errored');
  const verdict = verdictOf(report);
  const title = `refresh-conformance: ${report.target} (${report.profile})`;
  const groups = groupBy(report.checks, (c) => c.group);
  const clients = unique(report.checks.map((c) => c.client).filter((c): c is string => c !== null));

  const body: string[] = [];
  body.push(`<header class="summary" id="summary">`);
  body.push(`<h1>Refresh-token conformance: <span class="target">${esc(report.target)}</span></h1>`);
  if (options.subtitle) body.push(`<p class="subtitle">${esc(options.subtitle)}</p>`);
  body.push(`<dl class="facts">`);
  body.push(fact('Target', report.target), fact('Profile', report.profile));
  if (report.issuer) body.push(fact('Issuer', report.issuer));
  body.push(fact('Started', report.startedAt), fact('Duration', formatDuration(report.durationMs)));
  if (report.node) body.push(fact('Node', report.node));
  // A run against deliberately broken behaviour is no verdict on an IdP: said at the top.
  if (report.defects?.length) body.push(`<div class="defects"><dt>Seeded defects</dt><dd>${esc(report.defects.join(', '))}</dd></div>`);
  if (report.strict) body.push(fact('Mode', '--strict: warnings fail the run'));
  body.push(`</dl>`);
  body.push(`<p class="verdict verdict-${verdict}" data-verdict="${verdict}">${esc(verdictText(report, failed.length, errored.length))}</p>`);
  if (report.setupError !== undefined) body.push(`<pre class="message setup-error">${esc(report.setupError)}</pre>`);
  body.push(`<ul class="counts">`);
  body.push(
    count('passed', 'passed', s.passed),
    count('failed', 'failed', s.failed),
    count('warning', 'warnings', s.warnings),
    count('errored', 'errored', s.errored),
    count('skipped', 'skipped', s.skipped),
    count('inconclusive', 'inconclusive', s.inconclusive),
    count('expected-failure', 'expected failures', s.expectedFailures),
  );
  body.push(`</ul>`);
  body.push(`<nav class="toc"><span>Groups:</span> ${[...groups.keys()].map((g) => `<a href="#group-${slug(g)}">${esc(g)}</a>`).join(' ')} · <a href="#timelines">Token timelines</a></nav>`);
  for (const [heading, list] of [['Failures', failed], ['Errored (not a verdict on the IdP)', errored]] as const) {
    if (!list.length) continue;
    body.push(`<div class="failure-list"><h2>${esc(heading)}</h2><ul>`);
    for (const c of list) body.push(`<li><a href="#${checkAnchor(c)}"><code>${esc(c.id)}</code> [${esc(c.client ?? '—')}]</a> ${esc(c.title)}${verdictLine(c)}</li>`);
    body.push(`</ul></div>`);
  }
  body.push(`</header>`);

  body.push(`<main>`);
  for (const [group, checks] of groups) body.push(groupSection(group, checks, clients));
  body.push(timelinesSection(report, clients, options));
  body.push(`</main>`);
  body.push(`<footer>${esc(options.generator ?? 'refresh-conformance')} · report of ${esc(report.startedAt)} · secrets in exchanges are redacted as [redacted:label#sha256-prefix]</footer>`);

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body class="verdict-${verdict}">
${body.join('\n')}
</body>
</html>
`;
}

/** Writes the page (creating the directory); returns the path. */
/** failed (a rule broken, or a warning under --strict), errored (our side could not finish), setup (nothing checked), or passed. */
function verdictOf(report: HtmlReport): 'passed' | 'failed' | 'errored' | 'setup' {
  const s = report.summary;
  if (report.setupError !== undefined) return 'setup';
  if (s.failed > 0 || (report.strict && s.warnings > 0)) return 'failed';
  if (s.errored > 0) return 'errored';
  return 'passed';
}

function verdictText(report: HtmlReport, failed: number, errored: number): string {
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  switch (verdictOf(report)) {
    case 'setup':
      return 'Setup failed: nothing was checked';
    case 'failed':
      return `${plural(failed, 'check')} failed`;
    case 'errored':
      return `${plural(errored, 'check')} errored: the harness could not complete ${errored === 1 ? 'it' : 'them'}`;
    case 'passed':
      return 'All applicable checks passed';
  }
}

export async function writeHtmlReport(file: string, report: HtmlReport, options: HtmlOptions = {}): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, reportToHtml(report, options), 'utf8');
  return file;
}

// ---------------------------------------------------------------------------------------------
// Groups and checks

function groupSection(group: string, checks: readonly HtmlCheck[], clients: string[]): string {
  const c = tally(checks);
  const out: string[] = [`<section class="group" id="group-${slug(group)}" data-group="${esc(group)}">`];
  out.push(
    `<h2>${esc(group)} <span class="tally">${[
      c.passed && `<span class="passed">${c.passed} passed</span>`,
      c.failed && `<span class="failed">${c.failed} failed</span>`,
      c.warning && `<span class="warning">${c.warning} warning${c.warning === 1 ? '' : 's'}</span>`,
      c.errored && `<span class="errored">${c.errored} errored</span>`,
      c['expected-failure'] && `<span class="expected-failure">${c['expected-failure']} expected</span>`,
      c.skipped && `<span class="skipped">${c.skipped} skipped</span>`,
      c.inconclusive && `<span class="inconclusive">${c.inconclusive} inconclusive</span>`,
    ]
      .filter(Boolean)
      .join(' · ')}</span></h2>`,
  );
  // What was judged first; the checks that did not apply to a client folded away below (opened on demand,
  // and by the browser when a link points into them).
  const judged = checks.filter((x) => x.status !== 'skipped');
  const skipped = checks.filter((x) => x.status === 'skipped');
  if (judged.length) out.push(checksTable(judged, clients));
  if (skipped.length) {
    out.push(
      `<details class="skipped-rows" data-count="${skipped.length}"><summary>${skipped.length} skipped (not applicable to the client): show them, with the reasons</summary>${checksTable(skipped, clients)}</details>`,
    );
  }
  out.push(`</section>`);
  return out.join('\n');
}

/** The rows of checks, one per client, each failure's detail right under its own row. */
function checksTable(checks: readonly HtmlCheck[], clients: string[]): string {
  const out: string[] = [`<table class="checks"><thead><tr><th>Check</th><th>Client</th><th>Result</th><th>Clause</th><th class="num">Time</th></tr></thead><tbody>`];
  const byId = groupBy(checks, (x) => x.id);
  for (const [, instances] of byId) {
    const sorted = [...instances].sort((a, b) => clients.indexOf(a.client ?? '') - clients.indexOf(b.client ?? ''));
    // The check's cell spans its rows and the detail rows between them.
    const rows = sorted.length + sorted.filter((x) => DETAILED.has(x.status)).length;
    sorted.forEach((check, i) => {
      const first = i === 0;
      const cls = `status-${check.status}${first ? ' first' : ''}`;
      out.push(`<tr class="${cls}" id="${checkAnchor(check)}" data-check="${esc(check.id)}" data-client="${esc(check.client ?? '')}" data-status="${check.status}">`);
      if (first) out.push(`<td class="check" rowspan="${rows}"><code>${esc(check.id)}</code><div class="title">${esc(check.title)}</div></td>`);
      out.push(`<td class="client">${esc(check.client ?? '—')}${check.policy ? `<div class="policy">${esc(check.policy)}</div>` : ''}</td>`);
      const reason = (check.status === 'skipped' || check.status === 'inconclusive') && check.message ? `<div class="reason">${esc(check.message)}</div>` : '';
      const note = check.status === 'passed' && check.message ? `<div class="reason">${esc(check.message)}</div>` : '';
      out.push(`<td class="result"><span class="badge ${check.status}">${STATUS_MARK[check.status]} ${STATUS_LABEL[check.status]}</span>${reason}${note}</td>`);
      out.push(`<td class="clause"><span class="level level-${check.level}" data-level="${check.level}">${check.level}</span> ${citationsToHtml(check)}</td>`);
      out.push(`<td class="num">${esc(formatDuration(check.durationMs))}</td>`);
      out.push(`</tr>`);
      if (DETAILED.has(check.status)) {
        out.push(`<tr class="detail status-${check.status}" data-detail-of="${esc(checkAnchor(check))}"><td colspan="4">${failureDetail(check)}</td></tr>`);
      }
    });
  }
  out.push(`</tbody></table>`);
  return out.join('\n');
}

/** Expected and seen, from the verdict (report.json's structured fields), for the failures list. */
function verdictLine(c: HtmlCheck): string {
  if (c.expected === undefined || c.seen === undefined) return '';
  return `<div class="expected-seen"><span class="k">expected</span> ${esc(c.expected)} <span class="k">seen</span> ${esc(c.seen)}</div>`;
}

/** Statuses shown with their message and exchanges under the row. */
const DETAILED: ReadonlySet<CheckStatus> = new Set(['failed', 'warning', 'errored', 'expected-failure']);
const DETAIL_HEADING: Partial<Record<CheckStatus, string>> = { failed: 'Failed', warning: 'Warning', errored: 'Errored', 'expected-failure': 'Expected failure' };

const EXCHANGES_HEADING = '\n\nHTTP exchanges (secrets redacted):\n';

/**
 * The failure message, then the evidence: every exchange and step the check made (its logout and the
 * mock clock's moves included), in order, the ones the verdict cites marked. A report.json without the
 * check's exchanges falls back to the exchanges its message cites.
 */
function failureDetail(check: HtmlCheck): string {
  const message = check.message ?? '';
  const cut = message.indexOf(EXCHANGES_HEADING);
  const text = cut >= 0 ? message.slice(0, cut) : message;
  const out: string[] = [`<div class="failure" id="${checkAnchor(check)}-detail">`];
  out.push(`<h3>${esc(DETAIL_HEADING[check.status] ?? check.status)}: <code>${esc(check.id)}</code> [${esc(check.client ?? '—')}]</h3>`);
  out.push(`<pre class="message">${esc(text)}</pre>`);
  const all = check.exchanges ?? [];
  if (all.length) {
    const cited = new Set(check.evidence ?? []);
    const which = cited.size ? `; the verdict cites ${[...cited].sort((a, b) => a - b).map((i) => `#${i + 1}`).join(', ')}` : '';
    out.push(`<h4>Evidence: every exchange and step of the check (${all.length})${which}</h4>`);
    out.push(
      `<div class="exchanges evidence">${all
        .map((e, i) =>
          exchangeBlock(formatExchange(e), `#${i + 1} ${e.via === 'real-clock' ? 'real-clock wait' : `${e.method} ${pathOf(e.url)} · ${e.via === 'in-process' ? 'in-process step' : (e.status ?? 'no response')}`}${cited.has(i) ? ' · cited' : ''}`, cited.has(i)),
        )
        .join('\n')}</div>`,
    );
  } else {
    const evidence = cut >= 0 ? splitExchanges(message.slice(cut + EXCHANGES_HEADING.length)) : [];
    if (evidence.length) {
      out.push(`<h4>Evidence (${evidence.length} exchange${evidence.length === 1 ? '' : 's'})</h4>`);
      out.push(`<div class="exchanges evidence">${evidence.map((e, i) => exchangeBlock(e, `#${i + 1}`, true)).join('\n')}</div>`);
    }
  }
  out.push(`</div>`);
  return out.join('\n');
}

/** A URL's path (the origin is the target's, the same for every exchange); the URL itself when unparsable. */
function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

/** `#1\n> ...\n\n#2\n> ...` (record.ts formatExchanges) back into one text per exchange. */
function splitExchanges(text: string): string[] {
  return text
    .split(/^#\d+\n/m)
    .map((t) => t.replace(/\n+$/, ''))
    .filter((t) => t.trim() !== '');
}

/** One exchange, its request lines (`> `) and response lines (`< `) told apart. */
function exchangeBlock(text: string, heading: string, cited = false): string {
  const lines = text.split('\n').map((line) => {
    const cls = line.startsWith('>') ? 'req' : line.startsWith('<') ? 'res' : line.startsWith('!') ? 'err' : 'other';
    return `<span class="${cls}">${esc(line)}</span>`;
  });
  return `<figure class="exchange${cited ? ' cited' : ''}"><figcaption>${esc(heading)}</figcaption><pre>${lines.join('\n')}</pre></figure>`;
}

// ---------------------------------------------------------------------------------------------
// Clause links

/**
 * A check's citations as HTML, from the one table (mock-idp/citations.ts): specs link to their
 * section (`RFC 6749 §6` → rfc-editor.org's `#section-6`, `OIDC Core §12.2` → `#RefreshTokenResponse`);
 * seed sections and profile fields stay labels with a tooltip. A result without citations (a
 * report.json from before they existed) shows its clause text, escaped.
 */
export function citationsToHtml(check: Pick<CheckResult, 'clause' | 'citations'>): string {
  if (!check.citations?.length) return `<span class="ref">${esc(check.clause)}</span>`;
  return citationLinks(check.citations)
    .map((l) => {
      const text = l.href ? `<a href="${esc(l.href)}">${esc(l.text)}</a>` : esc(l.text);
      const note = l.note !== undefined ? ` <span class="note">(${esc(l.note)})</span>` : '';
      return `<span class="ref ${l.kind}" title="${esc(l.title)}">${text}${note}</span>`;
    })
    .join('<span class="sep">; </span>');
}

// ---------------------------------------------------------------------------------------------
// Timelines

function timelinesSection(report: HtmlReport, clients: string[], options: HtmlOptions): string {
  const out: string[] = [`<section class="timelines" id="timelines">`, `<h2>Token timelines</h2>`];
  out.push(
    `<p class="hint">Per client, every check that logged in: one lane per refresh token (by its fingerprint, as in the exchanges' <code>[redacted:refresh_token#…]</code>). ` +
      `Time is the target's clock since each check started (the mock's clock jumps with each wait), so blocks share one axis. Hover a mark for details.</p>`,
  );
  out.push(LEGEND);
  if (clients.length === 0) out.push(`<p>No client ran a check.</p>`);
  for (const client of clients) {
    const checks = report.checks.filter((c) => c.client === client);
    const policy = checks.find((c) => c.policy)?.policy ?? null;
    const blocks: TimelineBlock[] = checks.map((c) => ({ check: c.id, status: c.status, href: `#${checkAnchor(c)}`, timeline: c.timeline ?? [] }));
    const caption = `${client}${policy ? ` · policy ${policy}` : ''}${describePolicy(policy, options.profile)}`;
    out.push(`<figure class="timeline" id="timeline-${slug(client)}" data-client="${esc(client)}">`);
    out.push(`<figcaption>${esc(caption)}</figcaption>`);
    out.push(timelineSvg(blocks, { title: `Token timeline of client ${client}` }));
    out.push(`</figure>`);
  }
  out.push(`</section>`);
  return out.join('\n');
}

function describePolicy(name: string | null, profile: HtmlOptions['profile']): string {
  const p = name ? profile?.policies[name] : undefined;
  if (!p) return '';
  if (!p.refresh) return ': no refresh tokens';
  if (!isRefreshPolicy(p)) return ': refresh';
  return `: ${p.expiry} expiry, lifetime ${formatSeconds(p.lifetimeSeconds)}, rotation ${p.rotation ? 'on' : 'off'}`;
}

const LEGEND = `<ul class="legend">
<li><svg width="34" height="14" aria-hidden="true"><rect x="1" y="2" width="24" height="10" rx="2" fill="#99f6e4" stroke="#0f766e"/><path d="M25,0 l6,7 l-6,7" fill="none" stroke="#0f766e" stroke-width="2"/></svg> sliding expiry: a renewal moves the end</li>
<li><svg width="34" height="14" aria-hidden="true"><rect x="1" y="2" width="26" height="10" rx="2" fill="#fed7aa" stroke="#c2410c"/><line x1="27" y1="0" x2="27" y2="14" stroke="#c2410c" stroke-width="3"/></svg> fixed expiry: one end for the login (dashed wall)</li>
<li><svg width="14" height="14" aria-hidden="true"><circle cx="7" cy="7" r="5" fill="#1d4ed8"/></svg> login</li>
<li><svg width="14" height="14" aria-hidden="true"><circle cx="7" cy="7" r="4.5" fill="#fff" stroke="#1d4ed8" stroke-width="2"/></svg> refresh, no new token</li>
<li><svg width="14" height="14" aria-hidden="true"><path d="M7,1 l6,6 l-6,6 l-6,-6 z" fill="#7c3aed"/></svg> rotation (arrow to the new token)</li>
<li><svg width="14" height="14" aria-hidden="true"><path d="M2,2 l10,10 M12,2 l-10,10" stroke="#dc2626" stroke-width="3" stroke-linecap="round"/></svg> rejected (error code)</li>
<li><svg width="14" height="14" aria-hidden="true"><rect x="2.5" y="2.5" width="9" height="9" fill="#111827"/></svg> revocation</li>
<li><svg width="14" height="14" aria-hidden="true"><line x1="7" y1="0" x2="7" y2="14" stroke="#be185d" stroke-width="2" stroke-dasharray="4 2"/></svg> logout</li>
<li><svg width="20" height="20" aria-hidden="true"><circle cx="10" cy="10" r="8" fill="none" stroke="#dc2626" stroke-width="1.5" stroke-dasharray="3 2"/></svg> the check expected something else here</li>
</ul>`;

// ---------------------------------------------------------------------------------------------
// Small helpers

function fact(name: string, value: string): string {
  return `<div><dt>${esc(name)}</dt><dd>${esc(value)}</dd></div>`;
}

function count(status: string, label: string, n: number): string {
  return `<li class="count ${status}" data-status="${status}" data-count="${n}"><b>${n}</b> ${esc(label)}</li>`;
}

function tally(checks: readonly HtmlCheck[]): Record<CheckStatus, number> {
  const t: Record<CheckStatus, number> = { passed: 0, failed: 0, warning: 0, errored: 0, skipped: 0, inconclusive: 0, 'expected-failure': 0 };
  for (const c of checks) t[c.status]++;
  return t;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    const list = m.get(k);
    if (list) list.push(i);
    else m.set(k, [i]);
  }
  return m;
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

export function checkAnchor(c: Pick<CheckResult, 'id' | 'client'>): string {
  return `check-${slug(c.id)}${c.client ? `--${slug(c.client)}` : ''}`;
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '-');
}

/** `850 ms`, `12.3 s`, `2 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return formatSeconds(Math.round(ms / 1000));
}

const CSS = `
:root{--ok:#15803d;--bad:#b91c1c;--skip:#6b7280;--xf:#b45309;--warn:#a16207;--err:#7e22ce;--inc:#0369a1;--line:#e5e7eb;--bg:#fff;--fg:#111827;--muted:#4b5563}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header.summary{padding:20px 28px 14px;border-bottom:1px solid var(--line);background:#f8fafc}
h1{font-size:22px;margin:0 0 6px}
h2{font-size:18px;margin:28px 0 10px}
h3{font-size:15px;margin:6px 0}
h4{font-size:13px;margin:12px 0 6px;color:var(--muted)}
.subtitle{margin:0 0 8px;color:var(--muted)}
dl.facts .defects dd{color:var(--bad)}
dl.facts{display:flex;flex-wrap:wrap;gap:6px 28px;margin:6px 0 12px}
dl.facts div{display:flex;gap:6px}
dt{color:var(--muted)}dd{margin:0;font-weight:600}
.verdict{display:inline-block;margin:0 0 10px;padding:4px 12px;border-radius:4px;font-weight:700;color:#fff}
.verdict-passed .verdict,.verdict.verdict-passed{background:var(--ok)}
.verdict.verdict-failed{background:var(--bad)}.verdict.verdict-errored,.verdict.verdict-setup{background:var(--err)}
pre.setup-error{margin:0 0 10px;max-width:60rem}
ul.counts{list-style:none;display:flex;flex-wrap:wrap;gap:10px;padding:0;margin:0 0 10px}
.count{padding:6px 14px;border-radius:6px;border:1px solid var(--line);background:#fff;font-size:14px}
.count b{font-size:20px;margin-right:4px}
.count.passed b{color:var(--ok)}.count.failed b{color:var(--bad)}.count.skipped b{color:var(--skip)}.count.expected-failure b{color:var(--xf)}
.count.warning b{color:var(--warn)}.count.errored b{color:var(--err)}.count.inconclusive b{color:var(--inc)}
nav.toc{margin:6px 0;color:var(--muted)}nav.toc a{margin-right:8px}
.failure-list h2{font-size:15px;margin:10px 0 4px;color:var(--bad)}.failure-list ul{margin:0;padding-left:20px}
main{padding:0 28px 28px}
a{color:#1d4ed8;text-decoration:none}a:hover{text-decoration:underline}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
table.checks{border-collapse:collapse;width:100%;font-size:13px}
table.checks th{text-align:left;border-bottom:2px solid var(--line);padding:6px 8px;color:var(--muted);font-weight:600}
table.checks td{border-bottom:1px solid var(--line);padding:5px 8px;vertical-align:top}
table.checks tr.first td{border-top:1px solid #d1d5db}
td.check{width:30%}td.check .title{color:var(--muted)}
td.client{white-space:nowrap}.policy{color:var(--muted);font-size:12px}
td.clause{font-size:12.5px;color:var(--muted);max-width:34rem}
td.num,th.num{text-align:right;white-space:nowrap;color:var(--muted)}
.reason{color:var(--muted);font-size:12px;max-width:30rem}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px;white-space:nowrap}
.badge.passed{background:#dcfce7;color:var(--ok)}.badge.failed{background:#fee2e2;color:var(--bad)}
.badge.skipped{background:#f3f4f6;color:var(--skip)}.badge.expected-failure{background:#fef3c7;color:var(--xf)}
.badge.warning{background:#fef9c3;color:var(--warn)}.badge.errored{background:#f3e8ff;color:var(--err)}.badge.inconclusive{background:#e0f2fe;color:var(--inc)}
.level{display:inline-block;padding:0 5px;border-radius:3px;border:1px solid var(--line);font-size:11px;font-weight:600;color:var(--fg)}
tr.status-skipped td.client,tr.status-skipped td.clause{opacity:.6}
tr.detail td{background:#fff7f7;border-left:4px solid var(--bad)}
tr.detail.status-expected-failure td{background:#fffbeb;border-left-color:var(--xf)}
tr.detail.status-warning td{background:#fefce8;border-left-color:var(--warn)}tr.detail.status-errored td{background:#faf5ff;border-left-color:var(--err)}
.ref.seed,.ref.profile{background:#f3f4f6;border-radius:3px;padding:0 4px;color:#374151}
pre{margin:0;white-space:pre-wrap;word-break:break-all;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre.message{background:#fff;border:1px solid var(--line);padding:8px;border-radius:4px}
figure.exchange{margin:6px 0;border:1px solid var(--line);border-radius:4px;background:#fff}
figure.exchange figcaption{font-size:12px;color:var(--muted);padding:3px 8px;border-bottom:1px solid var(--line);background:#f9fafb}
figure.exchange pre{padding:6px 8px}
.req{color:#1e3a8a}.res{color:#065f46}.err{color:var(--bad);font-weight:600}
figure.exchange.cited{border:2px solid var(--bad)}figure.exchange.cited figcaption{color:var(--bad);font-weight:600}
.failure-list .expected-seen{font-size:12.5px;color:var(--fg);margin:1px 0 4px}.expected-seen .k{color:var(--muted);font-weight:600}
details.skipped-rows{margin:8px 0 0}details.skipped-rows>summary{cursor:pointer;color:var(--muted);font-size:13px;padding:4px 0}
section.timelines .hint{color:var(--muted);max-width:60rem}
ul.legend{list-style:none;display:flex;flex-wrap:wrap;gap:6px 18px;padding:0;margin:8px 0 14px;font-size:12.5px}
ul.legend li{display:flex;align-items:center;gap:6px}
figure.timeline{margin:0 0 22px;border:1px solid var(--line);border-radius:6px;padding:8px 10px;background:#fff}
figure.timeline figcaption{font-weight:600;margin-bottom:4px}
svg.timeline-svg{display:block;max-width:1100px}
footer{padding:14px 28px;color:var(--muted);font-size:12px;border-top:1px solid var(--line)}
@media print{header.summary{background:none}}
`;
