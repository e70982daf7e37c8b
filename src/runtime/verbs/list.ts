// list: every container under --root, as runc prints them.
import { containerCgroup } from '../cgroup.ts';
import type { RuntimeContext } from '../context.ts';
import { liveStatus, ociState } from '../state/status.ts';

export async function list(ctx: RuntimeContext): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const id of ctx.store.ids()) {
    let rec;
    try { rec = ctx.store.read(id); } catch { continue; }
    out.push(ociState(rec, liveStatus(ctx.store, rec, containerCgroup(rec))));
  }
  return out;
}

/** runc's table: tabwriter with a minimum width of 12 and 3 spaces of padding. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(12, ...rows.map((r) => (r[c] ?? '').length + 3)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('')).join('\n') + '\n';
}
