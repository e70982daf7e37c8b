// pause and resume: the cgroup freezer (v1 freezer.state, v2 cgroup.freeze).
import { containerCgroup } from '../cgroup.ts';
import type { RuntimeContext } from '../context.ts';
import { RuntimeError } from '../errors.ts';
import { liveStatus } from '../state/status.ts';

export async function pause(ctx: RuntimeContext, id: string): Promise<void> {
  const rec = ctx.store.read(id);
  const cg = containerCgroup(rec);
  if (!cg) throw new RuntimeError(`container ${id} has no cgroup to freeze`);
  const unlock = ctx.store.lock(id);
  try {
    const s = liveStatus(ctx.store, rec, cg);
    if (s !== 'running' && s !== 'created') throw new RuntimeError(`container not running or created: ${s}`);
    await cg.freeze();
  } finally {
    unlock();
  }
}

export async function resume(ctx: RuntimeContext, id: string): Promise<void> {
  const rec = ctx.store.read(id);
  const cg = containerCgroup(rec);
  if (!cg) throw new RuntimeError(`container ${id} has no cgroup to thaw`);
  const unlock = ctx.store.lock(id);
  try {
    if (liveStatus(ctx.store, rec, cg) !== 'paused') throw new RuntimeError('container not paused');
    await cg.thaw();
  } finally {
    unlock();
  }
}
