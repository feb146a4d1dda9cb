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
  /** Per-step timeout (default 60 s; the login waits at least 60 s). */
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

export type ClearmlWebUiStep = 'launch' | 'login' | 'project' | 'tasks-table' | 'open-task' | 'scalars' | 'plots' | 'configuration' | 'pipeline' | 'compare-scalars' | 'compare-hyper-params';

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

export interface ClearmlWebUiSessionOptions {
  /** The web UI, e.g. http://localhost:8080 (CLEARML_WEB_HOST). */
  webHost: string;
  /** Fixed-users login (the UI asks for a password only when the server has one configured). */
  user: string;
  password?: string;
  /** Folder for the screenshots (created). */
  shotsDir: string;
  /** Chromium binary (default: `chromium` on PATH, else /usr/bin/chromium). */
  chromiumPath?: string;
  /** Per-step timeout (default 60 s; the login waits at least 60 s). */
  timeoutMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** A logged-in headless Chromium on the web UI: what the check functions below share. Close it in a `finally`. */
export interface ClearmlWebUiSession {
  readonly page: Page;
  /** The web UI's address without a trailing slash. */
  readonly base: string;
  readonly timeoutMs: number;
  /** Files written to shotsDir so far, in order. */
  readonly screenshots: string[];
  /** Milliseconds per step (`launch`, `login`, then what the checks add). */
  readonly timings: Record<string, number>;
  /** Saves `<shotsDir>/<name>.png` (the window, or with `fullPage` the whole scrollable page) and returns its path. */
  shot(name: string, o?: { fullPage?: boolean }): Promise<string>;
  /** Saves `99-failed-<step>.png` and throws ClearmlWebUiCheckError naming the step, the URL and the screenshot. */
  fail(step: ClearmlWebUiStep, message: string): Promise<never>;
  /** Closes dialogs the UI opens by itself (welcome, what's new), which would swallow clicks. */
  dismissDialogs(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts headless Chromium and logs in through the login form (screenshot `01-login` before anything is typed).
 * Throws ClearmlWebUiCheckError (step `launch` or `login`, with a screenshot when there is a page).
 */
export async function openClearmlWebUi(opts: ClearmlWebUiSessionOptions): Promise<ClearmlWebUiSession> {
  const base = opts.webHost.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const log = opts.log ?? (() => {});
  await mkdir(opts.shotsDir, { recursive: true });
  const screenshots: string[] = [];
  const timings: Record<string, number> = {};
  let tStep = Date.now();
  const done = (name: string) => {
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
  page.setDefaultTimeout(timeoutMs);
  const shot = async (name: string, o: { fullPage?: boolean } = {}) => {
    const file = join(opts.shotsDir, `${name}.png`);
    await page.screenshot({ path: file, ...(o.fullPage ? { fullPage: true } : {}) });
    screenshots.push(file);
    return file;
  };
  const fail = async (step: ClearmlWebUiStep, message: string): Promise<never> => {
    const file = join(opts.shotsDir, `99-failed-${step}.png`);
    const saved = await page.screenshot({ path: file }).then(() => file, () => undefined);
    if (saved) screenshots.push(saved);
    throw new ClearmlWebUiCheckError(`ClearML web UI at ${base}, step ${step}: ${message}`, step, page.url(), saved);
  };
  const dismissDialogs = async () => {
    for (let i = 0; i < 3 && (await page.locator('mat-dialog-container').count()) > 0; i++) {
      await page.keyboard.press('Escape');
      await sleep(300);
    }
  };
  const session: ClearmlWebUiSession = { page, base, timeoutMs, screenshots, timings, shot, fail, dismissDialogs, close: () => browser.close() };
  try {
    done('launch');
    // fixed users: name + password form. Logging in is not what a check checks: it waits at least 60 s (a short
    // timeoutMs, as a negative test passes, lost the login under a load average of 27 with the UI taking 13 s)
    const loginTimeout = Math.max(timeoutMs, 60_000);
    page.setDefaultTimeout(loginTimeout);
    await page.goto(`${base}/`, { waitUntil: 'domcontentloaded', timeout: loginTimeout });
    const nameInput = page.locator('input[formcontrolname="name"]');
    await nameInput.waitFor({ state: 'visible', timeout: loginTimeout }).catch(() => fail('login', 'no login form (input name) appeared'));
    await shot('01-login');
    await nameInput.fill(opts.user);
    const passInput = page.locator('input[formcontrolname="password"]');
    if (await passInput.count()) await passInput.fill(opts.password ?? '');
    await page.locator('.login-form button[mat-flat-button]').first().click();
    await page
      .waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: loginTimeout })
      .catch(() => fail('login', `still on the login page: user ${opts.user} was not accepted`));
    page.setDefaultTimeout(timeoutMs);
    done('login');
    return session;
  } catch (e) {
    const err = e instanceof ClearmlWebUiCheckError ? e : await fail('login', String(e instanceof Error ? e.message : e).split('\n')[0]!).catch((x: unknown) => x);
    await browser.close();
    throw err;
  }
}

/**
 * Logs in, opens the project and one task, and checks its tabs; throws ClearmlWebUiCheckError (with a screenshot)
 * at the first thing the UI does not show. Typical run: 15–25 s on a warm server.
 */
export async function checkClearmlWebUi(opts: ClearmlWebUiCheckOptions): Promise<ClearmlWebUiReport> {
  const timeout = opts.timeoutMs ?? 60_000;
  const log = opts.log ?? (() => {});
  const taskName = opts.taskToInspect ?? opts.expectTasks[0];
  if (!taskName) throw new Error('checkClearmlWebUi: expectTasks is empty and no taskToInspect given');
  const t0 = Date.now();
  const ui = await openClearmlWebUi(opts);
  const { page, base, screenshots, timings, shot, dismissDialogs } = ui;
  let tStep = Date.now();
  let step: ClearmlWebUiStep = 'project';
  const done = (name: ClearmlWebUiStep) => {
    timings[name] = Date.now() - tStep;
    tStep = Date.now();
    log(`[clearml-web-ui] ${name}: ${timings[name]} ms`);
  };
  const fail = (message: string): Promise<never> => ui.fail(step, message);
  const tab = async (id: 'scalars' | 'plots' | 'configuration') => {
    await dismissDialogs();
    await page.locator(`a[role="tab"][data-id="${id}"]`).click();
    await page.waitForURL((u) => u.pathname.includes(id === 'configuration' ? '/hyper-params/' : `/${id}`));
  };

  try {

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
    // first the table's rows at all (under load the UI takes many seconds to fill it, longer than the short timeout
    // a negative test passes: it once saw an empty table after 4 s), then up to `timeout` for exactly the expected set
    await pollUntil(readRows, (r) => r.length > 0, Math.max(timeout, 60_000));
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
    await ui.close();
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface PipelineDagNode {
  /** The step's name as its node shows it. */
  name: string;
  /** From the node's status colour (`completed`, `failed`, `skipped`, …). */
  status: string;
  /** Whether the node is drawn (a non-empty box, not hidden). */
  visible: boolean;
}

export interface PipelineDagReport {
  url: string;
  nodes: PipelineDagNode[];
  /** Arrows the diagram draws between nodes. */
  arrows: number;
  screenshot: string;
}

/**
 * Opens a pipeline run's page (`/pipelines/<projectId>/experiments/<controllerId>`, the link the pipeline prints)
 * and reads its DAG diagram: every step node's name and status and the arrows between them. Waits until every
 * `expectNodes` name has a visible node (and, with `expectArrows`, that many arrows are drawn), saves the screenshot
 * `<shotName>.png` (default `10-pipeline-dag`); otherwise fails (step `pipeline`) naming the nodes it saw.
 */
export async function checkClearmlPipelineDag(
  ui: ClearmlWebUiSession,
  opts: { projectId: string; controllerId: string; expectNodes: string[]; expectArrows?: number; shotName?: string },
): Promise<PipelineDagReport> {
  const { page } = ui;
  const t = Date.now();
  try {
    await page.goto(`${ui.base}/pipelines/${opts.projectId}/experiments/${opts.controllerId}`, { waitUntil: 'domcontentloaded' });
    const read = async (): Promise<{ nodes: PipelineDagNode[]; arrows: number }> => {
      const steps = page.locator('sm-pipeline-controller-step [data-id="stepContainer"]');
      const nodes: PipelineDagNode[] = [];
      for (const el of await steps.all()) {
        const name = ((await el.locator('.title').first().textContent().catch(() => '')) ?? '').trim();
        const style = (await el.getAttribute('style').catch(() => '')) ?? '';
        nodes.push({ name, status: /--color-([a-z_-]+)-container/.exec(style)?.[1] ?? 'unknown', visible: await el.isVisible().catch(() => false) });
      }
      return { nodes, arrows: await page.locator('svg.arrows path').count() };
    };
    const ok = (r: { nodes: PipelineDagNode[]; arrows: number }) =>
      opts.expectNodes.every((n) => r.nodes.some((x) => x.name === n && x.visible)) && (opts.expectArrows === undefined || r.arrows === opts.expectArrows);
    await ui.dismissDialogs();
    const seen = await pollUntil(read, ok, ui.timeoutMs);
    await sleep(500); // the arrows' animation
    const file = await ui.shot(opts.shotName ?? '10-pipeline-dag');
    if (!ok(seen)) {
      const missing = opts.expectNodes.filter((n) => !seen.nodes.some((x) => x.name === n && x.visible));
      await ui.fail(
        'pipeline',
        `the pipeline DAG draws ${seen.nodes.map((n) => `${n.name} (${n.status})`).join(', ') || 'no nodes'} and ${seen.arrows} arrows; ` +
          (missing.length ? `missing ${missing.join(', ')}` : `expected ${opts.expectArrows} arrows`),
      );
    }
    ui.timings['pipeline'] = Date.now() - t;
    return { url: page.url(), nodes: seen.nodes, arrows: seen.arrows, screenshot: file };
  } catch (e) {
    if (e instanceof ClearmlWebUiCheckError) throw e;
    return await ui.fail('pipeline', String(e instanceof Error ? e.message : e).split('\n')[0]!);
  }
}

export interface CompareViewOptions {
  /** The project the compare page is opened in (any project of the tasks). */
  projectId: string;
  /** The tasks compared, side by side in this order. */
  taskIds: string[];
  /** Their names, as the UI must show them (the cards' titles, the charts' legends). */
  expectTasks: string[];
  /** Scalars: metric names the page must list, each drawn with one line per task. Default: at least one chart. */
  expectScalars?: string[];
  /** Hyperparameters: section → parameter names every task's column must show (sections compared case-insensitively). */
  expectHyperParams?: Record<string, string[]>;
  /** Screenshot names (default `11-compare-scalars`, `12-compare-hyper-params`). */
  shotNames?: { scalars?: string; hyperParams?: string };
}

export interface CompareViewReport {
  scalarsUrl: string;
  hyperParamsUrl: string;
  /** Metric names the scalars page lists. */
  metrics: string[];
  /** Charts drawn (title: the variant; series: one per task, named after it). */
  charts: UiChart[];
  /** task name → section → parameter → value, as each column shows it (section names as the UI writes them). */
  hyperParams: Record<string, Record<string, Record<string, string>>>;
  screenshots: string[];
}

/**
 * The UI's compare view of several tasks (`/projects/<id>/compare-tasks;ids=a,b,c/…`, what "Compare" on selected
 * experiments opens): the SCALARS page (`scalars/graph`: one chart per metric and variant, one line per task) and
 * the HYPERPARAMETERS page (`hyper-params/values`: a column per task, every section opened and read). Fails (steps
 * `compare-scalars`, `compare-hyper-params`) with what it saw; screenshots of both pages.
 */
export async function checkClearmlCompareView(ui: ClearmlWebUiSession, opts: CompareViewOptions): Promise<CompareViewReport> {
  const { page } = ui;
  const shots: string[] = [];
  const ids = opts.taskIds.join(',');
  let step: ClearmlWebUiStep = 'compare-scalars';
  try {
    // ---- scalars: every task's line in the charts, the expected metrics listed ----
    const t = Date.now();
    const scalarsUrl = `${ui.base}/projects/${opts.projectId}/compare-tasks;ids=${ids}/scalars/graph`;
    await page.goto(scalarsUrl, { waitUntil: 'domcontentloaded' });
    await ui.dismissDialogs();
    const readMetrics = async () =>
      (await page.locator('sm-selectable-grouped-filter-list .parent-node > span.ellipsis').allTextContents().catch(() => [] as string[])).map((x) => x.trim()).filter(Boolean);
    const wantMetrics = opts.expectScalars ?? [];
    const scalarsOk = (c: UiChart[], m: string[]) =>
      c.some((x) => opts.expectTasks.every((n) => x.series.includes(n))) && wantMetrics.every((w) => m.includes(w) || c.some((x) => x.title === w));
    let metrics: string[] = [];
    const charts = await pollUntil(
      async () => {
        metrics = await readMetrics();
        return readCharts(page);
      },
      (c) => scalarsOk(c, metrics),
      ui.timeoutMs,
    );
    await page.locator('sm-single-graph').first().scrollIntoViewIfNeeded().catch(() => {});
    shots.push(await ui.shot(opts.shotNames?.scalars ?? '11-compare-scalars'));
    if (!scalarsOk(charts, metrics)) {
      await ui.fail(step, `the compare scalars page draws ${describe(charts)} and lists metrics [${metrics.join(', ')}]; expected lines of [${opts.expectTasks.join(', ')}]${wantMetrics.length ? ` and metrics [${wantMetrics.join(', ')}]` : ''}`);
    }
    ui.timings['compare-scalars'] = Date.now() - t;

    // ---- hyperparameters: one column per task, every section opened ----
    step = 'compare-hyper-params';
    const t2 = Date.now();
    const hyperParamsUrl = `${ui.base}/projects/${opts.projectId}/compare-tasks;ids=${ids}/hyper-params/values`;
    await page.goto(hyperParamsUrl, { waitUntil: 'domcontentloaded' });
    await ui.dismissDialogs();
    const columns = page.locator('#experiment-details-container > *');
    await pollUntil(() => columns.count(), (n) => n === opts.taskIds.length, ui.timeoutMs);
    await page.locator('[data-id="expandDetailTab"]').first().waitFor();
    // opening a section in one column opens it in all of them
    for (let k = 0; k < 50; k++) {
      const closed = columns.first().locator('.section.depth-0 [data-id="expandDetailTab"].rotate-right');
      if ((await closed.count()) === 0) break;
      await closed.first().click();
      await sleep(300);
    }
    const readColumns = async () => {
      const out: Record<string, Record<string, Record<string, string>>> = {};
      for (const col of await columns.all()) {
        const name = ((await col.locator('sm-experiment-compare-general-data [data-id="experimentName"]').first().textContent().catch(() => null)) ?? '').trim();
        const rows: [string, string, string][] = [];
        // the list is virtual (only the visible rows exist): read it while scrolling it to the end
        for (let k = 0; k < 100; k++) {
          const { chunk, more } = await col.evaluate((el: unknown) => {
            const root = el as DomNode;
            const got: [string, string, string][] = [];
            let section = '';
            for (const node of [...root.querySelectorAll('.node')]) {
              const title = node.querySelector('.title-key')?.textContent?.trim();
              if (title) section = title;
              else {
                const key = node.querySelector('.node-key')?.textContent?.trim();
                if (key) got.push([section, key, node.querySelector('.node-val')?.textContent?.trim() ?? '']);
              }
            }
            const scroller = root.querySelector('.cdk-virtual-scroll-viewport') as ScrollNode | null;
            const more = !!scroller && scroller.scrollTop + scroller.clientHeight < scroller.scrollHeight - 1;
            if (scroller) scroller.scrollTop = more ? scroller.scrollTop + scroller.clientHeight : 0;
            return { chunk: got, more };
          });
          rows.push(...chunk);
          if (!more) break;
          await sleep(150);
        }
        const params: Record<string, Record<string, string>> = {};
        for (const [section, key, value] of rows) (params[section] ??= {})[key] = value;
        out[name || `column ${Object.keys(out).length + 1}`] = params;
      }
      return out;
    };
    const hasParams = (cols: Record<string, Record<string, Record<string, string>>>) =>
      opts.expectTasks.every((task) =>
        Object.entries(opts.expectHyperParams ?? {}).every(([section, names]) => {
          const got = Object.entries(cols[task] ?? {}).find(([s]) => s.toLowerCase() === section.toLowerCase())?.[1] ?? {};
          return names.every((n) => n in got);
        }) && Object.keys(cols[task] ?? {}).length > 0,
      );
    const hyperParams = await pollUntil(readColumns, hasParams, ui.timeoutMs);
    shots.push(await ui.shot(opts.shotNames?.hyperParams ?? '12-compare-hyper-params'));
    if (!hasParams(hyperParams)) {
      const shown = Object.entries(hyperParams).map(([task, secs]) => `${task}: ${Object.entries(secs).map(([s, p]) => `${s} (${Object.keys(p).length})`).join(', ') || 'nothing'}`).join('; ');
      await ui.fail(step, `the compare hyperparameters page shows ${shown || 'no columns'}; expected columns [${opts.expectTasks.join(', ')}] each with ${Object.entries(opts.expectHyperParams ?? {}).map(([s, n]) => `${s}/${n.join(`, ${s}/`)}`).join(', ') || 'some parameters'}`);
    }
    ui.timings['compare-hyper-params'] = Date.now() - t2;
    return { scalarsUrl, hyperParamsUrl, metrics, charts, hyperParams, screenshots: shots };
  } catch (e) {
    if (e instanceof ClearmlWebUiCheckError) throw e;
    return await ui.fail(step, String(e instanceof Error ? e.message : e).split('\n')[0]!);
  }
}
