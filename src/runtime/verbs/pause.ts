// pause and resume: the cgroup freezer (v1 freezer.state, v2 cgroup.freeze).
import { containerCgroup, type CgroupManager } from '../cgroup.ts';
import type { RuntimeContext } from '../context.ts';
import { RuntimeError } from '../errors.ts';
import { liveStatus, type Status } from '../state/status.ts';

async function withFreezer(ctx: RuntimeContext, id: string, fn: (cg: CgroupManager, status: Status) => Promise<void>): Promise<void> {
  const rec = ctx.store.read(id);
  const cg = containerCgroup(rec);
  if (!cg) throw new RuntimeError(`container ${id} has no cgroup to freeze`);
  const unlock = ctx.store.lock(id);
  try {
    await fn(cg, liveStatus(ctx.store, rec, cg));
  } finally {
    unlock();
  }
}

export function pause(ctx: RuntimeContext, id: string): Promise<void> {
  return withFreezer(ctx, id, async (cg, s) => {
    if (s !== 'running' && s !== 'created') throw new RuntimeError(`container not running or created: ${s}`);
    await cg.freeze();
  });
}

export function resume(ctx: RuntimeContext, id: string): Promise<void> {
  return withFreezer(ctx, id, async (cg, s) => {
    if (s !== 'paused') throw new RuntimeError('container not paused');
    await cg.thaw();
  });
}
