// An apply worker thread: runs whole layer applications (applyHere: inflate,
// diff_id hash, tar parsing and the filesystem side with its checks) off the
// thread that downloads, so that two layers applied at once run on two
// threads. Each application is a session fed with the layer's compressed
// bytes as they arrive; a chunk is acknowledged once the inflater took it,
// which bounds what is in flight.
import { readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { ApplyTarget } from '../snapshots/types.ts';
import { applyHere, GROW_ENDED, GROW_RESET, GROW_STATE, GROW_WAITING, growViews } from './apply.ts';
import type { ApplyOptions, ApplyResult } from './apply.ts';

export type ToWorker =
  | { t: 'open'; id: number; target: ApplyTarget; opts: ApplyOptions; grow?: { fd: number; size: number; shared: SharedArrayBuffer } }
  | { t: 'grow'; id: number }
  | { t: 'chunk'; id: number; data: ArrayBuffer }
  | { t: 'end'; id: number }
  | { t: 'abort'; id: number };

export type FromWorker =
  | { t: 'ack'; id: number; bytes: number }
  | { t: 'done'; id: number; result?: ApplyResult }
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

/** A session's compressed bytes, in order, as an async iterable the inflater reads. */
class Chunks implements AsyncIterable<Buffer> {
  private readonly queue: Buffer[] = [];
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly taken: (bytes: number) => void;

  constructor(taken: (bytes: number) => void) {
    this.taken = taken;
  }

  push(b: Buffer): void {
    this.queue.push(b);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  fail(e: Error): void {
    this.failure = e;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.failure) throw this.failure;
      const b = this.queue.shift();
      if (b) {
        this.taken(b.length);
        yield b;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((r) => { this.wake = r; });
      this.wake = undefined;
    }
  }
}

/**
 * A blob still being written, read here through the process's descriptor as
 * it grows; how far it is written is read from shared memory, and a 'grow'
 * message wakes this reader only when it said it waits (GROW_WAITING).
 */
class Growing implements AsyncIterable<Buffer> {
  private readonly fd: number;
  private readonly size: number;
  private readonly offset: BigInt64Array;
  private readonly flags: Int32Array;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(fd: number, size: number, shared: SharedArrayBuffer) {
    this.fd = fd;
    this.size = size;
    ({ offset: this.offset, flags: this.flags } = growViews(shared));
  }

  /** A 'grow' message (possibly stale: the reader then just looks again). */
  poke(): void {
    this.wake?.();
  }

  fail(e: Error): void {
    this.failure = e;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    let pos = 0;
    while (pos < this.size) {
      if (this.failure) throw this.failure;
      const avail = Number(Atomics.load(this.offset, 0));
      const state = Atomics.load(this.flags, GROW_STATE);
      if (state & GROW_RESET) throw new Error('the download started over while the layer was being read');
      if (avail > pos) {
        const want = Math.min(avail - pos, READ_CHUNK);
        const buf = Buffer.allocUnsafe(want);
        const n = readSync(this.fd, buf, 0, want, pos);
        if (n === 0) throw new Error('the layer blob shrank while it was being read');
        pos += n;
        yield n === want ? buf : buf.subarray(0, n);
        continue;
      }
      if (state & GROW_ENDED) throw new Error('the download ended before the layer was complete');
      // Say we wait, then look again: the writer either sees the flag (and sends 'grow') or we see its progress.
      Atomics.store(this.flags, GROW_WAITING, 1);
      if (Number(Atomics.load(this.offset, 0)) > pos || Atomics.load(this.flags, GROW_STATE) !== state || this.failure) {
        Atomics.store(this.flags, GROW_WAITING, 0);
        continue;
      }
      await new Promise<void>((r) => { this.wake = r; });
      this.wake = undefined;
    }
  }
}

const READ_CHUNK = 1 << 20;

if (parentPort) {
  const port = parentPort;
  const sessions = new Map<number, Chunks | Growing>();
  port.on('message', (m: ToWorker) => {
    if (m.t === 'open') {
      const id = m.id;
      const chunks = m.grow
        ? new Growing(m.grow.fd, m.grow.size, m.grow.shared)
        : new Chunks((bytes) => port.postMessage({ t: 'ack', id, bytes } satisfies FromWorker));
      sessions.set(id, chunks);
      applyHere(chunks, m.target, m.opts).then(
        (result) => {
          sessions.delete(id);
          port.postMessage({ t: 'done', id, result } satisfies FromWorker);
        },
        (e: unknown) => {
          sessions.delete(id);
          port.postMessage({ t: 'error', id, error: serializeError(e) } satisfies FromWorker);
          port.postMessage({ t: 'done', id } satisfies FromWorker);
        },
      );
      return;
    }
    const chunks = sessions.get(m.id);
    if (!chunks) return; // ended already (failed): the main side learns it from 'error'
    if (m.t === 'grow') {
      if (chunks instanceof Growing) chunks.poke();
    } else if (m.t === 'chunk') {
      if (chunks instanceof Chunks) chunks.push(Buffer.from(m.data));
    } else if (m.t === 'end') {
      if (chunks instanceof Chunks) chunks.end();
    } else chunks.fail(new Error('layer application aborted'));
  });
}
