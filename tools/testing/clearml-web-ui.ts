// Checks what a person sees in the ClearML web UI, in headless Chromium (playwright-core driving a system Chromium):
// log in as a fixed user, open a project, the experiments table lists exactly the expected tasks, open one task
// (double click: a single click only selects the row), its SCALARS tab draws the learning curves, its PLOTS tab the
// ROC curve and the confusion matrix, its CONFIGURATION tab the hyperparameters. Screenshots of each step.
// What the UI draws is read from the page itself: the plotly graph objects (`gd.data`: series names and types) and
// the texts of the tasks table and the hyperparameter table. Works with the stock web server of the docker-compose
// deployment and with the test server's serve-web.js (both are the same Angular build of clearml-web).
import { access, constants, mkdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export interface ClearmlWebUiCheckOptions {
  /** The web UI, e.g. http://localhost:8080 (CLEARML_WEB_HOST). */
  webHost: string;
  /** Fixed-users login (the UI asks for a password only when the server has one configured). */
  user: string;
  password?: string;
  /** Project name as shown on its card; with `projectId` the projects page is skipped. */
  project: string;
  projectId?: string;
  /** Task names the project's experiments table must list: exactly these, in any order. */
  expectTasks: string[];
  /** The task whose tabs are checked (default: the first of `expectTasks`). */
  taskToInspect?: string;
  /** Scalars: chart title (the metric) → series (variants) it must draw. Default: at least one chart with a line. */
  expectScalars?: Record<string, string[]>;
  /** Plots: a line chart whose title matches `roc` and a heatmap whose title matches `confusion`. */
  expectPlots?: { roc?: RegExp; confusion?: RegExp };
  /** Configuration: hyperparameter section → parameter names it must list. Default: at least one parameter. */
  expectHyperParams?: Record<string, string[]>;
  /** Folder for the screenshots (created). */
  shotsDir: string;
  /** Chromium binary (default: `chromium` on PATH, else /usr/bin/chromium). */
  chromiumPath?: string;
  /** Per-step timeout (default 60 s). */
  timeoutMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface UiChart {
  /** Title of the chart as the UI shows it (metric for scalars; "metric / variant" or the metric for plots). */
  title: string;
  /** Series (plotly trace) names and types, in drawing order. */
  series: string[];
  types: string[];
  /** Number of points of each series. */
  points: number[];
}

export interface ClearmlWebUiReport {
  projectId: string;
  taskId: string;
  /** The inspected task's page in the UI. */
  taskUrl: string;
  /** Task names the experiments table listed. */
  tasks: string[];
  scalars: UiChart[];
  plots: UiChart[];
  /** section → parameter name → value, as the Configuration tab shows them. */
  hyperParams: Record<string, Record<string, string>>;
  /** Files written to shotsDir, in order. */
  screenshots: string[];
  /** Milliseconds per step and in total. */
  timings: Record<string, number>;
}

export type ClearmlWebUiStep = 'launch' | 'login' | 'project' | 'tasks-table' | 'open-task' | 'scalars' | 'plots' | 'configuration';

/** The UI did not show what was expected; `screenshot` is the page at that moment. */
export class ClearmlWebUiCheckError extends Error {
  readonly code = 'CLEARML_WEB_UI_CHECK';
  constructor(
    message: string,
    readonly step: ClearmlWebUiStep,
    readonly url: string | undefined,
    readonly screenshot: string | undefined,
  ) {
    super(message);
    this.name = 'ClearmlWebUiCheckError';
  }
}

/** `chromium` on PATH (Debian's package), else /usr/bin/chromium. */
export async function findChromium(pathEnv: string | undefined): Promise<string> {
  for (const dir of (pathEnv ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'chromium');
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return '/usr/bin/chromium';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` until `done` accepts its value or the timeout passes; returns the last value either way. */
async function pollUntil<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, everyMs = 500): Promise<T> {
  const end = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < end) {
    await sleep(everyMs);
    value = await read();
  }
  return value;
}

/** The little of the DOM the page-side readers use (the project compiles without the DOM lib). */
interface DomNode {
  textContent: string | null;
  querySelector(selector: string): DomNode | null;
  querySelectorAll(selector: string): Iterable<DomNode> & ArrayLike<DomNode>;
  scrollIntoView(): void;
}
interface PlotlyTrace {
  name?: string;
  type?: string;
  x?: unknown[];
  z?: unknown[];
}
type ScrollNode = DomNode & { scrollTop: number; clientHeight: number; scrollHeight: number };
type PlotlyDiv = DomNode & { data?: PlotlyTrace[]; layout?: { title?: { text?: string } | string } };

/** Every chart on the page: its title and the series plotly drew. Scrolls the last chart into view so lazy ones render. */
async function readCharts(page: Page): Promise<UiChart[]> {
  return page.evaluate(() => {
    const doc = (globalThis as unknown as { document: DomNode }).document;
    const graphs = [...doc.querySelectorAll('sm-single-graph')];
    graphs.at(-1)?.scrollIntoView();
    return graphs.map((g) => {
      const gd = g.querySelector('.js-plotly-plot') as PlotlyDiv | null;
      const header = g.querySelector('[data-id="graphTitleName"]')?.textContent?.trim();
      const layoutTitle = typeof gd?.layout?.title === 'string' ? gd.layout.title : gd?.layout?.title?.text;
      const svgTitle = g.querySelector('.gtitle')?.textContent?.trim();
      const data: PlotlyTrace[] = gd?.data ?? [];
      return {
        title: header || layoutTitle || svgTitle || '',
        series: data.map((t) => String(t.name ?? '')),
        types: data.map((t) => String(t.type ?? 'scatter')),
        points: data.map((t) => (Array.isArray(t.x) ? t.x.length : Array.isArray(t.z) ? t.z.length : 0)),
      };
    });
  });
}

const describe = (charts: UiChart[]) =>
  charts.length ? charts.map((c) => `"${c.title}" [${c.series.join(', ')}]`).join('; ') : 'no charts';

/**
 * Logs in, opens the project and one task, and checks its tabs; throws ClearmlWebUiCheckError (with a screenshot)
 * at the first thing the UI does not show. Typical run: 15–25 s on a warm server.
 */
export async function checkClearmlWebUi(opts: ClearmlWebUiCheckOptions): Promise<ClearmlWebUiReport> {
  const base = opts.webHost.replace(/\/+$/, '');
  const timeout = opts.timeoutMs ?? 60_000;
  const log = opts.log ?? (() => {});
  const taskName = opts.taskToInspect ?? opts.expectTasks[0];
  if (!taskName) throw new Error('checkClearmlWebUi: expectTasks is empty and no taskToInspect given');
  await mkdir(opts.shotsDir, { recursive: true });
  const screenshots: string[] = [];
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  let tStep = t0;
  let step: ClearmlWebUiStep = 'launch';
  const done = (name: ClearmlWebUiStep) => {
    timings[name] = Date.now() - tStep;
    tStep = Date.now();
    log(`[clearml-web-ui] ${name}: ${timings[name]} ms`);
  };

  const executablePath = opts.chromiumPath ?? (await findChromium(process.env['PATH']));
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
  } catch (e) {
    throw new ClearmlWebUiCheckError(`cannot start Chromium at ${executablePath} (set CHROMIUM or install chromium): ${String(e).split('\n')[0]}`, 'launch', undefined, undefined);
  }
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.setDefaultTimeout(timeout);
  const shot = async (name: string) => {
    const file = join(opts.shotsDir, `${name}.png`);
    await page.screenshot({ path: file });
    screenshots.push(file);
  };
  const fail = async (message: string): Promise<never> => {
    const file = join(opts.shotsDir, `99-failed-${step}.png`);
    const saved = await page.screenshot({ path: file }).then(() => file, () => undefined);
    if (saved) screenshots.push(saved);
    throw new ClearmlWebUiCheckError(`ClearML web UI at ${base}, step ${step}: ${message}`, step, page.url(), saved);
  };
  // A dialog the UI opens by itself (welcome / getting-started for a user without credentials, what's new) would
  // swallow the clicks: close it the way a person would.
  const dismissDialogs = async () => {
    for (let i = 0; i < 3 && (await page.locator('mat-dialog-container').count()) > 0; i++) {
      await page.keyboard.press('Escape');
      await sleep(300);
    }
  };
  const tab = async (id: 'scalars' | 'plots' | 'configuration') => {
    await dismissDialogs();
    await page.locator(`a[role="tab"][data-id="${id}"]`).click();
    await page.waitForURL((u) => u.pathname.includes(id === 'configuration' ? '/hyper-params/' : `/${id}`));
  };

  try {
    done('launch');
    // ---- login (fixed users: name + password form) ----
    step = 'login';
    await page.goto(`${base}/`, { waitUntil: 'domcontentloaded' });
    const nameInput = page.locator('input[formcontrolname="name"]');
    await nameInput.waitFor({ state: 'visible' }).catch(() => fail('no login form (input name) appeared'));
    await shot('01-login');
    await nameInput.fill(opts.user);
    const passInput = page.locator('input[formcontrolname="password"]');
    if (await passInput.count()) await passInput.fill(opts.password ?? '');
    await page.locator('.login-form button[mat-flat-button]').first().click();
    await page
      .waitForURL((u) => !u.pathname.startsWith('/login'))
      .catch(() => fail(`still on the login page: user ${opts.user} was not accepted`));
    done('login');

    // ---- the project: by id, or its card on the projects page (search, exact name) ----
    step = 'project';
    let projectId = opts.projectId;
    if (!projectId) {
      await page.goto(`${base}/projects`, { waitUntil: 'domcontentloaded' });
      await page.locator('sm-common-search button[data-id="searchIcon"]').waitFor();
      await dismissDialogs();
      await page.locator('sm-common-search button[data-id="searchIcon"]').click();
      await page.locator('sm-common-search input').fill(opts.project);
      // Wait for the search to filter the cards: a click on a card of the list it is about to replace is lost
      // (the search also rewrites the URL, which cancels the navigation).
      const names = page.locator('sm-project-card .project-name');
      const filtered = await pollUntil(
        async () => (await names.allInnerTexts()).map((n) => n.trim()),
        (n) => n.length > 0 && n.every((x) => x.includes(opts.project)),
        timeout,
      );
      if (!filtered.includes(opts.project)) await fail(`no project card named "${opts.project}" (cards: ${filtered.slice(0, 5).join(', ') || 'none'})`);
      const card = page.locator('sm-project-card').filter({
        has: page.locator('.project-name', { hasText: new RegExp(`^\\s*${escapeRegExp(opts.project)}\\s*$`) }),
      });
      const opened = /\/projects\/[0-9a-f]{32}(\/|$|\?)/;
      for (let attempt = 1; !opened.test(page.url()); attempt++) {
        await card.first().click();
        const ok = await page.waitForURL(opened, { timeout: Math.min(timeout, 10_000) }).then(() => true, () => false);
        if (!ok && attempt >= 3) await fail(`clicking the card of "${opts.project}" did not open the project (3 tries)`);
        if (!ok) log(`[clearml-web-ui] the project card click did not open it (try ${attempt}); clicking again`);
      }
      projectId = /\/projects\/([0-9a-f]{32})/.exec(page.url())![1]!;
    }
    done('project');

    // ---- experiments table: exactly the expected tasks ----
    step = 'tasks-table';
    await page.goto(`${base}/projects/${projectId}/tasks`, { waitUntil: 'domcontentloaded' });
    const want = [...opts.expectTasks].sort();
    const readRows = async () => (await page.locator('.experiment-name').allInnerTexts()).map((s) => s.trim()).sort();
    const rows = await pollUntil(readRows, (r) => JSON.stringify(r) === JSON.stringify(want), timeout);
    await dismissDialogs();
    await shot('02-tasks-table');
    if (JSON.stringify(rows) !== JSON.stringify(want)) {
      await fail(`the experiments table lists [${rows.join(', ')}], expected exactly [${want.join(', ')}]`);
    }
    done('tasks-table');

    // ---- open the task: a double click (a single click only selects the row) ----
    step = 'open-task';
    await dismissDialogs();
    await page.locator('.experiment-name', { hasText: new RegExp(`^\\s*${escapeRegExp(taskName)}\\s*$`) }).first().dblclick();
    await page.waitForURL(/\/tasks\/[0-9a-f]{32}\//).catch(() => fail(`double click on "${taskName}" did not open it`));
    const taskId = /\/tasks\/([0-9a-f]{32})/.exec(page.url())![1]!;
    done('open-task');

    // ---- scalars: the learning curves ----
    step = 'scalars';
    await tab('scalars');
    const wantScalars = Object.entries(opts.expectScalars ?? {});
    const scalarsOk = (charts: UiChart[]) =>
      wantScalars.length === 0
        ? charts.some((c) => c.types.includes('scatter') && c.points.some((n) => n > 0))
        : wantScalars.every(([title, series]) => charts.some((c) => c.title === title && series.every((s) => c.series.includes(s))));
    const scalars = await pollUntil(() => readCharts(page), scalarsOk, timeout);
    await page.locator('sm-single-graph').first().scrollIntoViewIfNeeded().catch(() => {});
    await shot('03-task-scalars');
    if (!scalarsOk(scalars)) {
      const wanted = wantScalars.length ? wantScalars.map(([t, s]) => `"${t}" [${s.join(', ')}]`).join('; ') : 'a line chart';
      await fail(`scalars tab draws ${describe(scalars)}; expected ${wanted}`);
    }
    done('scalars');

    // ---- plots: ROC curve and confusion matrix ----
    step = 'plots';
    await tab('plots');
    const roc = opts.expectPlots?.roc ?? /roc/i;
    const confusion = opts.expectPlots?.confusion ?? /confusion/i;
    const hasRoc = (charts: UiChart[]) => charts.some((c) => roc.test(c.title) && c.types.includes('scatter') && c.points.some((n) => n > 1));
    const hasConfusion = (charts: UiChart[]) => charts.some((c) => confusion.test(c.title) && c.types.includes('heatmap'));
    const plots = await pollUntil(() => readCharts(page), (c) => hasRoc(c) && hasConfusion(c), timeout);
    await page.locator('sm-single-graph').first().scrollIntoViewIfNeeded().catch(() => {});
    await shot('04-task-plots');
    if (!hasRoc(plots)) await fail(`plots tab draws ${describe(plots)}; expected a line chart titled ${roc}`);
    if (!hasConfusion(plots)) await fail(`plots tab draws ${describe(plots)}; expected a heatmap titled ${confusion}`);
    done('plots');

    // ---- configuration: hyperparameter sections and their parameters ----
    step = 'configuration';
    await tab('configuration');
    const sectionLinks = page.locator('sm-experiment-hyper-params-navbar [data-id="HyperParameters"] ~ * .hyper-container');
    const sections = await pollUntil(async () => (await sectionLinks.allInnerTexts()).map((s) => s.trim()), (s) => s.length > 0, timeout);
    const hyperParams: Record<string, Record<string, string>> = {};
    for (const [i, section] of sections.entries()) {
      await sectionLinks.nth(i).click();
      await page.waitForURL((u) => decodeURIComponent(u.pathname).endsWith(`/hyper-param/${section}`));
      // The parameter table is virtual (only the visible rows exist): read it while scrolling it to the end.
      const read = async () => {
        const seen = new Map<string, string>();
        for (let k = 0; k < 100; k++) {
          const { rows, more } = await page.evaluate(() => {
            const doc = (globalThis as unknown as { document: DomNode }).document;
            const form = 'sm-experiment-info-hyper-parameters-form-container';
            const rows = [...doc.querySelectorAll(`${form} tr`)].map((tr) => [
              tr.querySelector('.name')?.textContent?.trim() ?? '',
              tr.querySelector('.value-container')?.textContent?.trim() ?? '',
            ]);
            const scroller = doc.querySelector(`${form} .p-virtualscroller`) as ScrollNode | null;
            const more = !!scroller && scroller.scrollTop + scroller.clientHeight < scroller.scrollHeight - 1;
            if (scroller) scroller.scrollTop = more ? scroller.scrollTop + scroller.clientHeight : 0;
            return { rows, more };
          });
          for (const [name, value] of rows) if (name) seen.set(name, value ?? '');
          if (!more) break;
          await sleep(150);
        }
        return [...seen.entries()];
      };
      const wantNames = opts.expectHyperParams?.[section] ?? [];
      const pairs = await pollUntil(read, (p) => p.length > 0 && wantNames.every((n) => p.some(([k]) => k === n)), timeout);
      hyperParams[section] = Object.fromEntries(pairs);
      if (i === 0 || section in (opts.expectHyperParams ?? {})) await shot(`05-task-configuration-${section.replace(/[^\w.-]+/g, '_')}`);
    }
    const missing = Object.entries(opts.expectHyperParams ?? {}).flatMap(([section, names]) =>
      names.filter((n) => !(n in (hyperParams[section] ?? {}))).map((n) => `${section}/${n}`),
    );
    const shown = Object.entries(hyperParams).map(([s, p]) => `${s}: ${Object.keys(p).join(', ')}`).join('; ') || 'nothing';
    if (missing.length) await fail(`configuration tab shows ${shown}; missing ${missing.join(', ')}`);
    if (!Object.values(hyperParams).some((p) => Object.keys(p).length > 0)) await fail('configuration tab shows no hyperparameters');
    done('configuration');

    timings['total'] = Date.now() - t0;
    return { projectId, taskId, taskUrl: `${base}/projects/${projectId}/tasks/${taskId}`, tasks: rows, scalars, plots, hyperParams, screenshots, timings };
  } catch (e) {
    if (e instanceof ClearmlWebUiCheckError) throw e;
    return await fail(String(e instanceof Error ? e.message : e).split('\n')[0]!);
  } finally {
    await browser.close();
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
