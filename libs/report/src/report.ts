/**
 * The one-call API: analyse the input, build and render the charts, lay out HTML and Markdown, and (for
 * `writeReport`) write them with the Markdown's PNGs beside it.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { analyzeReport, type Analysis, type AnalyzeOptions } from './analyze.js';
import { buildCharts, renderCharts, svgToPng, type PngOptions, type RenderedChart } from './charts.js';
import { renderHtml } from './html.js';
import { renderMarkdown, type MarkdownOptions } from './markdown.js';
import type { ReportInput } from './schema.js';
import { buildSections, type Section } from './sections.js';

export interface RenderReportOptions extends AnalyzeOptions {
  markdown?: MarkdownOptions;
  png?: PngOptions;
}

export interface RenderedReport {
  analysis: Analysis;
  charts: RenderedChart[];
  sections: Section[];
  html: string;
  markdown: string;
  /** The PNG of each chart, named as the Markdown links it (relative to the .md); empty with `markdown.images: 'omit'`. */
  images: { chartId: string; file: string; png: Buffer }[];
}

/** Everything in memory: validated input → analysis → charts (SVG, PNG) → HTML and Markdown strings. */
export async function renderReport(input: ReportInput | unknown, options: RenderReportOptions = {}): Promise<RenderedReport> {
  const analysis = analyzeReport(input, options);
  const charts = await renderCharts(buildCharts(analysis));
  const sections = buildSections(analysis, charts);
  const md = options.markdown ?? {};
  const imageDir = md.imageDir ?? 'report-images';
  const images = md.images === 'omit' ? [] : charts.map((c) => ({ chartId: c.id, file: `${imageDir}/${c.id}.png`, png: svgToPng(c.svg, options.png, c.id) }));
  return { analysis, charts, sections, html: renderHtml(analysis, sections, charts), markdown: renderMarkdown(analysis, sections, { ...md, imageDir }), images };
}

export interface WriteReportOptions extends RenderReportOptions {
  /** Default `reports/report.html`. */
  htmlFile?: string;
  /** Default `reports/report.md`; its PNGs go to `<its folder>/<markdown.imageDir ?? 'report-images'>/`, which is replaced whole. */
  markdownFile?: string;
}

export interface WrittenReport extends RenderedReport {
  htmlFile: string;
  markdownFile: string;
  imageFiles: string[];
}

async function writeAtomic(file: string, data: string | Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

/** Renders the report and writes the HTML file, the Markdown file and its PNG folder. */
export async function writeReport(input: ReportInput | unknown, options: WriteReportOptions = {}): Promise<WrittenReport> {
  const htmlFile = resolve(options.htmlFile ?? 'reports/report.html');
  const markdownFile = resolve(options.markdownFile ?? 'reports/report.md');
  const report = await renderReport(input, options);
  const imageDir = options.markdown?.imageDir ?? 'report-images';
  const imagesAbs = resolve(dirname(markdownFile), imageDir);
  if (relative(dirname(markdownFile), imagesAbs).startsWith('..') || imagesAbs === dirname(markdownFile)) {
    throw new RangeError(`markdown.imageDir must be a folder inside ${dirname(markdownFile)} (got ${imageDir})`);
  }
  await rm(imagesAbs, { recursive: true, force: true });
  const imageFiles: string[] = [];
  for (const img of report.images) {
    const file = join(dirname(markdownFile), img.file);
    await writeAtomic(file, img.png);
    imageFiles.push(file);
  }
  await writeAtomic(markdownFile, report.markdown);
  await writeAtomic(htmlFile, report.html);
  return { ...report, htmlFile, markdownFile, imageFiles };
}
