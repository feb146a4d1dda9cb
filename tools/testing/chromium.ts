// Headless Chromium for the browser tests (Debian's `chromium` driven by playwright-core): one launch, and the
// offline opening of a local file the report tests share.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** The Chromium binary: `CHROMIUM` from the environment, else Debian's /usr/bin/chromium; missing → an error saying how to get one. */
export function chromiumExecutable(env: Record<string, string | undefined> = process.env): string {
  const path = env['CHROMIUM'] || '/usr/bin/chromium';
  if (!existsSync(path)) throw new Error(`no Chromium at ${path}: install it (apt-get install -y chromium) or set CHROMIUM to its path`);
  return path;
}

/** Headless Chromium (`--no-sandbox`: tests run as root in containers). Close it in `afterAll`. */
export function launchChromium(opts: { executablePath?: string } = {}): Promise<Browser> {
  return chromium.launch({ executablePath: opts.executablePath ?? chromiumExecutable(), headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export interface OfflinePage {
  page: Page;
  /** Every URL the page asked for (the file itself first). */
  requests: string[];
  url: string;
  close(): Promise<void>;
}

/**
 * Opens a local file as a reader without network would: JavaScript off (unless `javaScript`), every request
 * recorded, anything but the file itself aborted.
 */
export async function openFileOffline(browser: Browser, file: string, opts: { javaScript?: boolean; viewport?: { width: number; height: number } } = {}): Promise<OfflinePage> {
  const url = pathToFileURL(file).href;
  const context = await browser.newContext({ javaScriptEnabled: opts.javaScript ?? false, viewport: opts.viewport ?? { width: 1280, height: 900 } });
  const requests: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  await context.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'load' });
  return { page, requests, url, close: () => context.close() };
}
