// Column alignment as docker's tables use Go's text/tabwriter
// (minwidth 10, tabwidth 1, padding 3, padchar ' '): cells are tab-separated,
// each column is as wide as its widest cell plus the padding; the last
// cell of a line is not padded.
export function tabwrite(lines: string[], opts: { minWidth?: number; padding?: number } = {}): string {
  const minWidth = opts.minWidth ?? 10;
  const padding = opts.padding ?? 3;
  const rows = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((cell, i) => {
      if (i === r.length - 1) return; // text after the last tab is not a column cell
      widths[i] = Math.max(widths[i] ?? 0, width(cell) + padding, minWidth);
    });
  }
  return rows
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - width(cell)))).join(''))
    .join('\n') + (rows.length ? '\n' : '');
}

/** Display width: code points, not UTF-16 units (names may hold non-ASCII). */
function width(s: string): number {
  return [...s].length;
}
