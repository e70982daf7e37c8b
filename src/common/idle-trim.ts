// Gives memory back when a daemon goes quiet. After a burst of work the V8
// heap and glibc's malloc arenas stay at the size the burst needed; a daemon
// then idles for hours at its peak. Once no work was noted for `idleMs`, one
// full GC and malloc_trim(0) hand the free pages back (a few ms, once per
// quiet period, never while requests come in).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { native } from './native.ts';

let fullGc: (() => void) | undefined;
function gc(): void {
  if (!fullGc) {
    // --expose-gc at run time: the launchers' flags stay as they are
    setFlagsFromString('--expose-gc');
    fullGc = runInNewContext('gc') as () => void;
  }
  fullGc();
}

export class IdleTrimmer {
  #busy = true;
  #last = 0;
  #timer: NodeJS.Timeout;

  constructor(idleMs = 2000) {
    this.#timer = setInterval(() => {
      const now = Date.now();
      if (!this.#busy || now - this.#last < idleMs) return;
      this.#busy = false;
      gc();
      try { native().mallocTrim(); } catch { /* no addon built: the GC alone */ }
    }, Math.max(250, idleMs / 2));
    this.#timer.unref();
  }

  /** Notes work (a request): the next quiet period ends with a trim. */
  touch(): void {
    this.#busy = true;
    this.#last = Date.now();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
