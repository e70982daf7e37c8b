// start: opens the exec fifo for reading, which lets the waiting container
// process through to execve; then runs the poststart hooks.
import { closeSync, constants, openSync, readSync, unlinkSync } from 'node:fs';
import { containerCgroup } from '../cgroup.ts';
import type { RuntimeContext } from '../context.ts';
import { RuntimeError } from '../errors.ts';
import { runHooksWarn } from '../hooks.ts';
import { isSameProcess, sleepSync } from '../state/proc.ts';
import { hookState, liveStatus } from '../state/status.ts';

const START_WAIT_MS = 30000;

export async function start(ctx: RuntimeContext, id: string): Promise<void> {
  const { store } = ctx;
  const rec = store.read(id);
  const unlock = store.lock(id);
  try {
    const status = liveStatus(store, rec, containerCgroup(rec));
    if (status === 'stopped') throw new RuntimeError('cannot start a container that has stopped');
    if (status !== 'created') throw new RuntimeError('cannot start an already running container');
    const fd = openSync(store.fifo(id), constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const buf = Buffer.alloc(1);
      const deadline = Date.now() + START_WAIT_MS;
      for (let i = 0; ; i++) {
        let n = 0;
        try { n = readSync(fd, buf, 0, 1, null); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err; }
        if (n === 1) break;
        // 0 = the init has not opened its end yet; EAGAIN = opened, not written yet.
        if (!isSameProcess(rec.pid, rec.initStartTime)) {
          // It may have opened the fifo, written and run to its end since the read above: then its byte is there.
          try { n = readSync(fd, buf, 0, 1, null); } catch { n = 0; }
          if (n === 1) break;
          throw new RuntimeError('container init exited before start');
        }
        if (Date.now() > deadline) throw new RuntimeError('timed out waiting for the container init to start');
        // The init is normally already blocked in open(): its byte follows within
        // microseconds, so poll finely at first (a CLI verb pays each sleep).
        sleepSync(i < 20 ? 0.05 : Math.min(10, 1 + (i >> 3)));
      }
    } finally {
      closeSync(fd);
    }
    unlinkSync(store.fifo(id));
    await runHooksWarn('poststart', rec.config.hooks?.poststart, hookState(rec, 'running'), ctx.warn, ctx.hookIo);
  } finally {
    unlock();
  }
}
