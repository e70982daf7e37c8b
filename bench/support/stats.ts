// What every side-by-side benchmark shares: timing a run, medians, the
// Dray/peer ratio, and one table printed the same way everywhere.
import { performance } from 'node:perf_hooks';

/** The median of the samples (mean of the middle two for an even count). */
export function median(samples: number[]): number {
  if (samples.length === 0) throw new Error('median of no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** ours / theirs: below 1 means Dray is faster (for times). */
export function ratio(ours: number, theirs: number): number {
  return theirs === 0 ? Number.POSITIVE_INFINITY : ours / theirs;
}

/** Runs `fn` `warmup` times unmeasured, then `runs` times; returns each run's milliseconds. */
export async function timeRuns(fn: () => unknown, runs: number, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

export interface BenchRow {
  /** What was measured, e.g. "run --rm busybox true". */
  name: string;
  /** Samples in milliseconds. */
  dray: number[];
  peer: number[];
}

/** Prints name | Dray median | peer median | ratio as an aligned text table; returns it too. */
export function printTable(rows: BenchRow[], peerName = 'peer', out: (line: string) => void = (l) => console.log(l)): string {
  const header = ['benchmark', 'dray median ms', `${peerName} median ms`, 'ratio', 'runs'];
  const body = rows.map((r) => {
    const a = median(r.dray);
    const b = median(r.peer);
    return [r.name, a.toFixed(2), b.toFixed(2), ratio(a, b).toFixed(2), `${r.dray.length}/${r.peer.length}`];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const lines = [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(fmt)];
  for (const l of lines) out(l);
  return lines.join('\n');
}
