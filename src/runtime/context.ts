// What every verb gets: where state lives and where messages go.
import type { HookIo } from './hooks.ts';
import { StateStore } from './state/store.ts';

export interface RuntimeContext {
  store: StateStore;
  warn(msg: string): void;
  debug(msg: string): void;
  /** Where the runtime's hooks write and run (default: this process's stdout, stderr, cwd). */
  hookIo?: HookIo;
}

export const DEFAULT_ROOT = '/run/dray-runc';

export function runtimeContext(o: { root?: string; warn?: (m: string) => void; debug?: (m: string) => void; hookIo?: HookIo } = {}): RuntimeContext {
  return {
    store: new StateStore(o.root ?? DEFAULT_ROOT),
    warn: o.warn ?? (() => {}),
    debug: o.debug ?? (() => {}),
    ...(o.hookIo ? { hookIo: o.hookIo } : {}),
  };
}
