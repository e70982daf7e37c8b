// An apply worker thread: runs whole layer applications (applyHere: inflate,
// diff_id hash, tar parsing and the filesystem side with its checks) off the
// thread that downloads, so that two layers applied at once run on two
// threads. Each application is a session fed with the layer's compressed
// bytes as they arrive; a chunk is acknowledged once the inflater took it,
// which bounds what is in flight.
import { readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { ApplyTarget } from '../snapshots/types.ts';
import { applyHere } from './apply.ts';
import type { ApplyOptions, ApplyResult, GrowingState } from './apply.ts';

export type ToWorker =
  | { t: 'open'; id: number; target: ApplyTarget; opts: ApplyOptions; grow?: { fd: number; size: number } }
  | { t: 'grow'; id: number; offset: number; reset: boolean; ended: boolean }
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

/** A blob still being written, read here through the process's descriptor as it grows. */
class Growing implements AsyncIterable<Buffer> {
  private readonly fd: number;
  private readonly size: number;
  private state: GrowingState = { offset: 0, reset: false, ended: false };
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(fd: number, size: number) {
    this.fd = fd;
    this.size = size;
  }

  update(s: GrowingState): void {
    this.state = s;
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
      if (this.state.reset) throw new Error('the download started over while the layer was being read');
      if (this.state.offset > pos) {
        const want = Math.min(this.state.offset - pos, READ_CHUNK);
        const buf = Buffer.allocUnsafe(want);
        const n = readSync(this.fd, buf, 0, want, pos);
        if (n === 0) throw new Error('the layer blob shrank while it was being read');
        pos += n;
        yield n === want ? buf : buf.subarray(0, n);
        continue;
      }
      if (this.state.ended) throw new Error('the download ended before the layer was complete');
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
        ? new Growing(m.grow.fd, m.grow.size)
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
      if (chunks instanceof Growing) chunks.update(m);
    } else if (m.t === 'chunk') {
      if (chunks instanceof Chunks) chunks.push(Buffer.from(m.data));
    } else if (m.t === 'end') {
      if (chunks instanceof Chunks) chunks.end();
    } else chunks.fail(new Error('layer application aborted'));
  });
}
