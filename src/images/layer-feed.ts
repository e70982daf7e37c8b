// A layer blob read while it is being downloaded, so that it is inflated and
// applied as it arrives instead of after (and without reading it back). The
// download writes the ingest file at increasing offsets and says how far it
// got; the reader follows behind, through a descriptor opened before the
// commit (which links the same inode into blobs/ and removes the ingest).
// The bytes read are exactly the bytes whose digest the commit verifies,
// unless the download starts over (truncate): the reader then fails with
// FeedReset and the caller applies the committed blob instead. Nothing read
// here is trusted before the download's commit verified the digest: the
// caller commits the snapshot only after that.
import { closeSync, openSync } from 'node:fs';
import { read } from 'node:fs';
import type { Writer } from './content/types.ts';
import type { GrowingBlob, GrowingState } from './layers/apply.ts';

export class FeedReset extends Error {
  constructor() {
    super('the download started over while the layer was being read');
    this.name = 'FeedReset';
  }
}

const CHUNK = 1 << 20;

export class LayerFeed {
  private readonly fd: number;
  private readonly size: number;
  private offset: number;
  private closed = false;
  /** the download truncated the file: what was read may not be the blob */
  reset = false;
  private end: { error?: unknown } | undefined;
  private waiters: (() => void)[] = [];
  private readonly watchers = new Set<(s: GrowingState) => void>();

  constructor(path: string, size: number, offset: number) {
    this.fd = openSync(path, 'r');
    this.size = size;
    this.offset = offset;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
    for (const f of this.watchers) f(this.state());
  }

  private state(): GrowingState {
    return { offset: this.offset, reset: this.reset, ended: this.end !== undefined };
  }

  /**
   * The blob for an apply worker, which reads it itself through the same
   * descriptor (pread) as it grows: no read, buffer or copy on this thread.
   */
  growing(): GrowingBlob {
    return {
      fd: this.fd,
      size: this.size,
      watch: (fn) => {
        this.watchers.add(fn);
        fn(this.state());
        return () => { this.watchers.delete(fn); };
      },
      stream: () => this.stream(),
    };
  }

  /** The download's writer, telling this feed how far it got and when it starts over. */
  wrap(w: Writer): Writer {
    return {
      write: async (c) => {
        await w.write(c);
        this.offset = w.status().offset;
        this.wake();
      },
      status: () => w.status(),
      digest: () => w.digest(),
      truncate: async (n) => {
        // Marked before the file changes: a read racing the truncation is discarded.
        this.reset = true;
        this.wake();
        await w.truncate(n);
      },
      commit: (size, want, opts) => w.commit(size, want, opts),
      close: () => w.close(),
    };
  }

  /** The download ended (committed, or failed with error). */
  finished(error?: unknown): void {
    this.end = error === undefined ? {} : { error };
    this.wake();
  }

  /** The blob's bytes as they arrive; throws FeedReset or the download's error. */
  async *stream(): AsyncGenerator<Buffer> {
    let pos = 0;
    while (pos < this.size) {
      if (this.reset) throw new FeedReset();
      if (this.offset > pos) {
        const want = Math.min(this.offset - pos, CHUNK);
        const buf = Buffer.allocUnsafe(want);
        const n = await new Promise<number>((resolve, reject) => read(this.fd, buf, 0, want, pos, (e, r) => (e ? reject(e) : resolve(r))));
        if (this.reset || n === 0) throw new FeedReset();
        pos += n;
        yield n === want ? buf : buf.subarray(0, n);
        continue;
      }
      if (this.end) throw this.end.error ?? new FeedReset();
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

