// OOM-kill detection. Both versions keep a counter of OOM kills: v1 in
// memory.oom_control ("oom_kill", kernel >= 4.13), v2 in memory.events. We
// read the counter on an interval, and on v2 also when inotify says the file
// changed (the kernel notifies memory.events). v1's eventfd interface
// (cgroup.event_control) is not used: Node cannot wait on an arbitrary fd
// without a thread parked in read(2), and that eventfd fires on "under OOM",
// not on a kill; one small read per interval is cheaper than both.
import { watch, type FSWatcher } from 'node:fs';
import type { OomWatchOptions } from './manager.ts';

export function watchOomCounter(read: () => number, file: string | undefined, cb: (total: number) => void, opts: OomWatchOptions = {}): () => void {
  let last = safeRead(read, 0);
  let stopped = false;
  const check = (): void => {
    if (stopped) return;
    const now = safeRead(read, last);
    if (now > last) {
      last = now;
      cb(now);
    }
  };
  const timer = setInterval(check, opts.intervalMs ?? 250);
  let watcher: FSWatcher | undefined;
  if (file) {
    try {
      watcher = watch(file, { persistent: false }, check);
      watcher.on('error', () => watcher?.close());
    } catch {
      watcher = undefined; // polling alone still works
    }
  }
  return () => {
    stopped = true;
    clearInterval(timer);
    watcher?.close();
  };
}

/** A cgroup that vanished keeps its last count rather than throwing in a timer. */
function safeRead(read: () => number, fallback: number): number {
  try {
    return read();
  } catch {
    return fallback;
  }
}
