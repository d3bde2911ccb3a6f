/** One line of a chart: a label and (x, y) points. */
export interface Series {
  readonly label: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Renders a small self-contained SVG line chart (x log-scaled by default, for concurrency 1…32), so a person
 * can see the throughput curve without any plotting dependency.
 */
export function lineChartSvg(
  title: string,
  xLabel: string,
  yLabel: string,
  series: readonly Series[],
  options: { readonly logX?: boolean } = {},
): string {
  const logX = options.logX ?? true;
  const tx = (x: number) => (logX ? Math.log2(Math.max(1, x)) : x);
  const width = 720;
  const height = 420;
  const m = { left: 70, right: 170, top: 40, bottom: 50 };
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xMin = logX ? tx(Math.min(...xs)) : 0;
  const xMax = logX ? Math.max(1, tx(Math.max(...xs))) : Math.max(1, ...xs);
  const yMax = Math.max(1, ...ys) * 1.1;
  const px = (x: number) => m.left + ((tx(x) - xMin) / (xMax - xMin || 1)) * (width - m.left - m.right);
  const py = (y: number) => height - m.bottom - (y / yMax) * (height - m.top - m.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
    `<line x1="${m.left}" y1="${height - m.bottom}" x2="${width - m.right}" y2="${height - m.bottom}" stroke="#333"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${height - m.bottom}" stroke="#333"/>`,
    `<text x="${(m.left + width - m.right) / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(18 ${height / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const y = (yMax / 5) * i;
    parts.push(
      `<line x1="${m.left}" y1="${py(y)}" x2="${width - m.right}" y2="${py(y)}" stroke="#eee"/>`,
      `<text x="${m.left - 6}" y="${py(y) + 4}" text-anchor="end">${Math.round(y)}</text>`,
    );
  }
  const ticks = logX
    ? [...new Set(xs)].sort((a, b) => a - b)
    : Array.from({ length: 6 }, (_, i) => Math.round((xMax / 5) * i));
  for (const x of ticks) {
    parts.push(`<text x="${px(x)}" y="${height - m.bottom + 16}" text-anchor="middle">${x}</text>`);
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const path = s.points.map(
      (p, j) => `${j === 0 ? 'M' : 'L'}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`,
    );
    parts.push(`<path d="${path.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of s.points) parts.push(`<circle cx="${px(p[0])}" cy="${py(p[1])}" r="3" fill="${color}"/>`);
    const ly = m.top + 10 + i * 18;
    parts.push(
      `<rect x="${width - m.right + 12}" y="${ly - 9}" width="12" height="3" fill="${color}"/>`,
      `<text x="${width - m.right + 30}" y="${ly - 4}">${escapeXml(s.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
