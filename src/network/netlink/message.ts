// Netlink wire format (rtnetlink subset): building requests and splitting
// replies. Pure functions over Buffers, so they are tested without a kernel.

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const NLM_F = {
  REQUEST: 0x1, MULTI: 0x2, ACK: 0x4,
  DUMP: 0x300, // ROOT | MATCH
  REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400,
} as const;

export const RTM = {
  NEWLINK: 16, DELLINK: 17, GETLINK: 18, SETLINK: 19,
  NEWADDR: 20, DELADDR: 21, GETADDR: 22,
  NEWROUTE: 24, DELROUTE: 25, GETROUTE: 26,
} as const;

export const IFLA = {
  ADDRESS: 1, BROADCAST: 2, IFNAME: 3, MTU: 4, LINK: 5, MASTER: 10, LINKINFO: 18, NET_NS_FD: 28,
} as const;
export const IFLA_INFO = { KIND: 1, DATA: 2 } as const;
export const VETH_INFO_PEER = 1;
export const IFA = { ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4 } as const;
export const RTA = { DST: 1, OIF: 4, GATEWAY: 5, TABLE: 15 } as const;
export const AF = { UNSPEC: 0, INET: 2, NETLINK: 16 } as const;
export const IFF_UP = 0x1;

/** One attribute: a payload, or nested attributes. */
export interface Attr { type: number; value: Buffer | Attr[] }

const align4 = (n: number): number => (n + 3) & ~3;

export function encodeAttrs(attrs: readonly Attr[]): Buffer {
  const parts: Buffer[] = [];
  for (const a of attrs) {
    const payload = Buffer.isBuffer(a.value) ? a.value : encodeAttrs(a.value);
    const len = 4 + payload.length;
    const b = Buffer.alloc(align4(len));
    b.writeUInt16LE(len, 0);
    b.writeUInt16LE(a.type, 2);
    payload.copy(b, 4);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

/** Attributes of a payload as a map type -> last value (the kernel sends each once). */
export function decodeAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break; // malformed: stop rather than read past the end
    out.set(buf.readUInt16LE(off + 2) & 0x3fff, buf.subarray(off + 4, off + len)); // strip NLA_F_NESTED / NET_BYTEORDER
    off += align4(len);
  }
  return out;
}

export const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; };
export const cstr = (s: string): Buffer => Buffer.concat([Buffer.from(s), Buffer.alloc(1)]);
export const readCstr = (b: Buffer): string => { const z = b.indexOf(0); return b.subarray(0, z < 0 ? b.length : z).toString(); };

/** struct ifinfomsg */
export function ifinfomsg(index: number, flags = 0, change = 0, family: number = AF.UNSPEC): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(family, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags >>> 0, 8);
  b.writeUInt32LE(change >>> 0, 12);
  return b;
}

/** struct ifaddrmsg */
export function ifaddrmsg(family: number, prefixLen: number, index: number, scope = 0): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(family, 0);
  b.writeUInt8(prefixLen, 1);
  b.writeUInt8(scope, 3);
  b.writeUInt32LE(index, 4);
  return b;
}

/** struct rtmsg: main table, static protocol, universe scope, unicast. */
export function rtmsg(family: number, dstLen: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(family, 0);
  b.writeUInt8(dstLen, 1);
  b.writeUInt8(254, 4); // RT_TABLE_MAIN
  b.writeUInt8(4, 5);   // RTPROT_STATIC
  b.writeUInt8(0, 6);   // RT_SCOPE_UNIVERSE
  b.writeUInt8(1, 7);   // RTN_UNICAST
  return b;
}

export function encodeMessage(type: number, flags: number, seq: number, header: Buffer, attrs: readonly Attr[] = []): Buffer {
  const body = Buffer.concat([header, Buffer.alloc(align4(header.length) - header.length), encodeAttrs(attrs)]);
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt32LE(seq >>> 0, 8);
  h.writeUInt32LE(0, 12); // the kernel fills in our port id
  return Buffer.concat([h, body]);
}

export interface Message { type: number; flags: number; seq: number; payload: Buffer }

/** Splits one datagram into its netlink messages. */
export function decodeMessages(buf: Buffer): Message[] {
  const out: Message[] = [];
  let off = 0;
  while (off + 16 <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < 16 || off + len > buf.length) throw new Error(`netlink: malformed message (length ${len} at ${off} of ${buf.length})`);
    out.push({ type: buf.readUInt16LE(off + 4), flags: buf.readUInt16LE(off + 6), seq: buf.readUInt32LE(off + 8), payload: buf.subarray(off + 16, off + len) });
    off += align4(len);
  }
  return out;
}

export function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`invalid IPv4 address: ${ip}`);
  return Buffer.from(parts);
}

export function macBytes(mac: string): Buffer {
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) throw new Error(`invalid MAC address: ${mac}`);
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

export const formatMac = (b: Buffer): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
