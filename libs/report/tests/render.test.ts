import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { marked, type Token, type Tokens } from 'marked';
import { analyzeReport, buildCharts, ci, fmt, renderMarkdown, renderReport, ReportRenderError, renderSvg, svgToPng, writeReport } from '../src/index.js';
import { committedInput, MODELS, tinyModelsInput } from './fixture.js';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Every token of a marked token tree, depth first. */
function walk(tokens: Token[], out: Token[] = []): Token[] {
  for (const t of tokens) {
    out.push(t);
    const children = (t as { tokens?: Token[] }).tokens;
    if (children) walk(children, out);
    if (t.type === 'table') {
      const tt = t as Tokens.Table;
      for (const cell of [...tt.header, ...tt.rows.flat()]) walk(cell.tokens, out);
    }
    if (t.type === 'list') for (const item of (t as Tokens.List).items) walk(item.tokens, out);
  }
  return out;
}

describe('charts', () => {
  const a = analyzeReport(tinyModelsInput({ testRows: 600, epochs: 12 }).input, { maxCurvePoints: 60 });
  const charts = buildCharts(a);
  it('one per model for learning curves, then bars, ROC, PR, confusion, cost', () => {
    expect(charts.map((c) => c.id)).toEqual([...MODELS.map((m) => `learning-${m}`), 'metric-bars', 'roc', 'pr', 'confusion', 'cost']);
  });
  it('render to SVG with their axis titles and series, and to PNG', async () => {
    for (const c of charts) {
      const svg = await renderSvg(c);
      expect(svg.startsWith('<svg')).toBe(true);
      for (const t of [...c.axes, ...c.series]) expect(svg, `${c.id}: ${t}`).toContain(`>${t}<`);
      expect(svg).not.toMatch(/https?:\/\/(?!www\.w3\.org\/)/); // no external reference (xmlns only)
    }
    const png = svgToPng(await renderSvg(charts[0]!));
    expect(png.subarray(0, 8)).toEqual(PNG_MAGIC);
  });
});

it('a chart Vega cannot render is a ReportRenderError naming it', async () => {
  const error = await renderSvg({ id: 'broken', spec: { mark: 'bar', encoding: { x: { field: 'a', type: 'quantitative' } }, data: { url: 'https://example.org/data.json' } } }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ReportRenderError);
  expect((error as ReportRenderError).code).toBe('ERR_REPORT_RENDER');
  expect((error as ReportRenderError).chart).toBe('broken');
  expect((error as Error).message).toMatch(/charts must not load anything/);
});

describe('HTML and Markdown from the tiny real models', () => {
  let dir: string;
  let written: Awaited<ReturnType<typeof writeReport>>;
  const f = tinyModelsInput({ testRows: 1500, epochs: 40 });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'report-test-'));
    written = await writeReport(f.input, { htmlFile: join(dir, 'report.html'), markdownFile: join(dir, 'md/report.md') });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('HTML is self-contained: no script, no stylesheet or image URL, no font download', () => {
    const html = written.html;
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/@import|url\((?!#)|@font-face/i); // url(#clip) = a reference inside the page
    expect(html).not.toMatch(/<img/i);
    // The only URLs are the links to tracker runs (anchors) and SVG namespaces.
    const urls = [...html.matchAll(/https?:\/\/[^"'\s<>)]+/g)].map((m) => m[0]);
    const allowed = new Set([...f.input.models.map((m) => m.links!.mlflowRunUrl!), 'http://127.0.0.1:5000/', 'http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink']);
    for (const u of urls) expect(allowed, u).toContain(u);
  });

  it('has every section, each saying where its numbers come from', () => {
    for (const s of written.sections) {
      expect(written.html).toContain(`<section id="${s.id}"`);
      expect(s.unavailable ?? s.source, s.id).toBeTruthy();
    }
    expect(written.sections.filter((s) => s.unavailable)).toEqual([]);
  });

  it('the numbers in the ranking and metrics tables are those of the eval files', () => {
    for (const m of f.input.models) {
      const e = m.eval!;
      for (const k of ['roc_auc', 'accuracy', 'f1', 'log_loss'] as const) {
        expect(written.html, `${m.name} ${k}`).toContain(fmt(e[k]!));
        expect(written.markdown, `${m.name} ${k}`).toContain(fmt(e[k]!));
      }
      const iv = written.analysis.bootstrap.available ? written.analysis.bootstrap.value.models[m.name]!.roc_auc : undefined;
      expect(written.markdown).toContain(ci(iv!.lo, iv!.hi));
    }
    // Dataset section: the DVC md5 and the data-quality counts.
    expect(written.html).toContain(f.input.dataset!.md5!);
    expect(written.markdown).toContain('80,110');
  });

  it('Markdown: every image is a PNG file next to it, every table is well formed', async () => {
    const tokens = walk(marked.lexer(written.markdown));
    const images = tokens.filter((t): t is Tokens.Image => t.type === 'image');
    expect(images.length).toBe(written.charts.length);
    for (const img of images) {
      expect(img.href.startsWith('report-images/')).toBe(true);
      const file = join(dirname(written.markdownFile), decodeURIComponent(img.href));
      expect((await stat(file)).size).toBeGreaterThan(1000);
      expect((await readFile(file)).subarray(0, 8)).toEqual(PNG_MAGIC);
    }
    const tables = tokens.filter((t): t is Tokens.Table => t.type === 'table');
    expect(tables.length).toBeGreaterThanOrEqual(8);
    for (const t of tables) {
      expect(t.header.length).toBeGreaterThan(1);
      for (const row of t.rows) expect(row).toHaveLength(t.header.length);
    }
    const ranking = tables.find((t) => t.header[0]!.text === 'rank')!;
    expect(ranking.rows.map((r) => r[1]!.text.replaceAll('*', '').replaceAll('\\', ''))).toEqual([...written.analysis.ranking.map((r) => r.model), 'majority_class (baseline)']);
    // The rendered HTML of the Markdown shows headings for every section.
    const html = await marked.parse(written.markdown);
    const h2 = [...html.matchAll(/<h2>(.*?)<\/h2>/g)].map((m) => m[1]!.replace(/<\/?code>/g, '`'));
    expect(h2).toEqual(written.sections.map((s) => s.title));
    expect(html.match(/<table>/g)).toHaveLength(tables.length);
  });

  it('shows the dvc metrics diff and dvc exp show tables it was given', () => {
    const tables = walk(marked.lexer(written.markdown)).filter((t): t is Tokens.Table => t.type === 'table');
    const diff = tables.find((t) => t.header.map((h) => h.text).join('|') === 'file|metric|HEAD~1|workspace|change')!;
    const given = (f.input.dvc!.metricsDiff as { diff: Record<string, Record<string, { old: number; new: number; diff: number }>> }).diff['metrics/eval/mlp_wide.json']!;
    expect(diff.rows.map((r) => r.map((c) => c.text.replaceAll('\\', '')))).toEqual([
      ['metrics/eval/mlp_wide.json', 'roc_auc', fmt(given['roc_auc']!.old), fmt(given['roc_auc']!.new), expect.stringMatching(/^[+−]\d/)],
      ['metrics/eval/mlp_wide.json', 'accuracy', fmt(given['accuracy']!.old), fmt(given['accuracy']!.new), expect.stringMatching(/^[+−]\d/)],
    ]);
    const exp = tables.find((t) => t.header[0]!.text === 'experiment')!;
    expect(exp.rows.map((r) => r[0]!.text)).toEqual(['workspace', 'main', 'dropout-02']);
    expect(exp.header.map((h) => h.text)).toContain('param models.mlp_small.dropout');
  });

  it('Markdown can link the images at a published URL (job summary, PR comment)', () => {
    const md = renderMarkdown(written.analysis, written.sections, { imageBaseUrl: 'https://example.org/run/42/' });
    const images = walk(marked.lexer(md)).filter((t): t is Tokens.Image => t.type === 'image');
    expect(images.map((i) => i.href)).toEqual(written.charts.map((c) => `https://example.org/run/42/${c.id}.png`));
  });

  it('Markdown can leave images out (a PR comment without a place for files)', async () => {
    const r = await renderReport(f.input, { markdown: { images: 'omit' }, png: { scale: 1 } });
    expect(r.images).toEqual([]);
    expect(walk(marked.lexer(r.markdown)).some((t) => t.type === 'image')).toBe(false);
  });
});

describe('a report from the committed DVC files only', () => {
  it('renders; what has no source says so (no predictions, no history, no cost, no dvc tables)', async () => {
    const r = await renderReport(committedInput(), { png: { scale: 1 } });
    const unavailable = Object.fromEntries(r.sections.filter((s) => s.unavailable).map((s) => [s.id, s.unavailable]));
    expect(Object.keys(unavailable).sort()).toEqual(['cost', 'differences', 'exp-show', 'learning-curves', 'metrics-diff', 'params', 'pr', 'trackers'].sort());
    expect(unavailable['differences']).toMatch(/no test predictions/);
    for (const id of Object.keys(unavailable)) expect(r.html).toMatch(new RegExp(`<section id="${id}" data-unavailable="true">.*?Unavailable:`, 's'));
    // ROC from plots/<model>/roc.json, its area within 0.002 of the eval file's AUC (the plot file keeps ~200 points).
    for (const m of r.analysis.models) {
      const area = m.roc.available ? m.roc.value.curves[0]!.area : Number.NaN;
      expect(Math.abs(area - (m.metrics.available ? m.metrics.value.roc_auc! : 0))).toBeLessThan(0.002);
    }
    expect(r.charts.map((c) => c.id)).toEqual(['metric-bars', 'roc', 'confusion']);
    expect(r.markdown).toContain('> Unavailable: no test predictions');
    // A tracker that could not be reached: its section says so, the rest is unchanged.
    const down = await renderReport({ ...committedInput(), trackers: [{ name: 'MLflow', status: 'unavailable', detail: 'connection refused at http://127.0.0.1:5000' }] }, { markdown: { images: 'omit' } });
    expect(down.markdown).toContain('MLflow was unavailable (connection refused at http://127.0.0.1:5000): its links may not open, and nothing in this report depends on it.');
    expect(down.sections.find((s) => s.id === 'trackers')!.unavailable).toBeUndefined();
    expect(down.sections.filter((s) => s.id !== 'trackers').map((s) => s.unavailable)).toEqual(r.sections.filter((s) => s.id !== 'trackers').map((s) => s.unavailable));
  });
});
