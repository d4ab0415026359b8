/**
 * report.html in a real browser (headless Chromium from Debian's `chromium` package): reports generated
 * from real in-process runs against the embedded mock, one correct and one with the no-rotation defect,
 * opened from file:// with the network off. Screenshots go to reports/screenshots/ for a person to look at.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, DEFAULT_CHROMIUM } from './drivers/index.ts';
import { writeHtmlReport, type HtmlReport } from './report/html.ts';
import { buildReport } from './report/json.ts';
import { loadTarget, type Target } from './target.ts';
import { runCatalogue } from '../runner/pipeline.ts';
import type { Defect } from '../../mock-idp/index.ts';
import type { Group } from '../checks/types.ts';

const SCREENSHOTS = path.resolve('reports/screenshots');

let dir: string;
let profileDir: string;
let context: BrowserContext;
let target: Target;
const reports: Record<'ok' | 'defect' | 'logout', { file: string; report: HtmlReport }> = {} as never;

async function runReport(defects: Defect[], file: string, groups?: Group[]): Promise<{ file: string; report: HtmlReport }> {
  const started = new Date();
  const { results } = await runCatalogue(target, { defects, ...(groups && { groups }) });
  const built = buildReport({ target: target.name, profile: target.profile.name, startedAt: started, durationMs: Date.now() - started.getTime(), checks: results });
  const report: HtmlReport = { ...built, checks: built.checks.map((c, i) => ({ ...c, timeline: results[i]!.timeline })) };
  await writeHtmlReport(file, report, { profile: target.profile, generator: 'report-browser.test.ts' });
  return { file, report };
}

beforeAll(async () => {
  if (!existsSync(DEFAULT_CHROMIUM)) {
    throw new Error(`Chromium not found at ${DEFAULT_CHROMIUM}: install Debian's chromium package (apt-get install chromium); CI does it in .ci/run`);
  }
  const base = await loadTarget('fixtures/targets/mock.json');
  target = { ...base, embedded: { transport: 'direct' } } as Target;
  dir = await mkdtemp(path.join(tmpdir(), 'report-html-'));
  reports.ok = await runReport([], path.join(dir, 'ok', 'report.html'));
  reports.defect = await runReport(['no-rotation'], path.join(dir, 'defect', 'report.html'));
  reports.logout = await runReport(['ignores-sso-logout', 'old-token-still-valid'], path.join(dir, 'logout', 'report.html'), ['rotation', 'sso']);
  profileDir = await mkdtemp(path.join(tmpdir(), 'report-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: DEFAULT_CHROMIUM,
    headless: true,
    args: ['--headless', ...CHROMIUM_ARGS],
    viewport: { width: 1280, height: 900 },
    offline: true,
  });
  context.setDefaultTimeout(5_000);
  await mkdir(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Opens a report; every request the page makes is collected (a self-contained page makes none but itself). */
async function open(which: 'ok' | 'defect' | 'logout'): Promise<{ page: Page; requests: string[] }> {
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(reports[which].file).href);
  return { page, requests };
}

describe('report.html in Chromium', () => {
  it('renders the summary, the groups and a timeline for every client (correct mock)', { timeout: 30_000 }, async () => {
    const { page, requests } = await open('ok');
    try {
      const { report } = reports.ok;
      expect(report.summary.failed).toBe(0);
      for (const [status, n] of [
        ['passed', report.summary.passed],
        ['failed', 0],
        ['skipped', report.summary.skipped],
      ] as const) {
        await expect.poll(() => page.locator(`li.count.${status} b`).textContent()).toBe(String(n));
      }
      expect(report.summary.passed).toBeGreaterThan(50);
      expect(await page.locator('.verdict').textContent()).toBe('All applicable checks passed');
      for (const group of ['offline-access', 'rotation', 'expiry', 'sso', 'token-endpoint']) {
        expect(await page.locator(`section#group-${group} h2`).isVisible()).toBe(true);
      }
      const clients = [...new Set(report.checks.map((c) => c.client))];
      expect(clients.length).toBeGreaterThanOrEqual(5);
      for (const client of clients) {
        const svg = page.locator(`figure.timeline[data-client="${client}"] svg.timeline-svg`);
        expect(await svg.isVisible(), `timeline of ${client}`).toBe(true);
        expect((await svg.boundingBox())!.height).toBeGreaterThan(60);
      }
      // Sliding and fixed are drawn differently: the Mobile/PublicWeb bars slide, the Confidential ones hit a wall.
      expect(await page.locator('figure.timeline[data-client="public-web"] .bar-sliding').count()).toBeGreaterThan(10);
      expect(await page.locator('figure.timeline[data-client="confidential"] .bar-fixed').count()).toBeGreaterThan(10);
      expect(await page.locator('figure.timeline[data-client="confidential"] .bar-sliding').count()).toBe(0);
      expect(await page.locator('figure.timeline[data-client="no-refresh"] .bar').count()).toBe(0);
      // The sliding chain climbs: each rotated token ends later than the one before.
      const chain = page.locator('figure.timeline[data-client="public-web"] g.timeline-block[data-check="expiry.sliding-chain-outlives-lifetime"] .bar rect');
      const ends = await chain.evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('x')) + Number(r.getAttribute('width'))));
      expect(ends).toHaveLength(3);
      expect(ends[1]!).toBeGreaterThan(ends[0]! + 50);
      expect(ends[2]!).toBeGreaterThan(ends[1]! + 50);

      expect(requests.every((u) => u.startsWith('file://'))).toBe(true);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'report-ok-top.png') });
      await page.locator('figure.timeline[data-client="public-web"]').screenshot({ path: path.join(SCREENSHOTS, 'timeline-public-web.png') });
      await page.locator('figure.timeline[data-client="confidential"]').screenshot({ path: path.join(SCREENSHOTS, 'timeline-confidential.png') });
    } finally {
      await page.close();
    }
  });

  it('shows each failure with its recorded exchanges (no-rotation defect)', { timeout: 30_000 }, async () => {
    const { page, requests } = await open('defect');
    try {
      const { report } = reports.defect;
      expect(report.summary.failed).toBeGreaterThan(0);
      expect(await page.locator('li.count.failed b').textContent()).toBe(String(report.summary.failed));
      expect(await page.locator('.verdict').textContent()).toBe(`${report.summary.failed} checks failed`);
      expect(await page.locator('.failure-list li').count()).toBe(report.summary.failed);

      const failed = report.checks.find((c) => c.status === 'failed' && c.id === 'rotation.new-token-each-refresh' && c.client === 'mobile')!;
      const row = page.locator('tr[data-check="rotation.new-token-each-refresh"][data-client="mobile"]');
      expect(await row.getAttribute('data-status')).toBe('failed');
      const detail = page.locator('[id="check-rotation.new-token-each-refresh--mobile-detail"]');
      expect(await detail.locator('pre.message').textContent()).toContain('expected: refresh #1 (rotation declared on): a refresh_token in the token response');
      const evidence = detail.locator('.exchanges.evidence figure.exchange.cited pre').first();
      expect(await evidence.isVisible()).toBe(true);
      const text = (await evidence.textContent())!;
      expect(text).toContain('> POST ');
      expect(text).toContain('grant_type=refresh_token');
      expect(text).toMatch(/\[redacted:refresh_token#[0-9a-f]{6}\]/);
      // Every exchange and step of the check is there, the ones the verdict cites marked.
      expect(await detail.locator('.exchanges.evidence figure.exchange').count()).toBe(failed.exchanges!.length);
      expect(await detail.locator('.exchanges.evidence figure.exchange.cited').count()).toBe(failed.evidence!.length);
      // The detail sits right under its own row, and the failures list says expected and seen.
      expect(await row.locator('xpath=following-sibling::tr[1]').getAttribute('data-detail-of')).toBe('check-rotation.new-token-each-refresh--mobile');
      const item = page.locator('.failure-list li', { has: page.locator('a[href="#check-rotation.new-token-each-refresh--mobile"]') });
      expect(await item.locator('.expected-seen').textContent()).toBe(`expected ${failed.expected} seen ${failed.seen}`);
      expect(await item.locator('.expected-seen').isVisible()).toBe(true);
      // Skipped rows are folded away until asked for.
      const fold = page.locator('section#group-rotation details.skipped-rows');
      expect(await fold.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
      expect(await fold.locator('tr.status-skipped').first().isVisible()).toBe(false);
      await fold.locator('summary').click();
      expect(await fold.locator('tr.status-skipped').first().isVisible()).toBe(true);
      // The link from the failure list lands on the row.
      await page.locator('.failure-list a[href="#check-rotation.new-token-each-refresh--mobile"]').click();
      expect(page.url()).toMatch(/#check-rotation\.new-token-each-refresh--mobile$/);

      for (const client of new Set(report.checks.map((c) => c.client))) {
        expect(await page.locator(`figure.timeline[data-client="${client}"] svg.timeline-svg`).isVisible()).toBe(true);
      }
      expect(requests.every((u) => u.startsWith('file://'))).toBe(true);
      await page.locator('.summary').screenshot({ path: path.join(SCREENSHOTS, 'report-defect-summary.png') });
      await detail.screenshot({ path: path.join(SCREENSHOTS, 'report-defect-failure.png') });
      await page.locator('figure.timeline[data-client="mobile"]').screenshot({ path: path.join(SCREENSHOTS, 'timeline-mobile-defect.png') });
    } finally {
      await page.close();
    }
  });

  it('shows the logout step in the evidence, labels the marks the check expected otherwise, and breaks the axis of a 90-day lifetime', { timeout: 30_000 }, async () => {
    const { page } = await open('logout');
    try {
      const { report } = reports.logout;
      const failed = report.checks.find((c) => c.status === 'failed' && c.id === 'sso.refresh-after-logout' && c.client === 'mobile')!;
      expect(failed, 'sso.refresh-after-logout [mobile] failed under ignores-sso-logout').toBeDefined();
      const detail = page.locator('[id="check-sso.refresh-after-logout--mobile-detail"]');
      const logout = detail.locator('.exchanges.evidence figure.exchange', { hasText: '/__control/sso/end' });
      expect(await logout.count()).toBe(1);
      expect(await logout.isVisible()).toBe(true);
      expect(await logout.locator('figcaption').textContent()).toMatch(/^#\d+ POST \/__control\/sso\/end · in-process step$/);

      // A refresh the check expected to be rejected is ringed and labelled on the timeline, readable without hovering.
      const label = page.locator('figure.timeline[data-client="mobile"] g.timeline-block[data-check="rotation.old-token-rejected"] .mismatch-label').first();
      expect(await label.isVisible()).toBe(true);
      expect(await label.textContent()).toBe('✗ expected rejected');
      expect((await label.boundingBox())!.width).toBeGreaterThan(40);

      // Mobile tokens live 90 days: the long wait is a labelled break, and what happens around it stays readable.
      const mobile = page.locator('figure.timeline[data-client="mobile"]');
      const brk = mobile.locator('g.axis-break').first();
      expect(await brk.isVisible()).toBe(true);
      expect(await brk.locator('text').textContent()).toMatch(/^\+\d+ d/);
      await mobile.screenshot({ path: path.join(SCREENSHOTS, 'timeline-mobile-logout.png') });
      await detail.screenshot({ path: path.join(SCREENSHOTS, 'report-logout-evidence.png') });
    } finally {
      await page.close();
    }
  });
});
