/**
 * Citations: where a rule is written down, as tokens both sides share. A check cites the rules it
 * enforces, a mock rule (rules.ts) the rules it implements, a profile the seed sections and
 * documentation pages it encodes; one table (SPECS, SEEDS) turns every token into text and links
 * (a documentation page is its own link), so reports never rebuild links from free text. Neutral ground: the mock and the suites both import this module. Pure.
 */

/** A published specification: its title, its page, and how a section number becomes an anchor there. */
export interface SpecInfo {
  title: string;
  url: string;
  /** The page's anchor for a section ("6", "10.10") or an appendix ("A.17"). */
  anchor(section: string): string;
}

const rfc = (n: number, title: string): SpecInfo => ({
  title: `RFC ${n}: ${title}`,
  url: `https://www.rfc-editor.org/rfc/rfc${n}`,
  anchor: (s) => (isAppendix(s) ? `appendix-${s}` : `section-${s}`),
});

/** OpenID specs: named anchors for the sections we cite, `rfc.section.N` for the rest. */
const openid = (page: string, title: string, named: Record<string, string>): SpecInfo => ({
  title,
  url: `https://openid.net/specs/${page}`,
  anchor: (s) => named[s] ?? (isAppendix(s) ? `rfc.appendix.${s}` : `rfc.section.${s}`),
});

/** A published advisory: one page, no sections. */
const advisory = (url: string, title: string): SpecInfo => ({ title, url, anchor: () => '' });

/** Every specification a check or mock rule may cite. To cite another one, add it here. */
export const SPECS = {
  'RFC 6749': rfc(6749, 'The OAuth 2.0 Authorization Framework'),
  'RFC 7009': rfc(7009, 'OAuth 2.0 Token Revocation'),
  'RFC 7662': rfc(7662, 'OAuth 2.0 Token Introspection'),
  'RFC 8414': rfc(8414, 'OAuth 2.0 Authorization Server Metadata'),
  'RFC 9111': rfc(9111, 'HTTP Caching'),
  'RFC 9449': rfc(9449, 'OAuth 2.0 Demonstrating Proof of Possession (DPoP)'),
  'RFC 9700': rfc(9700, 'Best Current Practice for OAuth 2.0 Security'),
  'OIDC Core': openid('openid-connect-core-1_0.html', 'OpenID Connect Core 1.0', {
    '3.1.2': 'AuthorizationEndpoint',
    '3.1.3.7': 'IDTokenValidation',
    '11': 'OfflineAccess',
    '12': 'RefreshTokens',
    '12.1': 'RefreshingAccessToken',
    '12.2': 'RefreshTokenResponse',
    '12.3': 'RefreshErrorResponse',
  }),
  'OpenID Connect Discovery 1.0': openid('openid-connect-discovery-1_0.html', 'OpenID Connect Discovery 1.0', { '3': 'ProviderMetadata', '4': 'ProviderConfig' }),
  'OpenID RP-Initiated Logout 1.0': openid('openid-connect-rpinitiated-1_0.html', 'OpenID Connect RP-Initiated Logout 1.0', { '2': 'RPLogout' }),
  'Keycloak GHSA-m2w5-7xhv-w6fh': advisory('https://github.com/advisories/GHSA-m2w5-7xhv-w6fh', 'Keycloak advisory: refresh token rotation is not atomic'),
} satisfies Record<string, SpecInfo>;
export type SpecId = keyof typeof SPECS;

/** Where the seed documents lie, from the repository root: not published, so cited by file name. */
export const SEEDS_DIR = '../shared/seeds/';

/** Titles of the seed documents the built-in profiles encode; a profile may cite other files of its `source`. */
export const SEEDS: Readonly<Record<string, string>> = {
  '000_a8c14fb60ecbbef3.txt': 'TelenorID+ Token Refresh (Markdown)',
  '001_961c0881c3e61eb8.txt': 'TelenorID+ Token Refresh (plain text)',
  '002_e32d96fc439dbedc.txt': 'ERP.net Identity: Refresh Tokens in Interactive Apps',
  '003_d07411a435973c03.txt': 'Auth0: What are refresh tokens and how to use them securely',
};

/**
 * One place a rule is written: a section of a spec (section "6", "10.10", "A.17"; none for an
 * advisory), a section (heading) of a seed document, a page of a vendor's public documentation
 * (an https URL, optionally with its section heading), or a field of the profile (a provider's
 * documented choice, or a choice the profile's notes explain). `note` is a short gloss or a quote.
 */
export type Citation =
  | { spec: SpecId; section?: string; note?: string }
  | { seed: string; section: string; note?: string }
  | { doc: string; section?: string; note?: string }
  | { profileField: string; value?: string | number | boolean; note?: string };

export const cite = {
  spec: (spec: SpecId, section?: string, note?: string): Citation => ({ spec, ...(section !== undefined && { section }), ...(note !== undefined && { note }) }),
  seed: (seed: string, section: string, note?: string): Citation => ({ seed, section, ...(note !== undefined && { note }) }),
  doc: (doc: string, section?: string, note?: string): Citation => ({ doc, ...(section !== undefined && { section }), ...(note !== undefined && { note }) }),
  field: (profileField: string, value?: string | number | boolean, note?: string): Citation => ({
    profileField,
    ...(value !== undefined && { value }),
    ...(note !== undefined && { note }),
  }),
};

function isAppendix(section: string): boolean {
  return /^[A-Z](\.\d+)*$/.test(section);
}

/** The document a citation points into (spec id, seed file, documentation page, or "profile"), for collapsing. */
function documentOf(c: Citation): string {
  return 'spec' in c ? `spec:${c.spec}` : 'seed' in c ? `seed:${c.seed}` : 'doc' in c ? `doc:${c.doc}` : 'profile';
}

/** The head of a citation's text: the spec id, the seed file, the page's URL, or "profile". */
function headOf(c: Citation): string {
  return 'spec' in c ? c.spec : 'seed' in c ? c.seed : 'doc' in c ? c.doc : 'profile';
}

/** A key naming the rule a citation points at, notes and values aside (for de-duplicating). */
export function citationKey(c: Citation): string {
  return JSON.stringify('profileField' in c ? ['profile', c.profileField] : [documentOf(c), c.section ?? null]);
}

/** A documentation URL as the profile's `source` lists it: without its fragment (`#anchor`). */
export function docPage(url: string): string {
  const hash = url.indexOf('#');
  return hash === -1 ? url : url.slice(0, hash);
}

/** "§6", "Appendix A.17", "§TelenorID+ Refresh policies". */
function sectionText(c: Citation): string {
  if ('profileField' in c) return `${c.profileField}${c.value !== undefined ? `=${c.value}` : ''}`;
  if (c.section === undefined) return '';
  return 'spec' in c && isAppendix(c.section) ? `Appendix ${c.section}` : `§${c.section}`;
}

function withNote(text: string, c: Citation): string {
  return c.note !== undefined ? `${text} (${c.note})` : text;
}

/**
 * One citation alone as text: `RFC 6749 §6 (note)`, `000_….txt §Section`,
 * `https://www.keycloak.org/docs/latest/server_admin/ §Session and token timeouts`, `profile policies.Mobile.rotation=true`.
 */
export function renderCitation(c: Citation): string {
  const head = headOf(c);
  const section = sectionText(c);
  return withNote(section ? `${head} ${section}` : head, c);
}

/**
 * Citations as one line of text (terminal, JUnit, report.json's `clause`): `; ` between documents,
 * and consecutive sections of one spec or seed collapsed: `RFC 6749 §10.10, Appendix A.17`.
 */
export function renderCitations(citations: readonly Citation[]): string {
  const parts: string[] = [];
  let previous: string | undefined;
  for (const c of citations) {
    const doc = documentOf(c);
    if (doc === previous && doc !== 'profile' && sectionText(c)) parts[parts.length - 1] += `, ${withNote(sectionText(c), c)}`;
    else parts.push(renderCitation(c));
    previous = doc;
  }
  return parts.join('; ');
}

/** A citation as the HTML report shows it: its text, its link (none for seeds and profile fields), a tooltip. */
export interface CitationLink {
  kind: 'spec' | 'seed' | 'doc' | 'profile';
  /** `RFC 6749 §6`, without the note. */
  text: string;
  note?: string;
  href?: string;
  title: string;
}

export function citationLink(c: Citation): CitationLink {
  const note = c.note !== undefined ? { note: c.note } : {};
  if ('spec' in c) {
    const spec = SPECS[c.spec];
    const anchor = c.section !== undefined ? spec.anchor(c.section) : '';
    const text = c.section !== undefined ? `${c.spec} ${sectionText(c)}` : c.spec;
    return { kind: 'spec', text, ...note, href: anchor ? `${spec.url}#${anchor}` : spec.url, title: spec.title };
  }
  if ('seed' in c) {
    const title = SEEDS[c.seed];
    return { kind: 'seed', text: `${c.seed} ${sectionText(c)}`, ...note, title: `${title ? `${title}: ` : ''}a seed document (${SEEDS_DIR}${c.seed}), not published` };
  }
  if ('doc' in c) {
    const text = c.section !== undefined ? `${c.doc} ${sectionText(c)}` : c.doc;
    return { kind: 'doc', text, ...note, href: c.doc, title: `public documentation at ${new URL(c.doc).host}` };
  }
  return { kind: 'profile', text: `profile ${sectionText(c)}`, ...note, title: `a field of the profile (fixtures/profiles/*.json); its notes give the reason for a choice` };
}

export function citationLinks(citations: readonly Citation[]): CitationLink[] {
  return citations.map(citationLink);
}

/** Two citations name the same rule: the same spec section, seed section, or profile field (`*` matches one path segment). */
export function sameToken(a: Citation, b: Citation): boolean {
  if ('spec' in a && 'spec' in b) return a.spec === b.spec && a.section === b.section;
  if ('seed' in a && 'seed' in b) return a.seed === b.seed && a.section === b.section;
  if ('doc' in a && 'doc' in b) return a.doc === b.doc && a.section === b.section;
  if ('profileField' in a && 'profileField' in b) return fieldMatches(a.profileField, b.profileField);
  return false;
}

function fieldMatches(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  return x.length === y.length && x.every((s, i) => s === y[i] || s === '*' || y[i] === '*');
}

// ---------------------------------------------------------------------------------------------
// Parsing the text form (profile files write citations as text)

export class CitationSyntaxError extends Error {
  override readonly name = 'CitationSyntaxError';
}

const SPEC_IDS = (Object.keys(SPECS) as SpecId[]).sort((a, b) => b.length - a.length);
const SECTION = /^(?:§(?<sec>\d+(?:\.\d+)*)|Appendix (?<app>[A-Z](?:\.\d+)*))(?: \((?<note>.*)\))?$/s;
const SEED_PART = /^(?<file>[\w.-]+\.(?:txt|md)) (?<rest>§.*)$/s;
const SEED_SECTION = /^§(?<section>[^()]*[^()\s])(?: \((?<note>.*)\))?$/s;
/** A documentation page: an https URL up to the first space, then an optional `§Heading` and `(note)`. */
const DOC_PART = /^(?<url>https:\/\/\S+)(?: (?<rest>.*))?$/s;
const DOC_REST = /^(?:§(?<section>[^()]*[^()\s]))?(?: ?\((?<note>.*)\))?$/s;
const PROFILE_PART = /^profile (?<field>[A-Za-z*][\w*]*(?:\.[\w*]+)*)(?:=(?<value>[^\s()]+))?(?: \((?<note>.*)\))?$/s;

/** Splits at `sep` outside parentheses and quotes. */
function splitTop(text: string, at: (rest: string) => number): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0) {
      const skip = at(text.slice(i));
      if (skip > 0) {
        out.push(text.slice(start, i));
        start = i + skip;
        i = start - 1;
      }
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim());
}

/**
 * The text form back into citations, strictly: `RFC 6749 §6, §10.4; 000_….txt §Heading (note);
 * §Other heading; profile reuseOfRotatedToken (note)`. A part that starts with `§` continues the
 * document before it. Throws CitationSyntaxError naming the part it cannot read.
 */
export function parseCitations(text: string): Citation[] {
  const out: Citation[] = [];
  let previous: Citation | undefined;
  const parts = splitTop(text, (rest) => (rest.startsWith(';') ? 1 : 0));
  for (const part of parts) {
    if (part === '') throw new CitationSyntaxError(`empty citation in "${text}"`);
    const pieces = splitTop(part, (rest) => (/^, (?:§|Appendix )/.test(rest) ? 2 : 0));
    for (const piece of pieces) {
      const c = parsePiece(piece, previous);
      out.push(c);
      previous = c;
    }
  }
  return out;
}

function parsePiece(piece: string, previous: Citation | undefined): Citation {
  const profile = PROFILE_PART.exec(piece);
  if (profile) return cite.field(profile.groups!.field!, profile.groups!.value, profile.groups!.note);
  const seed = SEED_PART.exec(piece);
  if (seed) return seedSection(seed.groups!.file!, seed.groups!.rest!, piece);
  const doc = DOC_PART.exec(piece);
  if (doc) return docSection(doc.groups!.url!, doc.groups!.rest ?? '', piece);
  const spec = SPEC_IDS.find((id) => piece === id || piece.startsWith(`${id} `));
  if (spec) {
    const rest = piece.slice(spec.length).trim();
    if (rest === '') return cite.spec(spec);
    return specSection(spec, rest, piece);
  }
  if (piece.startsWith('§') || piece.startsWith('Appendix ')) {
    if (previous && 'spec' in previous) return specSection(previous.spec, piece, piece);
    if (previous && 'seed' in previous) return seedSection(previous.seed, piece, piece);
    if (previous && 'doc' in previous && piece.startsWith('§')) return docSection(previous.doc, piece, piece);
    throw new CitationSyntaxError(`"${piece}": a section with no spec, seed file or documentation page before it`);
  }
  throw new CitationSyntaxError(
    `"${piece}": not a citation; write "<spec> §<section>" (specs: ${Object.keys(SPECS).join(', ')}), "<seed file>.txt §<heading>", "<https URL> §<heading>" or "profile <field>"`,
  );
}

function specSection(spec: SpecId, rest: string, piece: string): Citation {
  const m = SECTION.exec(rest);
  if (!m) throw new CitationSyntaxError(`"${piece}": expected "§<number>" or "Appendix <letter>" after ${spec}`);
  return cite.spec(spec, m.groups!.sec ?? m.groups!.app, m.groups!.note);
}

function docSection(url: string, rest: string, piece: string): Citation {
  if (!URL.canParse(url)) throw new CitationSyntaxError(`"${piece}": ${url} is not a URL`);
  const m = DOC_REST.exec(rest);
  if (!m || (rest !== '' && m.groups!.section === undefined && m.groups!.note === undefined)) {
    throw new CitationSyntaxError(`"${piece}": expected "§<heading>" and/or "(note)" after ${url}`);
  }
  return cite.doc(url, m.groups!.section, m.groups!.note);
}

function seedSection(file: string, rest: string, piece: string): Citation {
  const m = SEED_SECTION.exec(rest);
  if (!m) throw new CitationSyntaxError(`"${piece}": expected "§<heading>" (and an optional "(note)") after ${file}`);
  return cite.seed(file, m.groups!.section!, m.groups!.note);
}
