/**
 * The Markdown report, for pull-request comments, the CI job summary and the repository view. Charts are PNG files
 * next to the .md (`<imageDir>/<chart>.png`), linked relatively: GitHub renders them when the .md is viewed in the
 * repository, and strips `data:` image URIs everywhere, so data URIs are not an option. Where the .md is pasted
 * elsewhere (a PR comment, `$GITHUB_STEP_SUMMARY`), relative files cannot resolve: pass `imageBaseUrl` (where the
 * PNGs are published, e.g. a CI artifact or raw URL) or `images: 'omit'` to leave the charts out; every table and
 * conclusion is text and stands without them.
 */
import type { Analysis } from './analyze.js';
import type { Block, Cell, Section } from './sections.js';

export interface MarkdownOptions {
  /** Folder of the PNGs relative to the .md (default `report-images`). */
  imageDir?: string;
  /** Absolute URL prefix for the images instead of the relative folder. */
  imageBaseUrl?: string;
  /** `files` (default): link PNGs; `omit`: no images (text only). */
  images?: 'files' | 'omit';
}

const escapeCell = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const escapeText = (s: string): string => s.replace(/([\\*_[\]<>])/g, '\\$1');
/** Keeps `code` spans from section titles; escapes the rest. */
const escapeInline = (s: string): string => s.split(/(`[^`]+`)/).map((p) => (p.startsWith('`') ? p : escapeText(p))).join('');

function cellMd(c: Cell): string {
  if (typeof c === 'string') return escapeCell(c);
  let t = escapeCell(c.text);
  if (c.href) t = `[${t}](${c.href.replace(/\)/g, '%29').replace(/ /g, '%20')})`;
  return c.strong ? `**${t}**` : t;
}

/** The image path of a chart in the Markdown report. */
export function chartImagePath(chartId: string, options: MarkdownOptions = {}): string {
  const file = `${chartId}.png`;
  if (options.imageBaseUrl) return `${options.imageBaseUrl.replace(/\/$/, '')}/${encodeURIComponent(file)}`;
  return `${options.imageDir ?? 'report-images'}/${encodeURIComponent(file)}`;
}

function blockMd(b: Block, o: MarkdownOptions): string {
  switch (b.kind) {
    case 'p':
      return escapeInline(b.text);
    case 'conclusions':
      return b.items.length === 0
        ? 'No conclusions: the data needed for them is unavailable (see the sections below).'
        : b.items.map((c) => `- ${c.severity === 'warning' ? '⚠️' : '✅'} ${escapeText(c.text)} <sub>(${escapeText(c.id)}; ${escapeText(c.source)})</sub>`).join('\n');
    case 'table': {
      const head = `| ${b.head.map(escapeCell).join(' | ')} |`;
      const sep = `| ${b.head.map((_, j) => (b.numeric?.[j] ? '---:' : '---')).join(' | ')} |`;
      const rows = b.rows.map((r) => `| ${r.map(cellMd).join(' | ')} |`);
      return [head, sep, ...rows].join('\n');
    }
    case 'chart':
      if (o.images === 'omit') return `_${escapeText(b.chart.title)}: chart omitted (see the HTML report)._`;
      return `![${escapeText(b.chart.title)}](${chartImagePath(b.chart.id, o)})\n\n<sub>${escapeText(b.chart.title)}. Source: ${escapeText(b.chart.source)}</sub>`;
  }
}

function sectionMd(s: Section, o: MarkdownOptions): string {
  const head = `## ${escapeInline(s.title)}`;
  if (s.unavailable) return `${head}\n\n> Unavailable: ${escapeText(s.unavailable)}.`;
  return [head, ...(s.source ? [`_Source: ${escapeText(s.source)}_`] : []), ...s.blocks.map((b) => blockMd(b, o))].join('\n\n');
}

/** The whole Markdown document (the PNGs it links are written by `writeReport` or produced by `renderReport`). */
export function renderMarkdown(a: Analysis, sections: readonly Section[], options: MarkdownOptions = {}): string {
  const meta = [
    a.input.generatedAt ? `generated ${a.input.generatedAt}` : '',
    a.input.git?.commit ? `commit \`${a.input.git.commit.slice(0, 12)}\`${a.input.git.dirty ? ' (uncommitted changes)' : ''}` : '',
    `${a.models.length} models, ${a.task}, classes ${a.classes.join(' / ')}`,
  ].filter(Boolean);
  return `# ${escapeText(a.title)}\n\n${meta.join(' · ')}\n\n${sections.map((s) => sectionMd(s, options)).join('\n\n')}\n`;
}
