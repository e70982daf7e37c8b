// events: the container's cgroup stats (once with --stats, else every
// interval) and OOM kills, one JSON object per line, until it stops.
import { containerCgroup } from '../cgroup.ts';
import type { RuntimeContext } from '../context.ts';
import { RuntimeError } from '../errors.ts';
import { liveStatus } from '../state/status.ts';

export function parseInterval(s: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(s);
  if (!m) throw new RuntimeError(`invalid interval ${JSON.stringify(s)}`);
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60000, h: 3600000 }[(m[2] ?? 's') as 'ms'];
  if (ms <= 0) throw new RuntimeError('duration interval must be greater than 0');
  return ms;
}

export async function events(ctx: RuntimeContext, id: string, o: { stats?: boolean; intervalMs?: number }, emit: (event: object) => void): Promise<void> {
  const rec = ctx.store.read(id);
  const cg = containerCgroup(rec);
  if (!cg) throw new RuntimeError(`container ${id} has no cgroup`);
  if (liveStatus(ctx.store, rec, cg) === 'stopped') throw new RuntimeError(`container with id ${id} is not running`);
  const stats = (): void => emit({ type: 'stats', id, data: cg.stats() });
  if (o.stats) { stats(); return; }
  const stop = cg.onOom(() => emit({ type: 'oom', id }));
  try {
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        if (liveStatus(ctx.store, rec, cg) === 'stopped') { clearInterval(t); resolve(); return; }
        try { stats(); } catch { /* the cgroup went with the container */ }
      };
      const t = setInterval(tick, o.intervalMs ?? 5000);
    });
  } finally {
    stop();
  }
}
