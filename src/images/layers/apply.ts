// Layer application: a layer tar (gzip, zstd or plain) streamed into a
// snapshot's directory. Onto an overlay upper dir, OCI whiteouts become
// overlay whiteouts (a 0:0 character device; trusted.overlay.opaque=y for
// `.wh..wh..opq`); onto a plain tree (naive snapshotter) they really delete.
// Owners, modes (setuid, sticky), mtimes, xattrs, hardlinks, device nodes,
// fifos and symlinks are kept. The diff_id (sha256 of the uncompressed
// stream) is computed on the way and checked against the expected one.
//
// Two threads: this one inflates, hashes and parses the tar, and sends the
// entries in batches (their data copied into one transferred buffer) to the
// apply worker, which does the filesystem work with the security checks
// (apply-writer.ts): file creation costs hundreds of microseconds of kernel
// time each, which then overlaps inflating and parsing. DRAY_APPLY_INLINE=1
// (or a single CPU) runs that part here instead.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { ApplyTarget } from '../snapshots/types.ts';
import { ApplySession } from './apply-writer.ts';
import type { ApplyOp } from './apply-writer.ts';
import type { FromWorker, SerializedError, ToWorker } from './apply-worker.ts';
import { decompress } from './compression.ts';
import type { Compression } from './compression.ts';
import { LayerSecurityError, NeedsLowersError } from './paths.ts';
import { readTar } from './tar-reader.ts';
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
}

export class DiffIdMismatchError extends Error {
  constructor(want: string, got: string) {
    super(`layer diff_id mismatch: expected ${want}, got ${got}`);
    this.name = 'DiffIdMismatchError';
  }
}

/** Applies one layer. On failure the target is left part-written: the caller removes the snapshot. */
export async function applyLayer(src: Readable | AsyncIterable<Buffer>, target: ApplyTarget, opts: ApplyOptions = {}): Promise<ApplyResult> {
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
  const sink = openSink(target);
  let assumedAbsent: string[][] = [];
  let entries = 0;
  const max = opts.maxEntries ?? 10_000_000;
  try {
    for await (const e of readTar(tapped)) {
      if (++entries > max) throw new Error(`layer has more than ${max} entries`);
      sink.begin(e.header);
      if (e.header.type === 'file') {
        for await (const c of e.body) await sink.data(c);
        sink.end();
      }
      await sink.pace();
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

/** A batch goes when it holds this much data or this many ops. */
const BATCH_BYTES = 1 << 20;
const BATCH_OPS = 256;
/** Data sent but not yet applied, at most (memory stays bounded). */
const MAX_IN_FLIGHT = 16 << 20;
const OP_COST = 512;

/** Collects ops into batches and hands them to the filesystem side. */
abstract class Sink {
  private ops: ApplyOp[] = [];
  private pieces: Uint8Array[] = [];
  private bytes = 0;

  begin(h: TarHeader): void {
    this.ops.push({ k: 'b', h });
  }

  async data(c: Uint8Array): Promise<void> {
    if (c.length === 0) return;
    this.ops.push({ k: 'd', off: this.bytes, len: c.length });
    this.pieces.push(c);
    this.bytes += c.length;
    if (this.bytes >= BATCH_BYTES) await this.pace();
  }

  end(): void {
    this.ops.push({ k: 'z' });
  }

  /** Sends the batch when it is full; waits while too much is in flight. */
  async pace(): Promise<void> {
    if (this.bytes >= BATCH_BYTES || this.ops.length >= BATCH_OPS) await this.flush();
  }

  protected async flush(): Promise<void> {
    if (this.ops.length === 0) return;
    // The pieces are views into inflated chunks: copied once, into a buffer the worker gets whole.
    const data = new ArrayBuffer(this.bytes);
    const view = new Uint8Array(data);
    let off = 0;
    for (const p of this.pieces) {
      view.set(p, off);
      off += p.length;
    }
    const ops = this.ops;
    const cost = this.bytes + ops.length * OP_COST;
    this.ops = [];
    this.pieces = [];
    this.bytes = 0;
    await this.send(ops, data, cost);
  }

  protected abstract send(ops: ApplyOp[], data: ArrayBuffer, cost: number): Promise<void>;
  abstract finish(): Promise<string[][]>;
  abstract abort(): Promise<void>;
}

class InlineSink extends Sink {
  private readonly session: ApplySession;

  constructor(target: ApplyTarget) {
    super();
    this.session = new ApplySession(target);
  }

  protected async send(ops: ApplyOp[], data: ArrayBuffer): Promise<void> {
    this.session.run(ops, data);
  }

  async finish(): Promise<string[][]> {
    await this.flush();
    return this.session.finish();
  }

  async abort(): Promise<void> {
    this.session.abort();
  }
}

class WorkerSink extends Sink {
  private readonly id: number;
  private readonly thread: ApplyThread;
  private inFlight = 0;
  private error: Error | undefined;
  private wake: (() => void) | undefined;
  private ended: (() => void) | undefined;
  private assumed: string[][] = [];
  private closed = false;

  constructor(target: ApplyTarget) {
    super();
    this.id = nextId++;
    this.thread = pickThread();
    this.thread.open(this.id, this);
    this.thread.post({ t: 'open', id: this.id, target: { mode: target.mode, dir: target.dir, lowers: [...target.lowers], ...(target.pendingLowers ? { pendingLowers: true } : {}) } });
  }

  onMessage(m: FromWorker): void {
    if (m.t === 'ack') this.inFlight -= m.bytes;
    else if (m.t === 'error') this.error ??= rehydrate(m.error);
    else if (m.t === 'done') {
      this.assumed = m.assumed ?? [];
      this.ended?.();
    }
    if (this.inFlight <= MAX_IN_FLIGHT || this.error) this.wake?.();
  }

  /** The worker failed or exited: every waiter wakes to the error. */
  fail(e: Error): void {
    this.error ??= e;
    this.wake?.();
    this.ended?.();
  }

  private check(): void {
    if (this.error) throw this.error;
  }

  protected async send(ops: ApplyOp[], data: ArrayBuffer, cost: number): Promise<void> {
    this.check();
    this.inFlight += cost;
    this.thread.post({ t: 'batch', id: this.id, ops, data, bytes: cost }, [data]);
    while (this.inFlight > MAX_IN_FLIGHT && !this.error) await new Promise<void>((r) => { this.wake = r; });
    this.check();
  }

  private async close(kind: 'finish' | 'abort'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const ended = new Promise<void>((r) => { this.ended = r; });
    if (this.thread.running()) {
      this.thread.post({ t: kind, id: this.id });
      await ended;
    }
    this.thread.close(this.id);
  }

  async finish(): Promise<string[][]> {
    try {
      await this.flush();
    } catch (e) {
      await this.close('abort');
      throw e;
    }
    await this.close('finish');
    this.check();
    return this.assumed;
  }

  async abort(): Promise<void> {
    await this.close('abort');
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
  readonly sinks = new Map<number, WorkerSink>();
  private idleTimer: NodeJS.Timeout | undefined;

  running(): boolean {
    return this.worker !== undefined;
  }

  open(id: number, sink: WorkerSink): void {
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

/** A running thread with no application, else a new one (up to maxThreads()), else the least busy. */
function pickThread(): ApplyThread {
  const idle = threads.find((t) => t.sinks.size === 0 && t.running()) ?? threads.find((t) => t.sinks.size === 0);
  if (idle) return idle;
  if (threads.length < maxThreads()) {
    const t = new ApplyThread();
    threads.push(t);
    return t;
  }
  return threads.reduce((a, b) => (b.sinks.size < a.sinks.size ? b : a));
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
  } else {
    e = new Error(s.message);
    e.name = s.name;
  }
  if (s.code) (e as NodeJS.ErrnoException).code = s.code;
  return e;
}

function openSink(target: ApplyTarget): Sink {
  // One CPU: a second thread only adds the copying and the messages.
  const inline = process.env['DRAY_APPLY_INLINE'] === '1' || availableParallelism() < 2;
  return inline ? new InlineSink(target) : new WorkerSink(target);
}
