// Layer application: a layer tar (gzip, zstd or plain) streamed into a
// snapshot's directory. Onto an overlay upper dir, OCI whiteouts become
// overlay whiteouts (a 0:0 character device; trusted.overlay.opaque=y for
// `.wh..wh..opq`); onto a plain tree (naive snapshotter) they really delete.
// Owners, modes (setuid, sticky), mtimes, xattrs, hardlinks, device nodes,
// fifos and symlinks are kept. The diff_id (sha256 of the uncompressed
// stream) is computed on the way and checked against the expected one.
//
// Off the calling thread: the compressed bytes go to an apply worker
// (apply-worker.ts), which inflates, hashes, parses and writes (apply-writer.ts,
// with the security checks). The caller's thread keeps only the download
// (socket, blob digest, ingest file), and two layers applied at once (unpack)
// run on two workers. DRAY_APPLY_INLINE=1 (or a single CPU) runs it all here.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { ApplyTarget } from '../snapshots/types.ts';
import { LayerWriter } from './apply-writer.ts';
import type { OpenFile } from './apply-writer.ts';
import { closeSync } from 'node:fs';
import type { FromWorker, SerializedError, ToWorker } from './apply-worker.ts';
import { decompress } from './compression.ts';
import type { Compression } from './compression.ts';
import { LayerSecurityError, NeedsLowersError } from './paths.ts';
import { readTar, TarFormatError } from './tar-reader.ts';
import type { TarHeader } from './tar-reader.ts';

export interface ApplyResult {
  /** sha256:<hex> of the uncompressed tar */
  diffId: string;
  /** bytes of the uncompressed tar */
  size: number;
  compression: Compression;
  entries: number;
  /**
   * Pending lowers (ApplyTarget.pendingLowers): the paths the application
   * took as absent below; assumptionsHold() checks them against the lowers.
   */
  assumedAbsent: string[][];
}

export interface ApplyOptions {
  /** When given, a different diff_id fails the application. */
  expectedDiffId?: string;
  /** Upper bound on entries, against tar bombs made of empty entries. */
  maxEntries?: number;
  /** The blob's size, when known: a small layer shares a running apply worker rather than starting one. */
  blobSize?: number;
}

export class DiffIdMismatchError extends Error {
  constructor(want: string, got: string) {
    super(`layer diff_id mismatch: expected ${want}, got ${got}`);
    this.name = 'DiffIdMismatchError';
  }
}

/** How far a growing blob is written, whether it started over, whether its download ended. */
export interface GrowingState {
  offset: number;
  reset: boolean;
  ended: boolean;
}

/**
 * A layer blob still being written (a download, layer-feed.ts): an apply
 * worker reads it itself, through fd (pread: the descriptor is the process's),
 * as it grows. What was read is only trusted after the diff_id matched and
 * the download's digest verified (the caller's part); a blob that started
 * over (reset) fails the application.
 */
export interface GrowingBlob {
  fd: number;
  size: number;
  /** Calls fn now and on every change until the function given back is called. */
  watch(fn: (s: GrowingState) => void): () => void;
  /** The same bytes as an async iterable, for an application on this thread. */
  stream(): AsyncIterable<Buffer>;
}

export type LayerSource = Readable | AsyncIterable<Buffer> | GrowingBlob;

/**
 * A growing blob's state shared with the worker: the written offset
 * (BigInt64 at 0), then Int32 flags: GROW_STATE (reset, ended) and
 * GROW_WAITING (set by the worker before it waits for a 'grow' message).
 */
export const GROW_BYTES = 16;
export const GROW_STATE = 0;
export const GROW_WAITING = 1;
export const GROW_RESET = 1;
export const GROW_ENDED = 2;

export function growViews(shared: SharedArrayBuffer): { offset: BigInt64Array; flags: Int32Array } {
  return { offset: new BigInt64Array(shared, 0, 1), flags: new Int32Array(shared, 8, 2) };
}

function isGrowing(src: LayerSource): src is GrowingBlob {
  return typeof (src as GrowingBlob).watch === 'function' && typeof (src as GrowingBlob).fd === 'number';
}

/** Applies one layer. On failure the target is left part-written: the caller removes the snapshot. */
export async function applyLayer(src: LayerSource, target: ApplyTarget, opts: ApplyOptions = {}): Promise<ApplyResult> {
  // One CPU: a second thread only adds the copying and the messages.
  const inline = process.env['DRAY_APPLY_INLINE'] === '1' || availableParallelism() < 2;
  if (inline) return applyHere(isGrowing(src) ? src.stream() : src, target, opts);
  const w = new WorkerApply(target, opts);
  return isGrowing(src) ? w.runGrowing(src) : w.run(src);
}

/** The whole application on this thread (the apply worker's, or the caller's when inline). */
export async function applyHere(src: Readable | AsyncIterable<Buffer>, target: ApplyTarget, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const { compression, stream } = await decompress(src as AsyncIterable<Buffer>);
  const hash = createHash('sha256');
  let size = 0;
  const tapped = (async function* () {
    for await (const c of stream as AsyncIterable<Buffer>) {
      hash.update(c);
      size += c.length;
      yield c;
    }
  })();
  const sink = new InlineSink(target);
  let assumedAbsent: string[][] = [];
  let entries = 0;
  const max = opts.maxEntries ?? 10_000_000;
  try {
    for await (const e of readTar(tapped)) {
      if (++entries > max) throw new Error(`layer has more than ${max} entries`);
      sink.begin(e.header);
      if (e.header.type === 'file') {
        for await (const c of e.body) sink.data(c);
        sink.end();
      }
    }
    // Whatever follows the end-of-archive blocks is part of the diff_id too.
    for await (const _ of tapped) { /* drain */ }
    assumedAbsent = await sink.finish();
  } catch (err) {
    // Stop reading the source (a file, a download) right away.
    stream.destroy();
    (src as Readable).destroy?.();
    // The worker must be done with the directory before the caller removes it.
    await sink.abort();
    throw err;
  }
  const diffId = `sha256:${hash.digest('hex')}`;
  if (opts.expectedDiffId && opts.expectedDiffId !== diffId) throw new DiffIdMismatchError(opts.expectedDiffId, diffId);
  return { diffId, size, compression, entries, assumedAbsent };
}

/** The parsed entries handed to the filesystem side (LayerWriter) on the same thread. */
class InlineSink {
  private readonly w: LayerWriter;
  private file: OpenFile | null = null;

  constructor(target: ApplyTarget) {
    this.w = new LayerWriter(target);
  }

  begin(h: TarHeader): void {
    this.file = this.w.begin(h);
  }

  data(c: Uint8Array): void {
    if (this.file && c.length) this.w.data(this.file, c);
  }

  end(): void {
    const f = this.file;
    this.file = null;
    if (f) this.w.end(f);
  }

  async finish(): Promise<string[][]> {
    if (this.file) throw new Error('layer application ended inside a file');
    return this.w.finish();
  }

  async abort(): Promise<void> {
    const f = this.file;
    this.file = null;
    if (f) closeSync(f.fd);
  }
}

/** Compressed bytes sent to the worker but not yet taken by its inflater, at most (memory stays bounded). */
const MAX_IN_FLIGHT = 8 << 20;

/**
 * One application run by an apply worker: the compressed bytes go over as
 * they come (transferred, not copied, when a chunk owns its buffer), the
 * worker inflates, hashes, parses and writes, and sends the result back.
 */
class WorkerApply {
  private readonly id: number;
  private readonly thread: ApplyThread;
  private readonly target: ApplyTarget;
  private readonly opts: ApplyOptions;
  private inFlight = 0;
  private error: Error | undefined;
  private result: ApplyResult | undefined;
  private wake: (() => void) | undefined;
  private ended: (() => void) | undefined;
  private readonly endedP: Promise<void>;
  private done = false;

  constructor(target: ApplyTarget, opts: ApplyOptions) {
    this.id = nextId++;
    this.target = target;
    this.opts = opts;
    this.thread = pickThread(opts.blobSize !== undefined && opts.blobSize < SMALL_LAYER);
    this.endedP = new Promise<void>((r) => { this.ended = r; });
  }

  onMessage(m: FromWorker): void {
    if (m.t === 'ack') this.inFlight -= m.bytes;
    else if (m.t === 'error') this.error ??= rehydrate(m.error);
    else if (m.t === 'done') {
      this.done = true;
      if (m.result) this.result = m.result;
      this.ended?.();
    }
    this.wake?.();
  }

  /** The worker failed or exited: every waiter wakes to the error. */
  fail(e: Error): void {
    this.error ??= e;
    this.done = true;
    this.wake?.();
    this.ended?.();
  }

  private open(grow?: { fd: number; size: number; shared: SharedArrayBuffer }): void {
    this.thread.open(this.id, this);
    const t = this.target;
    this.thread.post({
      t: 'open', id: this.id, opts: this.opts,
      target: { mode: t.mode, dir: t.dir, lowers: [...t.lowers], ...(t.pendingLowers ? { pendingLowers: true } : {}) },
      ...(grow ? { grow } : {}),
    });
  }

  /**
   * The worker reads the blob itself; this thread only publishes how far it
   * is written, in shared memory (growShared), and wakes the worker with a
   * message only when it waits for more.
   */
  async runGrowing(g: GrowingBlob): Promise<ApplyResult> {
    let unwatch: (() => void) | undefined;
    const shared = new SharedArrayBuffer(GROW_BYTES);
    const { offset, flags } = growViews(shared);
    try {
      this.open({ fd: g.fd, size: g.size, shared });
      unwatch = g.watch((s) => {
        Atomics.store(offset, 0, BigInt(s.offset));
        Atomics.store(flags, GROW_STATE, (s.reset ? GROW_RESET : 0) | (s.ended ? GROW_ENDED : 0));
        if (Atomics.exchange(flags, GROW_WAITING, 0) === 1 && !this.done && this.thread.running()) this.thread.post({ t: 'grow', id: this.id });
      });
      if (!this.done) await this.endedP;
    } finally {
      unwatch?.();
      this.thread.close(this.id);
    }
    if (this.error) throw this.error;
    if (!this.result) throw new Error('layer apply worker ended without a result');
    return this.result;
  }

  async run(src: Readable | AsyncIterable<Buffer>): Promise<ApplyResult> {
    try {
      this.open();
      try {
        for await (const chunk of src as AsyncIterable<Buffer>) {
          if (this.error || this.done) break;
          if (chunk.length === 0) continue;
          // A chunk that owns its whole buffer is moved; anything else (a view into a pool) copied once.
          const whole = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
          const data = whole ? (chunk.buffer as ArrayBuffer) : new Uint8Array(chunk).buffer;
          this.inFlight += data.byteLength;
          this.thread.post({ t: 'chunk', id: this.id, data }, [data]);
          while (this.inFlight > MAX_IN_FLIGHT && !this.error && !this.done) await new Promise<void>((r) => { this.wake = r; });
        }
      } catch (e) {
        this.error ??= e instanceof Error ? e : new Error(String(e));
      }
      if (this.error || this.done) {
        // Stop reading the source (a file, a download) right away.
        (src as Readable).destroy?.();
        if (!this.done && this.thread.running()) this.thread.post({ t: 'abort', id: this.id });
      } else {
        this.thread.post({ t: 'end', id: this.id });
      }
      // The worker must be done with the directory before the caller removes it.
      if (!this.done) await this.endedP;
    } finally {
      this.thread.close(this.id);
    }
    if (this.error) throw this.error;
    if (!this.result) throw new Error('layer apply worker ended without a result');
    return this.result;
  }
}

let nextId = 1;

/**
 * The worker's isolate costs a daemon tens of MB of RSS: it ends after this
 * long without an apply and starts again on the next one (the layers of one
 * image, or images pulled back to back, reuse it).
 */
const WORKER_IDLE_MS = 2000;

/**
 * One apply worker thread and the applications it serves. Up to
 * maxThreads() run at once: applications of different layers (unpack runs
 * two at a time) then write in parallel; a second thread starts only when
 * every running one is busy.
 */
class ApplyThread {
  private worker: Worker | undefined;
  readonly sinks = new Map<number, WorkerApply>();
  private idleTimer: NodeJS.Timeout | undefined;

  running(): boolean {
    return this.worker !== undefined;
  }

  open(id: number, sink: WorkerApply): void {
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = undefined; }
    this.sinks.set(id, sink);
    if (this.sinks.size === 1) this.start().ref();
  }

  close(id: number): void {
    this.sinks.delete(id);
    if (this.sinks.size > 0) return;
    this.worker?.unref();
    if (!this.worker || this.idleTimer) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      const w = this.worker;
      if (!w || this.sinks.size > 0) return;
      this.worker = undefined; // its exit is then no failure of anyone's
      void w.terminate();
    }, WORKER_IDLE_MS);
    this.idleTimer.unref();
  }

  /** Starts the worker ahead of its first application; it retires when idle, as after one. */
  warm(): void {
    if (this.worker || this.sinks.size > 0) return;
    this.start();
    this.close(-1);
  }

  post(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.start().postMessage(m, transfer);
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // From source, the .ts file; in an esbuild bundle, the worker's own bundle beside it.
    const w = new Worker(new URL(import.meta.url.endsWith('.ts') ? './apply-worker.ts' : './apply-worker.mjs', import.meta.url));
    w.on('message', (m: FromWorker) => this.sinks.get(m.id)?.onMessage(m));
    const down = (e: Error): void => {
      if (this.worker !== w) return; // retired when idle, or already down
      this.worker = undefined;
      for (const s of this.sinks.values()) s.fail(e);
    };
    w.on('error', down);
    w.on('exit', (code) => down(new Error(`layer apply worker exited (code ${code})`)));
    w.unref();
    this.worker = w;
    return w;
  }
}

const threads: ApplyThread[] = [];

/** Apply threads at most: one per CPU beyond the parsing thread's, at least one, at most two. */
function maxThreads(): number {
  const env = Number(process.env['DRAY_APPLY_THREADS']);
  if (Number.isInteger(env) && env >= 1) return Math.min(env, 8);
  return Math.max(1, Math.min(2, availableParallelism()));
}

/** Below this (compressed), a layer is not worth a worker's start (~40 ms of CPU, ~10 MB). */
const SMALL_LAYER = 1 << 20;

/**
 * A running thread with no application, else (small: any running thread, the
 * least busy) a new one (up to maxThreads()), else the least busy.
 */
function pickThread(small = false): ApplyThread {
  const idle = threads.find((t) => t.sinks.size === 0 && t.running()) ?? (small ? undefined : threads.find((t) => t.sinks.size === 0));
  if (idle) return idle;
  const running = threads.filter((t) => t.running());
  if (small && running.length > 0) return running.reduce((a, b) => (b.sinks.size < a.sinks.size ? b : a));
  if (threads.length < maxThreads()) {
    const t = new ApplyThread();
    threads.push(t);
    return t;
  }
  return threads.reduce((a, b) => (b.sinks.size < a.sinks.size ? b : a));
}

/** Starts an apply worker now, so that its start-up is not on the first layer's path. */
export function warmApplyWorker(): void {
  if (process.env['DRAY_APPLY_INLINE'] === '1' || availableParallelism() < 2) return;
  pickThread().warm();
}

/** How many apply worker threads are running (for tests). */
export function applyWorkersRunning(): number {
  return threads.filter((t) => t.running()).length;
}

/** Whether an apply worker thread is running (for tests). */
export function applyWorkerRunning(): boolean {
  return applyWorkersRunning() > 0;
}

function rehydrate(s: SerializedError): Error {
  let e: Error;
  if (s.name === 'LayerSecurityError') {
    e = new LayerSecurityError(s.entry ?? '', '');
    e.message = s.message;
  } else if (s.name === 'NeedsLowersError') {
    e = new NeedsLowersError(s.entry ?? '');
  } else if (s.name === 'DiffIdMismatchError') {
    e = new DiffIdMismatchError('', '');
    e.message = s.message;
  } else if (s.name === 'TarFormatError') {
    e = new TarFormatError('');
    e.message = s.message;
  } else {
    e = new Error(s.message);
    e.name = s.name;
  }
  if (s.code) (e as NodeJS.ErrnoException).code = s.code;
  return e;
}
