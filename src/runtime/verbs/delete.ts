// delete: removes a stopped (or, with force, any) container: kills what is
// left, runs the poststop hooks, removes its cgroup and state.
import { containerCgroup, removeCgroup } from '../cgroup.ts';
import type { RuntimeContext } from '../context.ts';
import { RuntimeError } from '../errors.ts';
import { runHooksWarn } from '../hooks.ts';
import { containerPids } from '../state/pids.ts';
import { isSameProcess, sleepSync } from '../state/proc.ts';
import { hookState, liveStatus } from '../state/status.ts';

const KILL_WAIT_MS = 10000;

export async function del(ctx: RuntimeContext, id: string, force = false): Promise<void> {
  const { store } = ctx;
  let rec;
  try {
    rec = store.read(id);
  } catch (err) {
    // A directory without state.json is what an interrupted create leaves.
    if (force || store.ids().includes(id)) { store.remove(id); if (force) return; }
    throw err;
  }
  const unlock = store.lock(id);
  try {
    const cg = containerCgroup(rec);
    const status = liveStatus(store, rec, cg);
    if ((status === 'running' || status === 'paused') && !force) throw new RuntimeError(`cannot delete container ${id} that is not stopped: ${status}`);
    if (status !== 'stopped') {
      if (status === 'paused' && cg) await cg.thaw();
      if (cg) await cg.killAll(9);
      else for (const p of containerPids(rec, cg)) try { process.kill(p, 9); } catch { /* exited */ }
      try { process.kill(rec.pid, 9); } catch { /* exited */ }
      const deadline = Date.now() + KILL_WAIT_MS;
      for (let i = 0; isSameProcess(rec.pid, rec.initStartTime) && Date.now() < deadline; i++) sleepSync(i < 20 ? 0.1 : 5);
    }
    await runHooksWarn('poststop', rec.config.hooks?.poststop, hookState(rec, 'stopped'), ctx.warn, ctx.hookIo);
    if (cg) await removeCgroup(cg);
    store.remove(id);
  } finally {
    unlock();
  }
}
