// The embedded DNS of user-defined networks. Docker starts a resolver per
// container and DNATs 127.0.0.11:53 inside the container's namespace to it;
// here the native addon creates the UDP and TCP sockets directly inside the
// container's namespace, bound to 127.0.0.11:53, and this process serves
// them: no rule inside the container, and the answer knows which container
// asked (the socket it came in on), so names resolve by that container's
// networks and --link aliases. Unknown names are forwarded to the upstream
// resolvers (the container's --dns, else the host's) from the host namespace.
import dgram from 'node:dgram';
import net from 'node:net';
import { closeSync } from 'node:fs';
import dnsPacket from 'dns-packet';
import { native } from '../../common/native.ts';
import { EMBEDDED_DNS_IP } from '../files.ts';

const AF_INET = 2, SOCK_STREAM = 1, SOCK_DGRAM = 2;
const TTL = 600;
const MAX_TCP_MESSAGE = 65535;

/** What the server asks of the network manager, per querying container. */
export interface DnsRecords {
  /** IPv4 addresses of name as seen from containerId; null when the name is not one of its networks'. */
  lookup(containerId: string, name: string): string[] | null;
  /** The name of ip on one of containerId's networks, or null. */
  reverse(containerId: string, ip: string): string | null;
  /** Upstream resolvers, "ip" or "ip:port". */
  upstreams(containerId: string): string[];
}

interface Listener { udp: dgram.Socket; tcp: net.Server }

export class EmbeddedDns {
  private readonly records: DnsRecords;
  private readonly timeoutMs: number;
  private readonly listeners = new Map<string, Listener>();

  constructor(records: DnsRecords, opts: { timeoutMs?: number } = {}) {
    this.records = records;
    this.timeoutMs = opts.timeoutMs ?? 3000;
  }

  has(containerId: string): boolean { return this.listeners.has(containerId); }

  /** Starts answering at 127.0.0.11:53 inside the namespace at netnsPath (idempotent per container). */
  async attach(containerId: string, netnsPath: string): Promise<void> {
    if (this.listeners.has(containerId)) return;
    const udpFd = native().netnsSocket(netnsPath, AF_INET, SOCK_DGRAM, 0, EMBEDDED_DNS_IP, 53);
    let tcpFd = -1;
    try {
      tcpFd = native().netnsSocket(netnsPath, AF_INET, SOCK_STREAM, 0, EMBEDDED_DNS_IP, 53);
    } catch (err) {
      closeSync(udpFd);
      throw err;
    }
    const udp = dgram.createSocket('udp4');
    udp.on('message', (msg, rinfo) => {
      void this.answer(containerId, msg).then((reply) => {
        if (!reply) return;
        try {
          udp.send(reply, rinfo.port, rinfo.address);
        } catch {
          // detached while the upstream was asked: the client retries elsewhere
        }
      });
    });
    udp.on('error', () => { /* a send to a vanished client: nothing to do */ });
    await new Promise<void>((resolve) => udp.bind({ fd: udpFd }, resolve));
    const tcp = net.createServer((conn) => this.serveTcp(containerId, conn));
    tcp.on('error', () => {});
    await new Promise<void>((resolve, reject) => { tcp.once('error', reject); tcp.listen({ fd: tcpFd }, () => { tcp.off('error', reject); resolve(); }); });
    this.listeners.set(containerId, { udp, tcp });
  }

  detach(containerId: string): void {
    const l = this.listeners.get(containerId);
    if (!l) return;
    this.listeners.delete(containerId);
    l.udp.close();
    l.tcp.close();
  }

  close(): void {
    for (const id of [...this.listeners.keys()]) this.detach(id);
  }

  private serveTcp(containerId: string, conn: net.Socket): void {
    let buf = Buffer.alloc(0);
    conn.setTimeout(this.timeoutMs * 2, () => conn.destroy());
    conn.on('error', () => {});
    conn.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > MAX_TCP_MESSAGE + 2) { conn.destroy(); return; }
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.answer(containerId, msg, true).then((reply) => {
          if (reply && !conn.destroyed) conn.write(Buffer.concat([lengthPrefix(reply.length), reply]));
        });
      }
    });
  }

  /** The reply to one query, or null for garbage (dropped, as resolvers do). */
  async answer(containerId: string, msg: Buffer, tcp = false): Promise<Buffer | null> {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return null;
    }
    if (query.type !== 'query' || !query.questions?.length) return null;
    const q = query.questions[0]!;
    const name = q.name.replace(/\.$/, '').toLowerCase();
    const base = { id: query.id ?? 0, type: 'response' as const, flags: (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: [q] };
    if (q.type === 'PTR' && name.endsWith('.in-addr.arpa')) {
      const ip = name.slice(0, -'.in-addr.arpa'.length).split('.').reverse().join('.');
      const host = this.records.reverse(containerId, ip);
      if (host) return dnsPacket.encode({ ...base, answers: [{ type: 'PTR', class: 'IN', name: q.name, ttl: TTL, data: host }] });
    } else if (q.type === 'A' || q.type === 'AAAA') {
      const ips = this.records.lookup(containerId, name);
      if (ips) {
        // No IPv6 on Dray's networks: a known name has no AAAA record (NOERROR, no answers), as Docker answers.
        const answers = q.type === 'A' ? ips.map((data) => ({ type: 'A' as const, class: 'IN' as const, name: q.name, ttl: TTL, data })) : [];
        return dnsPacket.encode({ ...base, answers });
      }
    }
    return this.forward(containerId, msg, query.id ?? 0, tcp);
  }

  private async forward(containerId: string, msg: Buffer, id: number, tcp: boolean): Promise<Buffer> {
    for (const upstream of this.records.upstreams(containerId)) {
      const [host, portText] = upstream.includes(':') && !upstream.includes('::') ? upstream.split(':') as [string, string] : [upstream, '53'];
      const reply = tcp ? await this.askTcp(host, Number(portText), msg) : await this.askUdp(host, Number(portText), msg);
      if (reply && reply.length >= 2 && reply.readUInt16BE(0) === id) return reply;
    }
    const fail = Buffer.from(msg.subarray(0, 12));
    fail[2] = 0x80 | (fail[2]! & 0x79); // QR, keep opcode and RD
    fail[3] = 0x80 | 2;                   // RA, SERVFAIL
    fail.writeUInt16BE(0, 4); fail.writeUInt32BE(0, 6); fail.writeUInt16BE(0, 10); // no sections: the header alone is a valid reply
    return fail;
  }

  private askUdp(host: string, port: number, msg: Buffer): Promise<Buffer | null> {
    return new Promise((resolve) => {
      const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      const done = (r: Buffer | null): void => { clearTimeout(timer); s.close(); resolve(r); };
      const timer = setTimeout(() => done(null), this.timeoutMs);
      s.on('error', () => done(null));
      s.on('message', (reply, rinfo) => { if (rinfo.port === port) done(reply); });
      s.send(msg, port, host);
    });
  }

  private askTcp(host: string, port: number, msg: Buffer): Promise<Buffer | null> {
    return new Promise((resolve) => {
      let buf = Buffer.alloc(0);
      const s = net.connect({ host, port });
      const done = (r: Buffer | null): void => { clearTimeout(timer); s.destroy(); resolve(r); };
      const timer = setTimeout(() => done(null), this.timeoutMs);
      s.on('error', () => done(null));
      s.on('connect', () => s.write(Buffer.concat([lengthPrefix(msg.length), msg])));
      s.on('data', (c) => {
        buf = Buffer.concat([buf, c]);
        if (buf.length > MAX_TCP_MESSAGE + 2) done(null);
        else if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      });
    });
  }
}

function lengthPrefix(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
