/**
 * Draws a client's token timelines as one inline SVG: a block per check, a lane per refresh token.
 *
 * A lane's bar runs from the token's issue to its declared end: teal for sliding expiry (an open end
 * that a renewal pushes on, so a chain of refreshes climbs to the right), orange for fixed expiry
 * (every token of the login ends at one wall, drawn dashed). Markers: login ●, refresh without a new
 * token ○, rotation ◆ with an arrow to the new token's lane, revocation ■, a rejection ✕ with its error
 * code, and logout on the block's session row, its line running through the lanes. Events closer than
 * a few pixels are spread apart in the order they happened. The axis is the target's clock, in seconds
 * since each check started, shared by every block of the client; it is broken where nothing happens for
 * long (a 90-day wait), so events seconds or minutes apart stay apart on lifetimes of days. A mark where
 * the check expected something else is ringed and labelled. Pure: data in, SVG text out.
 */
import { escapeXmlAttribute as esc } from './junit.ts';
import { formatSeconds, timelineLanes, type Lane, type LaneEvent, type TimelineRecord } from './timeline.ts';

export interface TimelineBlock {
  /** The check id (block title). */
  check: string;
  status: string;
  /** Link target of the block title (the check's row in the report). */
  href?: string;
  timeline: readonly TimelineRecord[];
}

const W = 1150;
const LABEL_W = 250;
const X0 = LABEL_W + 16;
const X1 = W - 130;
/** Tick labels on the first row, the breaks' skipped times on the second. */
const AXIS_H = 40;
const HEAD_H = 22;
const LANE_H = 22;
const SESSION_H = 18;
const GAP = 12;
/** Least distance between two events of a block, in pixels. */
const SPREAD = 9;

const C = {
  sliding: { stroke: '#0f766e', fill: '#99f6e4' },
  fixed: { stroke: '#c2410c', fill: '#fed7aa' },
  unknown: { stroke: '#6b7280', fill: '#e5e7eb' },
  login: '#1d4ed8',
  rotation: '#7c3aed',
  rejected: '#dc2626',
  revocation: '#111827',
  logout: '#be185d',
  grid: '#e5e7eb',
  band: '#f8fafc',
  text: '#111827',
  muted: '#4b5563',
  status: {
    passed: '#15803d',
    failed: '#b91c1c',
    warning: '#a16207',
    errored: '#7e22ce',
    skipped: '#6b7280',
    inconclusive: '#0369a1',
    'expected-failure': '#b45309',
  } as Record<string, string>,
};

/** Tick steps the axis may use, in seconds. */
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2592000, 7776000, 15552000, 31536000];

type Scale = (t: number) => number;

export function timelineSvg(blocks: readonly TimelineBlock[], options: { title: string }): string {
  const drawn = blocks
    .map((b) => ({ block: b, model: timelineLanes(b.timeline) }))
    .filter((d) => d.model.lanes.length > 0 || d.model.session.length > 0);
  const axis = brokenAxis(drawn.flatMap((d) => timesOf(d.model.lanes, d.model.session)));
  const x = axis.x;

  const body: string[] = [];
  let y = AXIS_H;
  for (const { block, model } of drawn) {
    const { svg, height } = drawBlock(block, model.lanes, model.session, y, x);
    body.push(svg);
    y += height + GAP;
  }
  if (drawn.length === 0) {
    body.push(`<text x="${X0}" y="${y + 16}" font-size="13" fill="${C.muted}">No token events recorded: every check of this client was skipped or logged no user in.</text>`);
    y += 28;
  }
  const height = y + 2;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline-svg" viewBox="0 0 ${W} ${height}" width="100%" role="img" aria-label="${esc(options.title)}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">`,
    `<title>${esc(options.title)}</title>`,
    `<defs><marker id="tl-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${C.rotation}"/></marker></defs>`,
    drawAxis(axis, height),
    ...body,
    '</svg>',
  ].join('\n');
}

/** Every time a block draws something at: events, issues and declared ends (so a bar's end is on the axis). */
function timesOf(lanes: readonly Lane[], session: readonly LaneEvent[]): number[] {
  return [...lanes.flatMap((l) => [l.issuedAt, ...l.expiries, ...l.events.map((e) => e.at)]), ...session.map((e) => e.at)];
}

/** A stretch of the axis drawn to scale: times `from`..`to` at pixels `x0`..`x1`. */
export interface AxisSegment {
  from: number;
  to: number;
  x0: number;
  x1: number;
}

export interface Axis {
  x: Scale;
  /** In order; between two segments the axis is broken (the time between them is not to scale). */
  segments: AxisSegment[];
}

/** Width of a break in the axis, and the least width of a stretch drawn to scale, in pixels. */
const BREAK_W = 34;
const MIN_SEGMENT_W = 70;
/** Inner margin of a segment, so marks at its first and last time sit inside it. */
const PAD = 10;

/**
 * The time axis: to scale where things happen, broken where nothing does for long. Times are grouped
 * into stretches wherever the gap to the next is short (at most ten times the typical gap, or a minute);
 * each longer gap becomes a fixed-width break labelled with the time it skips. Without long gaps it is
 * one linear axis, as before. Pure.
 */
export function brokenAxis(times: readonly number[], left = X0, right = X1): Axis {
  const ts = [...new Set([0, ...times.filter((t) => Number.isFinite(t)).map((t) => Math.max(0, t))])].sort((a, b) => a - b);
  // Long: ten times the typical (lower median) gap, and over a minute, so seconds-apart retries and an even
  // chain of refreshes stay to scale; only a wait that dwarfs what happens around it is broken.
  const gaps = ts.slice(1).map((t, i) => t - ts[i]!).sort((a, b) => a - b);
  const typical = gaps.length ? gaps[Math.floor((gaps.length - 1) / 2)]! : 0;
  const longGap = Math.max(60, 10 * typical);
  const groups: Array<[number, number]> = [];
  for (const t of ts) {
    const last = groups.at(-1);
    if (last && t - last[1] <= longGap) last[1] = t;
    else groups.push([t, t]);
  }
  if (groups.length === 1 && groups[0]![1] === groups[0]![0]) groups[0]![1] = groups[0]![0] + 60; // nothing happened: a minute
  const usable = right - left - (groups.length - 1) * BREAK_W;
  const total = groups.reduce((sum, [a, b]) => sum + (b - a), 0);
  const free = Math.max(0, usable - groups.length * MIN_SEGMENT_W);
  const segments: AxisSegment[] = [];
  let at = left;
  for (const [from, to] of groups) {
    const w = MIN_SEGMENT_W + (total > 0 ? (free * (to - from)) / total : free / groups.length);
    segments.push({ from, to, x0: at, x1: at + w });
    at += w + BREAK_W;
  }
  const inside = (s: AxisSegment, t: number) => (s.to === s.from ? s.x0 + PAD : s.x0 + PAD + ((t - s.from) / (s.to - s.from)) * (s.x1 - s.x0 - 2 * PAD));
  const x: Scale = (raw) => {
    const t = Math.max(0, raw);
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i]!;
      if (t <= s.to) {
        if (t >= s.from || i === 0) return inside(s, Math.max(t, s.from));
        // In a break: across it, in proportion to the time it skips.
        const prev = segments[i - 1]!;
        const end = inside(prev, prev.to);
        return end + ((t - prev.to) / (s.from - prev.to)) * (inside(s, s.from) - end);
      }
    }
    return inside(segments.at(-1)!, segments.at(-1)!.to);
  };
  return { x, segments };
}

function drawAxis(axis: Axis, height: number): string {
  const out: string[] = [`<g class="axis" font-size="11" fill="${C.muted}">`];
  out.push(`<text x="${LABEL_W}" y="15" text-anchor="end">target clock →</text>`);
  const tick = (t: number, anchor = 'middle') => {
    const px = axis.x(t).toFixed(1);
    out.push(`<line x1="${px}" y1="${AXIS_H - 8}" x2="${px}" y2="${height - 2}" stroke="${C.grid}"/>`);
    out.push(`<text x="${px}" y="15" text-anchor="${anchor}">${esc(t === 0 ? '0' : formatSeconds(t))}</text>`);
  };
  axis.segments.forEach((s, i) => {
    const width = s.x1 - s.x0;
    // Ticks at round times inside a wide stretch; its ends where it is narrow.
    const step = STEPS.find((st) => (s.to - s.from) / st <= Math.max(1, Math.floor(width / 90))) ?? STEPS.at(-1)!;
    const first = Math.ceil(s.from / step) * step;
    const ticks = s.to > s.from && width >= 180 ? Array.from({ length: Math.floor((s.to - first) / step + 1e-9) + 1 }, (_, k) => first + k * step) : [s.from];
    for (const t of ticks) tick(t, ticks.length === 1 && i > 0 ? 'start' : 'middle');
    const next = axis.segments[i + 1];
    if (next) {
      // The break: two slashes through the axis, and how much time it skips.
      const bx = (s.x1 + next.x0) / 2;
      out.push(
        `<g class="axis-break" data-skips="${next.from - s.to}"><path d="M${(bx - 6).toFixed(1)},${AXIS_H + 2} l6,-9 M${bx.toFixed(1)},${AXIS_H + 2} l6,-9" stroke="${C.muted}" stroke-width="1.5"/>` +
          `<line x1="${bx.toFixed(1)}" y1="${AXIS_H}" x2="${bx.toFixed(1)}" y2="${height - 2}" stroke="${C.muted}" stroke-width="1" stroke-dasharray="1 4"/>` +
          `<text x="${bx.toFixed(1)}" y="${AXIS_H - 12}" font-size="9.5" text-anchor="middle" font-weight="600">+${esc(formatSeconds(next.from - s.to))}</text></g>`,
      );
    }
  });
  out.push('</g>');
  return out.join('\n');
}

function drawBlock(block: TimelineBlock, tokenLanes: Lane[], session: LaneEvent[], top: number, x: Scale): { svg: string; height: number } {
  const lanes = tokenLanes.length ? tokenLanes : [{ id: '', issuedAt: 0, issuedSeq: -1, issued: false, expiries: [], events: [] } satisfies Lane];
  const pos = positions(lanes, session, x);
  const out: string[] = [`<g class="timeline-block" data-check="${esc(block.check)}" data-status="${esc(block.status)}">`];

  const head =
    `<text x="6" y="${top + 15}" font-size="12.5"><tspan font-weight="600" fill="${C.text}">${esc(block.check)}</tspan>` +
    `<tspan dx="8" font-weight="600" fill="${C.status[block.status] ?? C.muted}">${esc(block.status)}</tspan></text>`;
  out.push(block.href ? `<a href="${esc(block.href)}">${head}</a>` : head);

  const sessionTop = top + HEAD_H;
  const laneTop = sessionTop + (session.length ? SESSION_H : 0);
  const bottom = laneTop + lanes.length * LANE_H;
  out.push(`<rect x="${X0 - 8}" y="${sessionTop - 2}" width="${W - X0 + 4}" height="${bottom - sessionTop + 2}" fill="${C.band}" rx="3"/>`);
  const yOf = new Map(lanes.map((l, i) => [l.id, laneTop + i * LANE_H + LANE_H / 2]));

  // Fixed expiry: the tokens of a login end at one wall.
  for (const end of new Set(lanes.filter((l) => l.expiry === 'fixed' && l.expiries.length).map((l) => l.expiries.at(-1)!))) {
    const px = x(end).toFixed(1);
    out.push(`<line x1="${px}" y1="${laneTop - 2}" x2="${px}" y2="${bottom}" stroke="${C.fixed.stroke}" stroke-width="1.5" stroke-dasharray="4 3"><title>${esc(`fixed end at ${formatSeconds(end)}`)}</title></line>`);
  }

  lanes.forEach((lane) => {
    const cy = yOf.get(lane.id)!;
    out.push(laneLabel(lane, cy, lanes));
    if (lane.id !== '') out.push(bar(lane, cy, x, pos));
  });

  if (session.length) {
    const cy = sessionTop + SESSION_H / 2;
    out.push(`<text x="${LABEL_W}" y="${cy + 4}" text-anchor="end" font-size="11" fill="${C.muted}">SSO session</text>`);
    for (const e of session) {
      const px = pos.get(e.seq)!.toFixed(1);
      out.push(
        `<g class="ev ev-${e.kind}"><title>${esc(e.text)}</title>` +
          `<line x1="${px}" y1="${sessionTop}" x2="${px}" y2="${bottom + 2}" stroke="${C.logout}" stroke-width="2" stroke-dasharray="5 3"/>` +
          `<text x="${(Number(px) + 5).toFixed(1)}" y="${cy + 4}" font-size="11" font-weight="600" fill="${C.logout}">${esc(e.label ?? e.kind)}</text></g>`,
      );
    }
  }

  for (const lane of lanes) {
    const cy = yOf.get(lane.id)!;
    lane.events.forEach((e, i) => {
      const px = pos.get(e.seq)!;
      const next = lane.events[i + 1];
      const room = next ? pos.get(next.seq)! - px : Infinity;
      out.push(event(e, px, cy, yOf, room, runLength(lane.events, i)));
    });
  }
  out.push('</g>');
  return { svg: out.join('\n'), height: bottom - top };
}

/** Each event's x: its time, but at least SPREAD pixels after the block's previous event. */
function positions(lanes: Lane[], session: LaneEvent[], x: Scale): Map<number, number> {
  const all = [...lanes.flatMap((l) => l.events), ...session].sort((a, b) => a.seq - b.seq);
  const pos = new Map<number, number>();
  let prev = -Infinity;
  for (const e of all) {
    if (pos.has(e.seq)) continue; // a rotation sits on two lanes
    const px = Math.max(x(e.at), prev + SPREAD);
    pos.set(e.seq, px);
    prev = px;
  }
  return pos;
}

/** Events of one kind at one instant just before index i, i included (for "7× invalid_grant"). */
function runLength(events: LaneEvent[], i: number): number {
  let n = 1;
  for (let j = i - 1; j >= 0 && events[j]!.kind === events[i]!.kind && events[j]!.at === events[i]!.at; j--) n++;
  return n;
}

function laneLabel(lane: Lane, cy: number, lanes: Lane[]): string {
  if (lane.id === '') return `<text x="${LABEL_W}" y="${cy + 4}" text-anchor="end" font-size="11" fill="${C.muted}">no refresh token</text>`;
  const end = lane.expiries.at(-1);
  const before = lane.from !== undefined ? lanes.find((l) => l.id === lane.from)?.expiries.at(-1) : undefined;
  // Against the token it replaced: a sliding end moves on, a fixed one stays.
  const moved =
    end === undefined || before === undefined
      ? ''
      : end === before
        ? lane.expiry === 'fixed'
          ? ' (same end)'
          : ''
        : ` (${end > before ? '+' : '−'}${formatSeconds(Math.abs(end - before))})`;
  const what = !lane.issued ? 'not issued here' : end === undefined ? 'no declared end' : `ends ${formatSeconds(end)}${moved}${lane.expiries.length > 1 ? ', renewed' : ''}`;
  return (
    `<text x="${LABEL_W}" y="${cy + 4}" text-anchor="end" font-size="11" fill="${C.text}">` +
    `<tspan font-family="ui-monospace, SFMono-Regular, Menlo, monospace">#${esc(lane.id)}</tspan>` +
    `<tspan dx="6" fill="${C.muted}">${esc(what)}</tspan></text>`
  );
}

function bar(lane: Lane, cy: number, x: Scale, pos: Map<number, number>): string {
  if (!lane.issued) return '';
  const end = lane.expiries.at(-1);
  const c = lane.expiry ? C[lane.expiry] : C.unknown;
  const x0 = pos.get(lane.issuedSeq) ?? x(lane.issuedAt);
  const tip = `rt#${lane.id}: issued at ${formatSeconds(lane.issuedAt)}${end !== undefined ? `, declared end ${formatSeconds(end)} (${lane.expiry ?? 'unknown'} expiry)` : ', no declared end'}`;
  const out: string[] = [`<g class="bar bar-${lane.expiry ?? 'unknown'}" data-token="${esc(lane.id)}"><title>${esc(tip)}</title>`];
  if (end !== undefined) {
    const x1 = Math.max(x(end), x0 + 3);
    out.push(`<rect x="${x0.toFixed(1)}" y="${cy - 5}" width="${(x1 - x0).toFixed(1)}" height="10" rx="2" fill="${c.fill}" stroke="${c.stroke}"/>`);
    for (const old of lane.expiries.slice(0, -1)) {
      const px = x(old).toFixed(1); // an earlier end of a renewed token
      out.push(`<line x1="${px}" y1="${cy - 8}" x2="${px}" y2="${cy + 8}" stroke="${c.stroke}" stroke-dasharray="2 2"/>`);
    }
    out.push(
      lane.expiry === 'fixed'
        ? `<line x1="${x1.toFixed(1)}" y1="${cy - 8}" x2="${x1.toFixed(1)}" y2="${cy + 8}" stroke="${c.stroke}" stroke-width="3"/>`
        : `<path d="M${x1.toFixed(1)},${cy - 7} l7,7 l-7,7" fill="none" stroke="${c.stroke}" stroke-width="2"/>`,
    );
  } else {
    out.push(`<line x1="${x0.toFixed(1)}" y1="${cy}" x2="${X1}" y2="${cy}" stroke="${c.stroke}" stroke-width="1.5" stroke-dasharray="1 3"/>`);
  }
  out.push(`<line x1="${x0.toFixed(1)}" y1="${cy - 8}" x2="${x0.toFixed(1)}" y2="${cy + 8}" stroke="${c.stroke}" stroke-width="2"/></g>`);
  return out.join('');
}

/** One marker; `room` is the distance to the lane's next marker, so a text only goes where it fits. */
function event(e: LaneEvent, px: number, cy: number, yOf: Map<string, number>, room: number, run: number): string {
  const p = px.toFixed(1);
  const parts: string[] = [`<g class="ev ev-${e.kind}"><title>${esc(e.text)}</title>`];
  const label = (text: string, color: string) => {
    if (room < text.length * 6.2 + 14) return;
    parts.push(`<text x="${(px + 9).toFixed(1)}" y="${cy + 4}" font-size="10.5" font-weight="600" fill="${color}" paint-order="stroke" stroke="#fff" stroke-width="3">${esc(text)}</text>`);
  };
  switch (e.kind) {
    case 'login':
      parts.push(`<circle cx="${p}" cy="${cy}" r="5" fill="${C.login}" stroke="#fff"/>`);
      break;
    case 'refresh':
      parts.push(`<circle cx="${p}" cy="${cy}" r="4.5" fill="#fff" stroke="${C.login}" stroke-width="2"/>`);
      break;
    case 'rotation': {
      const ty = e.to !== undefined ? yOf.get(e.to) : undefined;
      if (ty !== undefined && ty !== cy) {
        const dir = ty > cy ? 1 : -1;
        parts.push(`<line x1="${p}" y1="${cy + dir * 6}" x2="${p}" y2="${ty - dir * 6}" stroke="${C.rotation}" stroke-width="1.5" marker-end="url(#tl-arrow)"/>`);
      }
      parts.push(`<path d="M${p},${cy - 6} l6,6 l-6,6 l-6,-6 z" fill="${C.rotation}" stroke="#fff"/>`);
      break;
    }
    case 'rejected':
      parts.push(`<path d="M${(px - 5).toFixed(1)},${cy - 5} l10,10 M${(px + 5).toFixed(1)},${cy - 5} l-10,10" stroke="${C.rejected}" stroke-width="3" stroke-linecap="round"/>`);
      label(`${run > 1 ? `${run}× ` : ''}${e.error ?? (e.status !== undefined ? `HTTP ${e.status}` : 'rejected')}`, C.rejected);
      break;
    case 'revocation':
      parts.push(`<rect x="${(px - 4.5).toFixed(1)}" y="${cy - 4.5}" width="9" height="9" fill="${C.revocation}"/>`);
      label('revoked', C.revocation);
      break;
    default:
      parts.push(`<circle cx="${p}" cy="${cy}" r="3" fill="${C.muted}"/>`);
  }
  // The check expected something else here (a rejection that did not come, say): ring it.
  // Labelled where it is, not only in the tooltip: this is where the check's verdict came from.
  if (e.noted && e.noted !== e.kind) {
    parts[0] = `<g class="ev ev-${e.kind} mismatch" data-expected="${esc(e.noted)}"><title>${esc(e.text)}</title>`;
    parts.push(`<circle cx="${p}" cy="${cy}" r="9" fill="none" stroke="${C.rejected}" stroke-width="1.5" stroke-dasharray="3 2"/>`);
    parts.push(
      `<text class="mismatch-label" x="${(px + 12).toFixed(1)}" y="${cy + 4}" font-size="10.5" font-weight="700" fill="${C.rejected}" paint-order="stroke" stroke="#fff" stroke-width="3">✗ expected ${esc(e.noted)}</text>`,
    );
  }
  parts.push('</g>');
  return parts.join('');
}
