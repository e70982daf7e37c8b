// The apply worker thread: runs the filesystem side of layer applications
// (apply-writer.ts) so that its system calls (file creation costs hundreds of
// microseconds each here) overlap the download, inflation, hashing and tar
// parsing on the main thread. One worker serves every application of the
// process; each is a session whose batches run in the order they came.
import { parentPort } from 'node:worker_threads';
import type { ApplyTarget } from '../snapshots/types.ts';
import { ApplySession } from './apply-writer.ts';
import type { ApplyOp } from './apply-writer.ts';

export type ToWorker =
  | { t: 'open'; id: number; target: ApplyTarget }
  | { t: 'batch'; id: number; ops: ApplyOp[]; data: ArrayBuffer; bytes: number }
  | { t: 'finish'; id: number }
  | { t: 'abort'; id: number };

export type FromWorker =
  | { t: 'ack'; id: number; bytes: number }
  | { t: 'done'; id: number; assumed?: string[][] }
  | { t: 'error'; id: number; error: SerializedError };

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  entry?: string;
}

export function serializeError(e: unknown): SerializedError {
  const err = e instanceof Error ? e : new Error(String(e));
  const out: SerializedError = { name: err.name, message: err.message };
  const code = (err as NodeJS.ErrnoException).code;
  if (code) out.code = code;
  const entry = (err as { entry?: unknown }).entry;
  if (typeof entry === 'string') out.entry = entry;
  return out;
}

if (parentPort) {
  const port = parentPort;
  const sessions = new Map<number, ApplySession>();
  /** sessions that failed: their later messages are dropped */
  const failed = new Set<number>();
  port.on('message', (m: ToWorker) => {
    if (failed.has(m.id)) {
      // The failure was reported; the main side ends the session with finish or abort.
      if (m.t === 'abort' || m.t === 'finish') {
        failed.delete(m.id);
        port.postMessage({ t: 'done', id: m.id } satisfies FromWorker);
      }
      return;
    }
    try {
      switch (m.t) {
        case 'open':
          sessions.set(m.id, new ApplySession(m.target));
          break;
        case 'batch':
          sessions.get(m.id)?.run(m.ops, m.data);
          port.postMessage({ t: 'ack', id: m.id, bytes: m.bytes } satisfies FromWorker);
          break;
        case 'finish': {
          const s = sessions.get(m.id);
          sessions.delete(m.id);
          const assumed = s?.finish() ?? [];
          port.postMessage({ t: 'done', id: m.id, ...(assumed.length ? { assumed } : {}) } satisfies FromWorker);
          break;
        }
        case 'abort':
          sessions.get(m.id)?.abort();
          sessions.delete(m.id);
          port.postMessage({ t: 'done', id: m.id } satisfies FromWorker);
          break;
      }
    } catch (e) {
      sessions.get(m.id)?.abort();
      sessions.delete(m.id);
      port.postMessage({ t: 'error', id: m.id, error: serializeError(e) } satisfies FromWorker);
      if (m.t === 'finish' || m.t === 'abort') port.postMessage({ t: 'done', id: m.id } satisfies FromWorker);
      else failed.add(m.id);
    }
  });
}
