// The content store's interfaces, split as containerd splits them:
// Provider (read), Ingester (write under a ref, commit by digest),
// Manager (info, labels, walk, delete) and IngestManager (in-flight writes).
import type { Readable } from 'node:stream';

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

export interface Info {
  digest: string;
  size: number;
  createdAt: Date;
  updatedAt: Date;
  labels: Record<string, string>;
}

/** The state of an ingest: `offset` is what is on disk now (the data file's size). */
export interface Status {
  ref: string;
  offset: number;
  total: number;
  expected: string;
  startedAt: Date;
  updatedAt: Date;
}

export interface ReaderAt {
  readonly size: number;
  /** Reads up to `length` bytes at `offset`; fewer only at the end. */
  readAt(buf: Buffer, offset: number, length?: number): Promise<number>;
  close(): Promise<void>;
}

export interface Provider {
  readerAt(desc: Pick<Descriptor, 'digest'>): Promise<ReaderAt>;
  /** A stream of the blob from `start` (default 0). */
  stream(desc: Pick<Descriptor, 'digest'>, start?: number): Promise<Readable>;
  /** The whole blob in memory: for manifests and configs only (bounded by maxBytes). */
  readBlob(desc: Pick<Descriptor, 'digest'>, maxBytes?: number): Promise<Buffer>;
}

export interface WriterOptions {
  /** The ingest's name; the same ref resumes the same ingest. */
  ref: string;
  /** Expected total size, when known. */
  total?: number;
  /** Expected digest, when known: a committed blob with it makes writer() throw AlreadyExists. */
  expected?: string;
  /** Wait for another writer holding the ref instead of failing with Unavailable. */
  wait?: boolean;
}

export interface Writer {
  /** Appends at the current offset. */
  write(chunk: Uint8Array): Promise<void>;
  status(): Status;
  /** The digest of what has been written so far. */
  digest(): string;
  /** Drops everything written so far (start over, e.g. when a server ignores Range). */
  truncate(size: 0): Promise<void>;
  /**
   * Checks size and digest, fsyncs and moves the data into blobs/ atomically.
   * Throws AlreadyExists (the ingest is removed) when the blob is already there.
   */
  commit(size: number, expected: string, opts?: { labels?: Record<string, string> }): Promise<void>;
  /** Releases the ref lock; the ingest stays on disk for a later resume. */
  close(): Promise<void>;
}

export interface Ingester {
  writer(opts: WriterOptions): Promise<Writer>;
}

export interface Manager {
  info(dgst: string): Promise<Info>;
  /** Replaces the labels named in `fieldpaths` (all of them when empty): `labels.<key>` or `labels`. */
  update(info: Pick<Info, 'digest' | 'labels'>, fieldpaths?: string[]): Promise<Info>;
  walk(fn: (info: Info) => void | Promise<void>): Promise<void>;
  delete(dgst: string): Promise<void>;
}

export interface IngestManager {
  status(ref: string): Promise<Status>;
  listStatuses(): Promise<Status[]>;
  /** Removes an ingest and its data. */
  abort(ref: string): Promise<void>;
}

export interface Store extends Provider, Ingester, Manager, IngestManager {}

/** Where content labels live (the metadata database in Dray; a map in tests). */
export interface LabelStore {
  get(dgst: string): Record<string, string>;
  set(dgst: string, labels: Record<string, string>): void;
  delete(dgst: string): void;
}
