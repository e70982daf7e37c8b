// Encoding tar headers (ustar, with PAX records when a field does not fit).
// PAX values are raw bytes, so binary xattrs (security.capability) survive.
import type { TarType } from './tar-reader.ts';

export interface WriteHeader {
  name: string;
  type: TarType;
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  /** whole seconds */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** extra PAX records, e.g. SCHILY.xattr.<name> */
  pax?: Map<string, Buffer>;
}

const TYPEFLAG: Record<TarType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;
export const BLOCK = 512;

function isAscii(s: string): boolean {
  return /^[\x01-\x7f]*$/.test(s);
}

function octal(buf: Buffer, off: number, len: number, v: number): void {
  buf.write(v.toString(8).padStart(len - 1, '0') + '\0', off, len, 'latin1');
}

/** ustar's name/prefix split, or null when the name needs a PAX path. */
function splitName(name: string): [prefix: string, name: string] | null {
  if (!isAscii(name)) return null;
  if (name.length <= 100) return ['', name];
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    if (i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) return [name.slice(0, i), name.slice(i + 1)];
  }
  return null;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function encodeBlock(h: { name: string; prefix: string; typeflag: string; mode: number; uid: number; gid: number; size: number; mtime: number; linkname: string; devmajor: number; devminor: number }): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(h.name, 0, 100, 'latin1');
  octal(b, 100, 8, h.mode & 0o7777);
  octal(b, 108, 8, Math.min(h.uid, MAX_OCTAL_8));
  octal(b, 116, 8, Math.min(h.gid, MAX_OCTAL_8));
  octal(b, 124, 12, Math.min(h.size, MAX_OCTAL_12));
  octal(b, 136, 12, Math.max(0, Math.min(h.mtime, MAX_OCTAL_12)));
  b.write(h.typeflag, 156, 1, 'latin1');
  b.write(h.linkname, 157, 100, 'latin1');
  b.write('ustar\x0000', 257, 8, 'latin1');
  octal(b, 329, 8, h.devmajor);
  octal(b, 337, 8, h.devminor);
  b.write(h.prefix, 345, 155, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of b) sum += c;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return b;
}

/** The header blocks of one entry (a PAX header first when needed). */
export function encodeHeader(h: WriteHeader): Buffer {
  const name = h.type === 'dir' && !h.name.endsWith('/') ? `${h.name}/` : h.name;
  const linkname = h.linkname ?? '';
  const size = h.size ?? 0;
  const pax = new Map<string, Buffer>();
  let split = splitName(name);
  if (!split) {
    pax.set('path', Buffer.from(name));
    split = ['', Buffer.from(name).subarray(0, 99).toString('latin1').replace(/[^\x01-\x7f]/g, '_')];
  }
  let link = linkname;
  if (!isAscii(linkname) || linkname.length > 100) {
    pax.set('linkpath', Buffer.from(linkname));
    link = '';
  }
  if (h.uid > MAX_OCTAL_8) pax.set('uid', Buffer.from(String(h.uid)));
  if (h.gid > MAX_OCTAL_8) pax.set('gid', Buffer.from(String(h.gid)));
  if (size > MAX_OCTAL_12) pax.set('size', Buffer.from(String(size)));
  for (const [k, v] of h.pax ?? []) pax.set(k, v);
  const main = encodeBlock({
    name: split[1], prefix: split[0], typeflag: TYPEFLAG[h.type], mode: h.mode, uid: h.uid, gid: h.gid,
    size, mtime: h.mtime, linkname: link, devmajor: h.devmajor ?? 0, devminor: h.devminor ?? 0,
  });
  if (pax.size === 0) return main;
  // Sorted keys: the same entry always encodes to the same bytes.
  const records = Buffer.concat([...pax.keys()].sort().map((k) => paxRecord(k, pax.get(k) as Buffer)));
  const base = split[1].replace(/\/$/, '').split('/').pop() ?? '';
  const xh = encodeBlock({
    name: `PaxHeaders/${base}`.slice(0, 100), prefix: '', typeflag: 'x', mode: 0o644, uid: 0, gid: 0,
    size: records.length, mtime: h.mtime, linkname: '', devmajor: 0, devminor: 0,
  });
  return Buffer.concat([xh, records, padding(records.length), main]);
}

export function padding(size: number): Buffer {
  const n = (BLOCK - (size % BLOCK)) % BLOCK;
  return Buffer.alloc(n);
}

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
