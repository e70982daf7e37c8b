// A small rtnetlink client over a NETLINK_ROUTE socket of the native addon:
// the link, address and route operations the bridge driver needs, each one
// request and one acknowledgement (no `ip` process per step). A client opened
// with a namespace path talks to that namespace for its whole life.
import { closeSync } from 'node:fs';
import { native } from '../../common/native.ts';
import {
  AF, IFA, IFF_UP, IFLA, IFLA_INFO, NLM_F, NLMSG_DONE, NLMSG_ERROR, RTA, RTM, VETH_INFO_PEER,
  cstr, decodeAttrs, decodeMessages, encodeAttrs, encodeMessage, formatMac, ifaddrmsg, ifinfomsg, ipv4Bytes, macBytes, readCstr, rtmsg, u32,
  type Attr, type Message,
} from './message.ts';

const SOCK_RAW = 3;
const NETLINK_ROUTE = 0;
const REPLY_TIMEOUT_MS = 5000;
const MAX_REPLY_DATAGRAMS = 100_000;

export interface Link { index: number; name: string; flags: number; mtu: number; master: number; kind: string; mac: string }
export interface Address { index: number; ip: string; prefixLen: number }

export class NetlinkError extends Error {
  readonly errno: number;
  readonly code: string;
  constructor(errno: number, what: string) {
    const names: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 17: 'EEXIST', 19: 'ENODEV', 22: 'EINVAL', 16: 'EBUSY', 101: 'ENETUNREACH', 99: 'EADDRNOTAVAIL' };
    const code = names[errno] ?? `E${errno}`;
    super(`netlink ${what}: ${code} (errno ${errno})`);
    this.errno = errno;
    this.code = code;
  }
}

export class Rtnetlink {
  private fd: number;
  private seq = 1;

  private constructor(fd: number) { this.fd = fd; }

  /** A client of the current namespace, or of the namespace file at nsPath (e.g. /proc/PID/ns/net). */
  static open(nsPath: string | null = null): Rtnetlink {
    return new Rtnetlink(native().netnsSocket(nsPath, AF.NETLINK, SOCK_RAW, NETLINK_ROUTE, null, 0));
  }

  close(): void {
    if (this.fd >= 0) { closeSync(this.fd); this.fd = -1; }
  }

  /** Sends a request and collects its replies until the ACK (or DONE for a dump). */
  private request(what: string, type: number, flags: number, header: Buffer, attrs: readonly Attr[] = []): Message[] {
    if (this.fd < 0) throw new Error('netlink: socket closed');
    const seq = this.seq++;
    native().netlinkSend(this.fd, encodeMessage(type, flags | NLM_F.REQUEST | NLM_F.ACK, seq, header, attrs));
    const out: Message[] = [];
    for (let i = 0; i < MAX_REPLY_DATAGRAMS; i++) {
      for (const m of decodeMessages(native().netlinkRecv(this.fd, REPLY_TIMEOUT_MS))) {
        if (m.seq !== seq) continue; // a late reply to an earlier request
        if (m.type === NLMSG_ERROR) {
          const err = -m.payload.readInt32LE(0);
          if (err !== 0) throw new NetlinkError(err, what);
          return out;
        }
        if (m.type === NLMSG_DONE) return out;
        out.push(m);
      }
    }
    throw new Error(`netlink ${what}: no end of reply`);
  }

  links(): Link[] {
    return this.request('dump links', RTM.GETLINK, NLM_F.DUMP, ifinfomsg(0)).filter((m) => m.type === RTM.NEWLINK).map(parseLink);
  }

  /** The link called name, or null. */
  link(name: string): Link | null {
    try {
      const [m] = this.request(`get link ${name}`, RTM.GETLINK, 0, ifinfomsg(0), [{ type: IFLA.IFNAME, value: cstr(name) }]);
      return m ? parseLink(m) : null;
    } catch (err) {
      if (err instanceof NetlinkError && err.code === 'ENODEV') return null;
      throw err;
    }
  }

  createBridge(name: string, opts: { mtu?: number; mac?: string } = {}): void {
    const attrs: Attr[] = [
      { type: IFLA.IFNAME, value: cstr(name) },
      { type: IFLA.LINKINFO, value: [{ type: IFLA_INFO.KIND, value: cstr('bridge') }] },
    ];
    if (opts.mtu) attrs.push({ type: IFLA.MTU, value: u32(opts.mtu) });
    if (opts.mac) attrs.push({ type: IFLA.ADDRESS, value: macBytes(opts.mac) });
    this.request(`create bridge ${name}`, RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, ifinfomsg(0), attrs);
  }

  /**
   * Creates a veth pair in one request: this end (name) up and enslaved to
   * master, the peer created directly inside the namespace open as peerNsFd
   * under peerName with peerMac, so no interface ever shows up in the host
   * namespace under a name that could collide.
   */
  createVeth(name: string, opts: { peerName: string; peerNsFd: number; peerMac?: string; master?: number; mtu?: number }): void {
    const peerAttrs: Attr[] = [
      { type: IFLA.IFNAME, value: cstr(opts.peerName) },
      { type: IFLA.NET_NS_FD, value: u32(opts.peerNsFd) },
    ];
    if (opts.peerMac) peerAttrs.push({ type: IFLA.ADDRESS, value: macBytes(opts.peerMac) });
    if (opts.mtu) peerAttrs.push({ type: IFLA.MTU, value: u32(opts.mtu) });
    const peer = Buffer.concat([ifinfomsg(0), encodeAttrs(peerAttrs)]);
    const attrs: Attr[] = [
      { type: IFLA.IFNAME, value: cstr(name) },
      { type: IFLA.LINKINFO, value: [
        { type: IFLA_INFO.KIND, value: cstr('veth') },
        { type: IFLA_INFO.DATA, value: [{ type: VETH_INFO_PEER, value: peer }] },
      ] },
    ];
    if (opts.mtu) attrs.push({ type: IFLA.MTU, value: u32(opts.mtu) });
    if (opts.master) attrs.push({ type: IFLA.MASTER, value: u32(opts.master) });
    this.request(`create veth ${name}`, RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, ifinfomsg(0, IFF_UP, IFF_UP), attrs);
  }

  setLink(index: number, opts: { up?: boolean; master?: number; mtu?: number; name?: string }): void {
    const attrs: Attr[] = [];
    if (opts.master !== undefined) attrs.push({ type: IFLA.MASTER, value: u32(opts.master) });
    if (opts.mtu) attrs.push({ type: IFLA.MTU, value: u32(opts.mtu) });
    if (opts.name) attrs.push({ type: IFLA.IFNAME, value: cstr(opts.name) });
    const change = opts.up === undefined ? 0 : IFF_UP;
    this.request(`set link ${index}`, RTM.NEWLINK, 0, ifinfomsg(index, opts.up ? IFF_UP : 0, change), attrs);
  }

  deleteLink(index: number): void {
    this.request(`delete link ${index}`, RTM.DELLINK, 0, ifinfomsg(index));
  }

  addAddress(index: number, ip: string, prefixLen: number): void {
    const attrs: Attr[] = [
      { type: IFA.LOCAL, value: ipv4Bytes(ip) },
      { type: IFA.ADDRESS, value: ipv4Bytes(ip) },
    ];
    if (prefixLen < 31) attrs.push({ type: IFA.BROADCAST, value: ipv4Bytes(broadcastOf(ip, prefixLen)) });
    this.request(`add address ${ip}/${prefixLen}`, RTM.NEWADDR, NLM_F.CREATE | NLM_F.EXCL, ifaddrmsg(AF.INET, prefixLen, index), attrs);
  }

  deleteAddress(index: number, ip: string, prefixLen: number): void {
    this.request(`delete address ${ip}/${prefixLen}`, RTM.DELADDR, 0, ifaddrmsg(AF.INET, prefixLen, index), [{ type: IFA.LOCAL, value: ipv4Bytes(ip) }]);
  }

  addresses(): Address[] {
    return this.request('dump addresses', RTM.GETADDR, NLM_F.DUMP, ifaddrmsg(AF.INET, 0, 0))
      .filter((m) => m.type === RTM.NEWADDR)
      .map((m) => {
        const attrs = decodeAttrs(m.payload.subarray(8));
        const a = attrs.get(IFA.LOCAL) ?? attrs.get(IFA.ADDRESS);
        return { index: m.payload.readUInt32LE(4), ip: a ? [...a].join('.') : '', prefixLen: m.payload.readUInt8(1) };
      });
  }

  /** Adds an IPv4 route in the main table (dst null: the default route). */
  addRoute(opts: { dst: string | null; dstLen: number; gateway?: string; oif: number }): void {
    const attrs: Attr[] = [{ type: RTA.OIF, value: u32(opts.oif) }];
    if (opts.dst) attrs.push({ type: RTA.DST, value: ipv4Bytes(opts.dst) });
    if (opts.gateway) attrs.push({ type: RTA.GATEWAY, value: ipv4Bytes(opts.gateway) });
    this.request(`add route ${opts.dst ?? 'default'}`, RTM.NEWROUTE, NLM_F.CREATE | NLM_F.EXCL, rtmsg(AF.INET, opts.dstLen), attrs);
  }
}


function parseLink(m: Message): Link {
  const attrs = decodeAttrs(m.payload.subarray(16));
  const info = attrs.get(IFLA.LINKINFO);
  const kind = info ? decodeAttrs(info).get(IFLA_INFO.KIND) : undefined;
  return {
    index: m.payload.readInt32LE(4),
    flags: m.payload.readUInt32LE(8),
    name: readCstr(attrs.get(IFLA.IFNAME) ?? Buffer.alloc(0)),
    mtu: attrs.get(IFLA.MTU)?.readUInt32LE(0) ?? 0,
    master: attrs.get(IFLA.MASTER)?.readUInt32LE(0) ?? 0,
    kind: kind ? readCstr(kind) : '',
    mac: formatMac(attrs.get(IFLA.ADDRESS) ?? Buffer.alloc(0)),
  };
}

function broadcastOf(ip: string, prefixLen: number): string {
  const n = ipv4Bytes(ip).readUInt32BE(0);
  const mask = prefixLen === 0 ? 0 : (~0 << (32 - prefixLen)) >>> 0;
  const b = Buffer.alloc(4);
  b.writeUInt32BE(((n & mask) | (~mask >>> 0)) >>> 0);
  return [...b].join('.');
}
