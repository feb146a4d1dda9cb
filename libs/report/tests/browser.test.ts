/**
 * The HTML report as a person sees it: headless Debian Chromium (driven by playwright-core, JavaScript disabled)
 * opens reports written by `writeReport`, every chart must have rendered with its series and axis titles, the page
 * must have asked for nothing but itself, and a full-page screenshot goes to `<repo>/tmp/report/` (gitignored).
 * Chromium: `/usr/bin/chromium` (Debian package `chromium`), or the path in the CHROMIUM environment variable.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, openFileOffline } from '../../../tools/testing/chromium.js';
import { fmt, writeReport } from '../src/index.js';
import { committedInput, tinyModelsInput } from './fixture.js';

const outDir = join(import.meta.dirname, '../../../tmp/report');

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** Opens a file with JavaScript off, recording every request; anything but the file itself is aborted. */
const open = (file: string) => openFileOffline(browser, file);

describe('the HTML report in Chromium', () => {
  it('tiny real models: every chart rendered with its series and axis titles, no network request, screenshot saved', async () => {
    const f = tinyModelsInput();
    const report = await writeReport(f.input, { htmlFile: join(outDir, 'report.html'), markdownFile: join(outDir, 'report.md') });
    const { page, requests, url, close } = await open(report.htmlFile);
    try {
      const figures = await page.locator('figure[data-chart]').all();
      expect(figures).toHaveLength(report.charts.length);
      for (const fig of figures) {
        const id = (await fig.getAttribute('data-chart'))!;
        const chart = report.charts.find((c) => c.id === id)!;
        const svg = fig.locator('svg').first();
        const box = await svg.boundingBox();
        expect(box!.width, id).toBeGreaterThan(200);
        expect(box!.height, id).toBeGreaterThan(150);
        // Marks drawn (lines, bars, cells), not an empty frame.
        expect(await svg.locator('g.role-mark path, g.role-mark line, g.role-mark rect').count(), id).toBeGreaterThan(2);
        const texts = new Set((await svg.locator('text').allTextContents()).map((t) => t.trim()));
        for (const t of [...chart.axes, ...chart.series]) expect(texts.has(t), `${id}: "${t}" among ${[...texts].slice(0, 30).join(' | ')}`).toBe(true);
      }
      // The conclusions and the ranking as a reader sees them.
      expect(await page.locator('li[data-conclusion]').count()).toBe(report.analysis.conclusions.length);
      const best = await page.locator('li[data-conclusion="best"]').innerText();
      expect(best).toContain(fmt(report.analysis.ranking[0]!.value));
      const rankingRows = await page.locator('#ranking-table tbody tr').all();
      for (const [i, r] of report.analysis.ranking.entries()) {
        const cells = await rankingRows[i]!.locator('td').allInnerTexts();
        expect(cells[1]).toBe(r.model);
        expect(cells[2]).toBe(fmt(f.input.models.find((m) => m.name === r.model)!.eval!.roc_auc));
      }
      expect(await page.locator('section[data-unavailable]').count()).toBe(0);
      await page.screenshot({ path: join(outDir, 'report-full.png'), fullPage: true });
      expect(requests).toEqual([url]);
    } finally {
      await close();
    }
  });

  it('committed DVC files only: the sections without a source say so, the rest renders', async () => {
    const report = await writeReport(committedInput(), { htmlFile: join(outDir, 'committed/report.html'), markdownFile: join(outDir, 'committed/report.md') });
    const { page, requests, url, close } = await open(report.htmlFile);
    try {
      const unavailable = await page.locator('section[data-unavailable] .unavailable').allInnerTexts();
      expect(unavailable.length).toBe(report.sections.filter((s) => s.unavailable).length);
      for (const t of unavailable) expect(t).toMatch(/^Unavailable: /);
      expect(await page.locator('figure[data-chart] svg').count()).toBe(3);
      await page.screenshot({ path: join(outDir, 'committed/report-full.png'), fullPage: true });
      expect(requests).toEqual([url]);
    } finally {
      await close();
    }
  });
});
