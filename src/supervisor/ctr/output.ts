// Output helpers of dray-ctr: aligned tables (as ctr prints them) and labels.
import type { Labels, Timestamp } from '../api/types.ts';
import { fromTimestamp } from '../api/types.ts';
import { UsageError, parseCommandLine } from '../../common/command-line.ts';

export function table(out: NodeJS.WritableStream, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 4))).join('').trimEnd();
  out.write(line(header) + '\n');
  for (const r of rows) out.write(line(r) + '\n');
}

export function formatLabels(labels: Labels): string {
  const s = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(',');
  return s || '-';
}

/** "k=v" arguments to a label map ("k" alone, or "k=": an empty value, which removes the label on update). */
export function parseLabels(args: readonly string[]): Labels {
  const out: Labels = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    const k = eq < 0 ? a : a.slice(0, eq);
    if (!k) throw new UsageError(`bad label ${JSON.stringify(a)}: want key=value`);
    out[k] = eq < 0 ? '' : a.slice(eq + 1);
  }
  return out;
}

export function time(t: Timestamp | null | undefined): string {
  return fromTimestamp(t)?.toISOString() ?? '-';
}

/** The `ls [-q] [FILTER…]` form every list command shares. */
export function listArgs(args: string[]): { quiet: boolean; filters: string[] } {
  const { values, positionals } = parseCommandLine({ usage: '', description: '', flags: [{ name: 'quiet', short: 'q', type: 'boolean', description: '' }] }, args);
  return { quiet: values['quiet'] === true, filters: positionals };
}

/** `label ID KEY=VALUE…` as an update: the labels to set and the mask paths ("KEY=" removes KEY). */
export function labelUpdate(args: readonly string[]): { set: Labels; paths: string[] } {
  const parsed = parseLabels(args);
  return { set: Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== '')), paths: Object.keys(parsed).map((k) => `labels.${k}`) };
}
