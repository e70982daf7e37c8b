// A containerd-style content store on the local filesystem.
//
//   <root>/blobs/<alg>/<hex>          committed blobs, read-only, never partial
//   <root>/ingest/<sha256(ref)>/      one in-flight write: ref, total, expected,
//                                     startedat, data (offset = size of data), lock
//
// Commit fsyncs the data, checks size and digest, then link()s it into blobs/
// (atomic, never overwrites) and removes the ingest. A ref is held by one
// writer at a time: in this process by a promise lock, across processes by an
// O_EXCL lock file carrying the holder's pid (taken over when that pid is gone).
import { createReadStream, constants as fsConstants } from 'node:fs';
import { mkdir, open, readFile, readdir, rm, stat, unlink, writeFile, link, chmod, type FileHandle } from 'node:fs/promises';
import { createHash, type Hash } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ContentError } from './errors.ts';
import { parseDigest } from './digest.ts';
import type { Info, LabelStore, ReaderAt, Status, Store, Writer, WriterOptions } from './types.ts';

/** Labels kept in memory: for tests and tools without a metadata database. */
export class MemoryLabelStore implements LabelStore {
  #m = new Map<string, Record<string, string>>();
  get(d: string): Record<string, string> {
    return { ...(this.#m.get(d) ?? {}) };
  }
  set(d: string, labels: Record<string, string>): void {
    if (Object.keys(labels).length === 0) this.#m.delete(d);
    else this.#m.set(d, { ...labels });
  }
  delete(d: string): void {
    this.#m.delete(d);
  }
}

function ioError(e: unknown, what: string): Error {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC') return new ContentError('failed-precondition', `no space left on device while ${what}`, { cause: e });
  if (code === 'EDQUOT') return new ContentError('failed-precondition', `disk quota exceeded while ${what}`, { cause: e });
  return e instanceof Error ? e : new Error(String(e));
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class LocalStore implements Store {
  readonly root: string;
  readonly labels: LabelStore;
  #locks = new Map<string, Promise<void>>();

  constructor(root: string, opts: { labels?: LabelStore } = {}) {
    this.root = root;
    this.labels = opts.labels ?? new MemoryLabelStore();
  }

  /** The path of a committed blob: for readers that want the file itself (layer apply). */
  blobPath(dgst: string): string {
    const { algorithm, hex } = parseDigest(dgst);
    return join(this.root, 'blobs', algorithm, hex);
  }

  ingestDir(ref: string): string {
    return join(this.root, 'ingest', createHash('sha256').update(ref).digest('hex'));
  }

  async exists(dgst: string): Promise<boolean> {
    try {
      await stat(this.blobPath(dgst));
      return true;
    } catch {
      return false;
    }
  }

  // ---- Provider
  async readerAt(desc: { digest: string }): Promise<ReaderAt> {
    const path = this.blobPath(desc.digest);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ContentError('not-found', `content ${desc.digest}: not found`);
      throw e;
    }
    const size = (await fh.stat()).size;
    return {
      size,
      async readAt(buf: Buffer, offset: number, length = buf.length): Promise<number> {
        let done = 0;
        while (done < length) {
          const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return done;
      },
      close: () => fh.close(),
    };
  }

  async stream(desc: { digest: string }, start = 0): Promise<Readable> {
    const path = this.blobPath(desc.digest);
    try {
      await stat(path);
    } catch {
      throw new ContentError('not-found', `content ${desc.digest}: not found`);
    }
    return createReadStream(path, { start, highWaterMark: 1 << 20 });
  }

  async readBlob(desc: { digest: string }, maxBytes = 16 << 20): Promise<Buffer> {
    const path = this.blobPath(desc.digest);
    let st;
    try {
      st = await stat(path);
    } catch {
      throw new ContentError('not-found', `content ${desc.digest}: not found`);
    }
    if (st.size > maxBytes) throw new ContentError('failed-precondition', `content ${desc.digest}: ${st.size} bytes is over the ${maxBytes}-byte limit`);
    return readFile(path);
  }

  // ---- Manager
  async info(dgst: string): Promise<Info> {
    let st;
    try {
      st = await stat(this.blobPath(dgst));
    } catch {
      throw new ContentError('not-found', `content ${dgst}: not found`);
    }
    return { digest: dgst, size: st.size, createdAt: st.ctime, updatedAt: st.mtime, labels: this.labels.get(dgst) };
  }

  async update(info: Pick<Info, 'digest' | 'labels'>, fieldpaths: string[] = []): Promise<Info> {
    const cur = await this.info(info.digest);
    let labels: Record<string, string>;
    if (fieldpaths.length === 0 || fieldpaths.includes('labels')) labels = { ...info.labels };
    else {
      labels = { ...cur.labels };
      for (const f of fieldpaths) {
        if (!f.startsWith('labels.')) throw new ContentError('invalid-argument', `cannot update field ${JSON.stringify(f)} of content`);
        const k = f.slice('labels.'.length);
        const v = info.labels[k];
        if (v === undefined || v === '') delete labels[k];
        else labels[k] = v;
      }
    }
    this.labels.set(info.digest, labels);
    return { ...cur, labels };
  }

  async walk(fn: (info: Info) => void | Promise<void>): Promise<void> {
    for (const alg of ['sha256', 'sha512']) {
      let names: string[];
      try {
        names = await readdir(join(this.root, 'blobs', alg));
      } catch {
        continue;
      }
      for (const hex of names) {
        const d = `${alg}:${hex}`;
        let info: Info;
        try {
          parseDigest(d);
          info = await this.info(d);
        } catch {
          continue; // a stray file or one deleted meanwhile
        }
        await fn(info);
      }
    }
  }

  async delete(dgst: string): Promise<void> {
    try {
      await unlink(this.blobPath(dgst));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ContentError('not-found', `content ${dgst}: not found`);
      throw e;
    }
    this.labels.delete(dgst);
  }

  // ---- IngestManager
  async status(ref: string): Promise<Status> {
    const dir = this.ingestDir(ref);
    let st;
    try {
      st = await stat(join(dir, 'data'));
    } catch {
      throw new ContentError('not-found', `ingest ${ref}: not found`);
    }
    const read = async (f: string): Promise<string> => readFile(join(dir, f), 'utf8').catch(() => '');
    const started = Number(await read('startedat'));
    return {
      ref,
      offset: st.size,
      total: Number(await read('total')) || 0,
      expected: await read('expected'),
      startedAt: new Date(Number.isFinite(started) && started > 0 ? started : st.ctimeMs),
      updatedAt: st.mtime,
    };
  }

  async listStatuses(): Promise<Status[]> {
    let dirs: string[];
    try {
      dirs = await readdir(join(this.root, 'ingest'));
    } catch {
      return [];
    }
    const out: Status[] = [];
    for (const d of dirs) {
      const ref = await readFile(join(this.root, 'ingest', d, 'ref'), 'utf8').catch(() => undefined);
      if (ref === undefined) continue;
      try {
        out.push(await this.status(ref));
      } catch {
        /* removed meanwhile */
      }
    }
    return out;
  }

  async abort(ref: string): Promise<void> {
    const dir = this.ingestDir(ref);
    try {
      await stat(dir);
    } catch {
      throw new ContentError('not-found', `ingest ${ref}: not found`);
    }
    await rm(dir, { recursive: true, force: true });
  }

  // ---- Ingester
  async writer(opts: WriterOptions): Promise<Writer> {
    if (!opts.ref) throw new ContentError('invalid-argument', 'ingest ref must not be empty');
    if (opts.expected !== undefined) {
      parseDigest(opts.expected);
      if (await this.exists(opts.expected)) throw new ContentError('already-exists', `content ${opts.expected}: already exists`);
    }
    const release = await this.#lock(opts.ref, opts.wait === true);
    try {
      // A writer that waited may find the blob committed by the one before it.
      if (opts.expected !== undefined && (await this.exists(opts.expected))) {
        throw new ContentError('already-exists', `content ${opts.expected}: already exists`);
      }
      return await this.#openWriter(opts, release);
    } catch (e) {
      await release();
      throw e;
    }
  }

  async #lock(ref: string, wait: boolean): Promise<() => Promise<void>> {
    // In-process: a chain of promises per ref.
    for (let i = 0; this.#locks.has(ref); i++) {
      if (!wait) throw new ContentError('unavailable', `ref ${ref} is locked by another writer`);
      await this.#locks.get(ref);
      if (i > 10000) throw new ContentError('unavailable', `ref ${ref}: gave up waiting for the lock`);
    }
    let unlock!: () => void;
    this.#locks.set(ref, new Promise<void>((r) => (unlock = r)));
    const dir = this.ingestDir(ref);
    const lockPath = join(dir, 'lock');
    try {
      await mkdir(dir, { recursive: true });
      // Across processes: an O_EXCL lock file; a dead holder's lock is taken over.
      for (let tries = 0; ; tries++) {
        try {
          await writeFile(lockPath, String(process.pid), { flag: 'wx' });
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(e, `locking ingest ${ref}`);
          const holder = Number(await readFile(lockPath, 'utf8').catch(() => '0'));
          if (!holder || holder === process.pid || !pidAlive(holder)) {
            await rm(lockPath, { force: true });
            continue;
          }
          if (!wait || tries > 600) throw new ContentError('unavailable', `ref ${ref} is locked by process ${holder}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } catch (e) {
      this.#locks.delete(ref);
      unlock();
      throw e;
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await rm(lockPath, { force: true }).catch(() => undefined);
      this.#locks.delete(ref);
      unlock();
    };
  }

  async #openWriter(opts: WriterOptions, release: () => Promise<void>): Promise<Writer> {
    const dir = this.ingestDir(opts.ref);
    const dataPath = join(dir, 'data');
    const store = this;
    const now = Date.now();
    let total = opts.total ?? 0;
    let expected = opts.expected ?? '';
    let startedAt = now;
    try {
      const prevRef = await readFile(join(dir, 'ref'), 'utf8').catch(() => undefined);
      if (prevRef === undefined) {
        await writeFile(join(dir, 'ref'), opts.ref);
        await writeFile(join(dir, 'startedat'), String(now));
      } else {
        startedAt = Number(await readFile(join(dir, 'startedat'), 'utf8').catch(() => String(now))) || now;
        // A resumed ingest keeps what it was started with unless told more now.
        const prevTotal = Number(await readFile(join(dir, 'total'), 'utf8').catch(() => '0')) || 0;
        const prevExpected = await readFile(join(dir, 'expected'), 'utf8').catch(() => '');
        if (opts.total === undefined) total = prevTotal;
        if (opts.expected === undefined) expected = prevExpected;
        if ((prevExpected && expected && prevExpected !== expected) || (prevTotal && total && prevTotal !== total)) {
          // The ref now names other content: what is there is useless.
          await rm(dataPath, { force: true });
        }
      }
      if (total) await writeFile(join(dir, 'total'), String(total));
      if (expected) await writeFile(join(dir, 'expected'), expected);
    } catch (e) {
      throw ioError(e, `starting ingest ${opts.ref}`);
    }
    const algorithm = expected ? parseDigest(expected).algorithm : 'sha256';
    let fh: FileHandle;
    try {
      // Explicit positions, not O_APPEND: appending writes are several times slower here.
      fh = await open(dataPath, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o644);
    } catch (e) {
      throw ioError(e, `opening ingest ${opts.ref}`);
    }
    let offset = (await fh.stat()).size;
    let hash: Hash = createHash(algorithm);
    if (offset > 0) {
      // Resume: rehash what is on disk, never trust an earlier process's state.
      const buf = Buffer.allocUnsafe(1 << 20);
      for (let pos = 0; pos < offset; ) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, offset - pos), pos);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        pos += bytesRead;
      }
    }
    let closed = false;
    let updatedAt = now;
    const check = (): void => {
      if (closed) throw new ContentError('failed-precondition', `ingest ${opts.ref}: writer is closed`);
    };
    /**
     * The ingest is done: its directory goes BEFORE the ref's lock is released,
     * or a writer waiting on the lock recreates it (its lock file) under our rm.
     */
    const finishIngest = async (): Promise<void> => {
      if (!closed) {
        closed = true;
        await fh.close().catch(() => undefined);
      }
      await rm(dir, { recursive: true, force: true });
      await release();
    };
    const writer: Writer = {
      async write(chunk: Uint8Array): Promise<void> {
        check();
        if (total && offset + chunk.length > total) {
          throw new ContentError('failed-precondition', `ingest ${opts.ref}: ${offset + chunk.length} bytes is more than the expected ${total}`);
        }
        let done = 0;
        try {
          while (done < chunk.length) {
            const { bytesWritten } = await fh.write(chunk, done, chunk.length - done, offset + done);
            done += bytesWritten;
          }
        } catch (e) {
          // Keep offset and hash in step with the file: drop a partial write.
          await fh.truncate(offset).catch(() => undefined);
          throw ioError(e, `writing ingest ${opts.ref}`);
        }
        hash.update(chunk);
        offset += chunk.length;
        updatedAt = Date.now();
      },
      status(): Status {
        return { ref: opts.ref, offset, total, expected, startedAt: new Date(startedAt), updatedAt: new Date(updatedAt) };
      },
      digest(): string {
        return `${algorithm}:${hash.copy().digest('hex')}`;
      },
      async truncate(size: 0): Promise<void> {
        check();
        if (size !== 0) throw new ContentError('invalid-argument', 'only truncate(0) is supported');
        await fh.truncate(0);
        offset = 0;
        hash = createHash(algorithm);
      },
      async commit(size: number, want: string, copts = {}): Promise<void> {
        check();
        const wanted = parseDigest(want);
        try {
          await fh.sync();
        } catch (e) {
          throw ioError(e, `syncing ingest ${opts.ref}`);
        }
        if (size > 0 && offset !== size) {
          throw new ContentError('failed-precondition', `commit ${opts.ref}: unexpected size ${offset}, expected ${size}`);
        }
        let got: string;
        if (wanted.algorithm === algorithm) got = writer.digest();
        else {
          const h = createHash(wanted.algorithm);
          for await (const c of createReadStream(dataPath)) h.update(c as Buffer);
          got = `${wanted.algorithm}:${h.digest('hex')}`;
        }
        if (got !== want) {
          throw new ContentError('failed-precondition', `commit ${opts.ref}: unexpected digest ${got}, expected ${want}`);
        }
        const target = store.blobPath(want);
        try {
          await mkdir(join(store.root, 'blobs', wanted.algorithm), { recursive: true });
          await chmod(dataPath, 0o444);
          await link(dataPath, target);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
            await finishIngest();
            throw new ContentError('already-exists', `content ${want}: already exists`);
          }
          await chmod(dataPath, 0o644).catch(() => undefined);
          throw ioError(e, `committing ${want}`);
        }
        // The directory entry must survive a crash before the ingest goes.
        const d = await open(join(store.root, 'blobs', wanted.algorithm), 'r');
        await d.sync().finally(() => d.close());
        if (copts.labels && Object.keys(copts.labels).length > 0) {
          store.labels.set(want, { ...store.labels.get(want), ...copts.labels });
        }
        await finishIngest();
      },
      async close(): Promise<void> {
        if (closed) return;
        closed = true;
        await fh.close().catch(() => undefined);
        await release();
      },
    };
    return writer;
  }
}

/** Writes a whole buffer as one blob; "already exists" is success. */
export async function writeBlob(
  store: Store,
  ref: string,
  data: Uint8Array,
  desc: { digest: string; size?: number },
  labels?: Record<string, string>,
): Promise<void> {
  let w: Writer;
  try {
    w = await store.writer({ ref, total: data.length, expected: desc.digest, wait: true });
  } catch (e) {
    if (e instanceof ContentError && e.code === 'already-exists') return;
    throw e;
  }
  try {
    if (w.status().offset > 0) await w.truncate(0);
    await w.write(data);
    await w.commit(desc.size ?? data.length, desc.digest, labels ? { labels } : {});
  } catch (e) {
    if (e instanceof ContentError && e.code === 'already-exists') return;
    throw e;
  } finally {
    await w.close();
  }
}
