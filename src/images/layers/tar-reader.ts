// A streaming tar reader (ustar, PAX, GNU long names). Ours rather than a
// library's because layer application needs PAX values as raw bytes:
// SCHILY.xattr.security.capability is binary, and decoding it as UTF-8 (as
// tar-stream does) corrupts it. Every header is checked (checksum, sizes,
// numeric fields) and a malformed archive is an error, never a guess.
import type { Readable } from 'node:stream';

export type TarType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  name: string;
  type: TarType;
  /** the raw typeflag character */
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** seconds since the epoch, with a fraction when PAX gave one */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** PAX records of this entry (globals merged in), values as raw bytes */
  pax: Map<string, Buffer>;
}

export interface TarEntry {
  header: TarHeader;
  /** The entry's data; must be consumed (or skipped by moving on) before the next entry. */
  body: AsyncIterable<Buffer>;
}

const BLOCK = 512;
const MAX_META = 1 << 20; // PAX and long-name records larger than 1 MiB are refused

export class TarFormatError extends Error {
  constructor(message: string) {
    super(`malformed tar: ${message}`);
    this.name = 'TarFormatError';
  }
}

/** Buffered reading of exact byte counts from a stream. */
class ByteReader {
  private chunks: Buffer[] = [];
  private have = 0;
  private readonly it: AsyncIterator<Buffer>;
  private done = false;

  constructor(stream: AsyncIterable<Buffer>) {
    this.it = stream[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<boolean> {
    while (this.have < n && !this.done) {
      const r = await this.it.next();
      if (r.done) { this.done = true; break; }
      const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
      if (b.length) { this.chunks.push(b); this.have += b.length; }
    }
    return this.have >= n;
  }

  /** Exactly n bytes, or null at a clean end of stream (0 bytes left). */
  async read(n: number): Promise<Buffer | null> {
    if (!(await this.fill(n))) {
      if (this.have === 0) return null;
      throw new TarFormatError(`unexpected end of archive (wanted ${n} bytes, have ${this.have})`);
    }
    return this.take(n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] as Buffer : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.have = rest.length;
    return out;
  }

  /** Up to n bytes, as they arrive (for entry bodies). */
  async readSome(n: number): Promise<Buffer> {
    if (this.have === 0 && !(await this.fill(1))) throw new TarFormatError('unexpected end of archive inside an entry');
    const first = this.chunks[0] as Buffer;
    if (first.length <= n) {
      this.chunks.shift();
      this.have -= first.length;
      return first;
    }
    this.chunks[0] = first.subarray(n);
    this.have -= n;
    return first.subarray(0, n);
  }

  /** Reads and discards the rest of the stream (trailing zero blocks), bounded by nothing but the stream. */
  async drain(): Promise<void> {
    this.chunks = [];
    this.have = 0;
    while (!this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
    }
  }
}

function cstr(b: Buffer, off: number, len: number): Buffer {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return z < 0 ? s : s.subarray(0, z);
}

function num(b: Buffer, off: number, len: number, field: string): number {
  const s = b.subarray(off, off + len);
  if (s[0] !== undefined && (s[0] & 0x80) !== 0) {
    // base-256 (GNU): big-endian two's complement; negative values are refused
    if (s[0] & 0x40) throw new TarFormatError(`negative ${field}`);
    let v = BigInt(s[0] & 0x3f);
    for (let i = 1; i < s.length; i++) v = (v << 8n) | BigInt(s[i] as number);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new TarFormatError(`${field} too large`);
    return Number(v);
  }
  const t = s.toString('latin1').replace(/\0.*$/s, '').trim();
  if (t === '') return 0;
  if (!/^[0-7]+$/.test(t)) throw new TarFormatError(`bad octal ${field}: ${JSON.stringify(t)}`);
  const v = parseInt(t, 8);
  if (!Number.isSafeInteger(v)) throw new TarFormatError(`${field} too large`);
  return v;
}

function checksumOk(b: Buffer): boolean {
  const want = num(b, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 32 : (b[i] as number);
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return want === unsigned || want === signed;
}

/** Parses PAX records ("<len> <key>=<value>\n"), values kept as bytes. */
export function parsePax(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  for (let guard = 0; off < buf.length && guard < 1_000_000; guard++) {
    if (buf[off] === 0) break;
    const sp = buf.indexOf(0x20, off);
    if (sp < 0) throw new TarFormatError('bad PAX record (no length)');
    const lenText = buf.subarray(off, sp).toString('latin1');
    if (!/^[0-9]+$/.test(lenText)) throw new TarFormatError('bad PAX record length');
    const len = Number(lenText);
    const end = off + len;
    if (len <= sp - off + 1 || end > buf.length || buf[end - 1] !== 0x0a) throw new TarFormatError('bad PAX record');
    const rec = buf.subarray(sp + 1, end - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw new TarFormatError('bad PAX record (no key)');
    out.set(rec.subarray(0, eq).toString('utf8'), Buffer.from(rec.subarray(eq + 1)));
    off = end;
  }
  return out;
}

const TYPES: Record<string, TarType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};

/**
 * Iterates the entries of a tar stream. Each entry's body must be consumed
 * before asking for the next entry; an unconsumed body is skipped.
 */
export async function* readTar(stream: Readable | AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(stream as AsyncIterable<Buffer>);
  let globalPax = new Map<string, Buffer>();
  let pax: Map<string, Buffer> | null = null;
  let longName: Buffer | null = null;
  let longLink: Buffer | null = null;
  for (;;) {
    const h = await r.read(BLOCK);
    if (h === null) {
      // Some writers end without the two zero blocks; a clean end between entries is accepted.
      if (pax || longName || longLink) throw new TarFormatError('archive ends after an extended header');
      return;
    }
    if (h.every((c) => c === 0)) {
      await r.drain();
      if (pax || longName || longLink) throw new TarFormatError('archive ends after an extended header');
      return;
    }
    if (!checksumOk(h)) throw new TarFormatError('header checksum mismatch');
    const typeflag = String.fromCharCode(h[156] as number);
    const size = num(h, 124, 12, 'size');
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > MAX_META) throw new TarFormatError(`extended header of ${size} bytes`);
      const data = (await r.read(padded)) ?? Buffer.alloc(0);
      if (data.length < padded) throw new TarFormatError('truncated extended header');
      const body = data.subarray(0, size);
      if (typeflag === 'x') pax = parsePax(body);
      else if (typeflag === 'g') globalPax = new Map([...globalPax, ...parsePax(body)]);
      else if (typeflag === 'L') longName = cstr(body, 0, body.length);
      else longLink = cstr(body, 0, body.length);
      continue;
    }
    const type = TYPES[typeflag];
    if (!type) throw new TarFormatError(`unsupported entry type ${JSON.stringify(typeflag)}`);
    const magic = h.subarray(257, 263).toString('latin1');
    let nameBytes = cstr(h, 0, 100);
    if (magic === 'ustar\0') {
      const prefix = cstr(h, 345, 155);
      if (prefix.length) nameBytes = Buffer.concat([prefix, Buffer.from('/'), nameBytes]);
    }
    const records = new Map([...globalPax, ...(pax ?? [])]);
    let name = (longName ?? nameBytes).toString('utf8');
    let linkname = (longLink ?? cstr(h, 157, 100)).toString('utf8');
    const p = records.get('path');
    if (p) name = p.toString('utf8');
    const lp = records.get('linkpath');
    if (lp) linkname = lp.toString('utf8');
    let realSize = size;
    const ps = records.get('size');
    if (ps) {
      const t = ps.toString('latin1');
      if (!/^[0-9]+$/.test(t) || !Number.isSafeInteger(Number(t))) throw new TarFormatError('bad PAX size');
      realSize = Number(t);
    }
    const header: TarHeader = {
      name, type, typeflag, linkname,
      mode: num(h, 100, 8, 'mode') & 0o7777,
      uid: paxNum(records, 'uid') ?? num(h, 108, 8, 'uid'),
      gid: paxNum(records, 'gid') ?? num(h, 116, 8, 'gid'),
      size: type === 'file' ? realSize : 0,
      mtime: paxTime(records.get('mtime')) ?? num(h, 136, 12, 'mtime'),
      devmajor: magic.startsWith('ustar') ? num(h, 329, 8, 'devmajor') : 0,
      devminor: magic.startsWith('ustar') ? num(h, 337, 8, 'devminor') : 0,
      pax: records,
    };
    pax = null; longName = null; longLink = null;
    // Non-file entries may still carry data (e.g. a hardlink with a size): skip it.
    let left = realSize;
    const body = (async function* () {
      while (left > 0) {
        const c = await r.readSome(Math.min(left, 1 << 20));
        left -= c.length;
        yield c;
      }
    })();
    yield { header, body: type === 'file' ? body : (async function* () {})() };
    while (left > 0) left -= (await r.readSome(Math.min(left, 1 << 20))).length;
    const pad = Math.ceil(realSize / BLOCK) * BLOCK - realSize;
    if (pad > 0 && (await r.read(pad)) === null) throw new TarFormatError('truncated entry padding');
  }
}

function paxNum(m: Map<string, Buffer>, key: string): number | undefined {
  const v = m.get(key);
  if (!v) return undefined;
  const t = v.toString('latin1');
  if (!/^[0-9]+$/.test(t) || !Number.isSafeInteger(Number(t))) throw new TarFormatError(`bad PAX ${key}`);
  return Number(t);
}

function paxTime(v: Buffer | undefined): number | undefined {
  if (!v) return undefined;
  const t = v.toString('latin1');
  if (!/^-?[0-9]+(\.[0-9]+)?$/.test(t)) throw new TarFormatError('bad PAX mtime');
  return Number(t);
}
