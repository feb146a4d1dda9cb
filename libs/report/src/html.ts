/**
 * The HTML report: one self-contained file. Charts are inline SVG, styles an inline `<style>`, fonts the system's;
 * no script, no external URL besides the links to the trackers' runs, so it reads the same offline, in a mail
 * attachment or with JavaScript disabled.
 */
import type { Analysis } from './analyze.js';
import type { RenderedChart } from './charts.js';
import type { Block, Cell, Section } from './sections.js';

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Inline code spans written as `x` in section titles. */
const inline = (s: string): string => escapeHtml(s).replace(/`([^`]+)`/g, '<code>$1</code>');

const CSS = `
:root { color-scheme: light; }
body { font-family: DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1.5rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.25rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2rem; }
.meta, .source { color: #555; font-size: .9rem; } .source::before { content: "Source: "; font-weight: bold; }
.unavailable { background: #fff7e6; border-left: 4px solid #f0ad4e; padding: .4rem .8rem; }
nav ol { columns: 3; font-size: .9rem; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .88rem; } th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; } tr.differs td { background: #fff3cd; }
figure { margin: .8rem 0; overflow-x: auto; } figure svg { max-width: none; height: auto; } figcaption { font-size: .85rem; color: #555; }
ul.conclusions li { margin: .35rem 0; } li.warning::marker { content: "⚠ "; } li.info::marker { content: "✓ "; }
code { background: #f3f3f3; padding: 0 .2rem; }
`;

function cellHtml(c: Cell, numeric: boolean, tag: 'td' | 'th' = 'td'): string {
  const cls = numeric ? ' class="num"' : '';
  if (typeof c === 'string') return `<${tag}${cls}>${escapeHtml(c)}</${tag}>`;
  let inner = escapeHtml(c.text);
  if (c.href) inner = `<a href="${escapeHtml(c.href)}">${inner}</a>`;
  if (c.strong) inner = `<strong>${inner}</strong>`;
  return `<${tag}${cls}>${inner}</${tag}>`;
}

function blockHtml(b: Block, svgOf: (id: string) => string | undefined): string {
  switch (b.kind) {
    case 'p':
      return `<p>${inline(b.text)}</p>`;
    case 'conclusions':
      return b.items.length === 0
        ? '<p>No conclusions: the data needed for them is unavailable (see the sections below).</p>'
        : `<ul class="conclusions">${b.items.map((c) => `<li class="${c.severity}" id="conclusion-${escapeHtml(c.id.replaceAll(':', '-'))}" data-conclusion="${escapeHtml(c.id)}" data-numbers="${escapeHtml(JSON.stringify(c.numbers))}">${escapeHtml(c.text)} <span class="source">${escapeHtml(c.source)}</span></li>`).join('')}</ul>`;
    case 'table': {
      const head = `<thead><tr>${b.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>`;
      const rows = b.rows.map((r, i) => `<tr${b.highlight?.[i] ? ' class="differs"' : ''}>${r.map((c, j) => cellHtml(c, b.numeric?.[j] ?? false)).join('')}</tr>`).join('');
      return `<table id="${escapeHtml(b.id)}">${head}<tbody>${rows}</tbody></table>`;
    }
    case 'chart': {
      const svg = svgOf(b.chart.id) ?? '';
      return `<figure class="chart" id="chart-${escapeHtml(b.chart.id)}" data-chart="${escapeHtml(b.chart.id)}" data-series="${escapeHtml(JSON.stringify(b.chart.series))}" data-axes="${escapeHtml(JSON.stringify(b.chart.axes))}">${svg}<figcaption>${escapeHtml(b.chart.title)}. Source: ${escapeHtml(b.chart.source)}</figcaption></figure>`;
    }
  }
}

function sectionHtml(s: Section, svgOf: (id: string) => string | undefined): string {
  const body = s.unavailable
    ? `<p class="unavailable">Unavailable: ${escapeHtml(s.unavailable)}.</p>`
    : `${s.source ? `<p class="source">${escapeHtml(s.source)}</p>` : ''}${s.blocks.map((b) => blockHtml(b, svgOf)).join('\n')}`;
  return `<section id="${escapeHtml(s.id)}"${s.unavailable ? ' data-unavailable="true"' : ''}><h2>${inline(s.title)}</h2>\n${body}</section>`;
}

/** The whole HTML document. */
export function renderHtml(a: Analysis, sections: readonly Section[], charts: readonly RenderedChart[]): string {
  const svgOf = (id: string) => charts.find((c) => c.id === id)?.svg;
  const meta = [
    a.input.generatedAt ? `generated ${a.input.generatedAt}` : '',
    a.input.git?.commit ? `commit ${a.input.git.commit.slice(0, 12)}${a.input.git.dirty ? ' (uncommitted changes)' : ''}` : '',
    a.input.git?.branch ? `branch ${a.input.git.branch}` : '',
    `${a.models.length} models, ${a.task}, classes ${a.classes.join(' / ')}`,
  ].filter(Boolean);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(a.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${escapeHtml(a.title)}</h1><p class="meta">${escapeHtml(meta.join(' · '))}</p></header>
<nav><ol>${sections.map((s) => `<li><a href="#${escapeHtml(s.id)}">${inline(s.title)}</a>${s.unavailable ? ' (unavailable)' : ''}</li>`).join('')}</ol></nav>
<main>
${sections.map((s) => sectionHtml(s, svgOf)).join('\n')}
</main>
</body>
</html>
`;
}
