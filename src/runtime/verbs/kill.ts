// kill: sends a signal to the container's init, or with `all` to every
// process in it.
import { containerCgroup } from '../cgroup.ts';
import type { RuntimeContext } from '../context.ts';
import { RuntimeError } from '../errors.ts';
import { containerPids } from '../state/pids.ts';
import { liveStatus } from '../state/status.ts';

export async function kill(ctx: RuntimeContext, id: string, signal: number, all = false): Promise<void> {
  const rec = ctx.store.read(id);
  const cg = containerCgroup(rec);
  const status = liveStatus(ctx.store, rec, cg);
  if (status === 'stopped' && !all) throw new RuntimeError('container not running');
  if (all) {
    if (cg) { await cg.killAll(signal); return; }
    for (const p of containerPids(rec, cg)) try { process.kill(p, signal); } catch { /* exited */ }
    return;
  }
  try {
    process.kill(rec.pid, signal);
  } catch (err) {
    throw new RuntimeError(`kill ${rec.pid}: ${(err as Error).message}`);
  }
}
