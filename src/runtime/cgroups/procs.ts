// Processes of a cgroup subtree, and signalling them.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readOpt, subtreeDeepestFirst } from './fsio.ts';

export function readProcs(dir: string): number[] {
  const out = new Set<number>();
  for (const d of subtreeDeepestFirst(dir)) {
    for (const line of (readOpt(join(d, 'cgroup.procs')) ?? '').split('\n')) {
      if (/^\d+$/.test(line.trim())) out.add(Number(line));
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** Signals each pid; a process that exited meanwhile (ESRCH) is not an error. */
export function signalAll(pids: readonly number[], signal: NodeJS.Signals | number): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

/**
 * Polls until done() or the budget (attempts x delayMs) runs out; returns
 * whether done. The first polls come after 1 ms, growing to delayMs: what
 * is waited for (a freeze, a killed task leaving) usually takes well under
 * a millisecond, and a CLI verb pays every sleep in full.
 */
export async function waitFor(done: () => boolean, attempts = 200, delayMs = 5, onRetry?: (i: number) => void): Promise<boolean> {
  const deadline = Date.now() + attempts * delayMs;
  for (let i = 0; Date.now() < deadline; i++) {
    if (done()) return true;
    onRetry?.(i);
    await sleep(Math.min(delayMs, 1 + (i >> 2)));
  }
  return done();
}

/** After SIGKILL: wait (bounded, ~2 s) until the cgroup is empty, so destroy() right after finds no task. */
export async function settleAfterKill(signal: NodeJS.Signals | number, pids: () => number[]): Promise<void> {
  if (signal === 'SIGKILL' || signal === 9) await waitFor(() => pids().length === 0, 200, 10);
}
