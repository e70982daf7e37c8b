// IPv4 address management: CIDR arithmetic, choosing a free subnet from the
// pools (never one that overlaps a host route or another network), and
// handing out addresses inside a subnet or its --ip-range.
import { readFileSync } from 'node:fs';
import { NetworkConflictError, NetworkInputError } from './errors.ts';

export interface Cidr { base: number; prefixLen: number }

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new NetworkInputError(`invalid IPv4 address: ${ip}`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new NetworkInputError(`invalid IPv4 address: ${ip}`);
    n = n * 256 + Number(p);
  }
  return n;
}

export const intToIp = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

const maskOf = (prefixLen: number): number => (prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0);

/** Parses "a.b.c.d/n"; the host bits are cleared (Docker keeps the given base only when it is the network address). */
export function parseCidr(s: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s);
  if (!m || Number(m[2]) > 32) throw new NetworkInputError(`invalid CIDR address: ${s}`);
  const prefixLen = Number(m[2]);
  return { base: (ipToInt(m[1]!) & maskOf(prefixLen)) >>> 0, prefixLen };
}

export const formatCidr = (c: Cidr): string => `${intToIp(c.base)}/${c.prefixLen}`;
export const cidrSize = (c: Cidr): number => 2 ** (32 - c.prefixLen);
export const cidrContains = (c: Cidr, ip: number): boolean => ((ip & maskOf(c.prefixLen)) >>> 0) === c.base;
export const cidrInside = (inner: Cidr, outer: Cidr): boolean => inner.prefixLen >= outer.prefixLen && cidrContains(outer, inner.base);
export const cidrsOverlap = (a: Cidr, b: Cidr): boolean => cidrContains(a, b.base) || cidrContains(b, a.base);

/** The host's IPv4 routes (main table, /proc/net/route), default route excluded. */
export function hostRoutes(path = '/proc/net/route'): Cidr[] {
  const out: Cidr[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const le = (h: string): number => Buffer.from(h.padStart(8, '0'), 'hex').readUInt32LE(0);
    const dest = le(f[1]!), mask = le(f[7]!);
    if (mask === 0) continue; // the default route covers everything; it is not a collision
    const prefixLen = popcount(mask);
    out.push({ base: (dest & mask) >>> 0, prefixLen });
  }
  return out;
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n >>> 0; x; x >>>= 1) c += x & 1;
  return c;
}

/**
 * The default address pools, as Docker's (172.17-31/16, then 192.168/20s),
 * but starting at 172.18 so the default bridge does not sit on docker0's
 * 172.17/16 on hosts that run both.
 */
export function defaultPools(): Cidr[] {
  const pools: Cidr[] = [];
  for (let b = 18; b <= 31; b++) pools.push({ base: ipToInt(`172.${b}.0.0`), prefixLen: 16 });
  for (let c = 0; c < 256; c += 16) pools.push({ base: ipToInt(`192.168.${c}.0`), prefixLen: 20 });
  return pools;
}

/** The first pool that overlaps nothing in taken. */
export function choosePool(pools: readonly Cidr[], taken: readonly Cidr[]): Cidr {
  for (const p of pools) if (!taken.some((t) => cidrsOverlap(p, t))) return p;
  throw new NetworkInputError('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}

export interface Subnet { subnet: Cidr; gateway: number; ipRange: Cidr | null }

/** Validates a user's IPAM config: gateway and range inside the subnet. */
export function subnetFromConfig(cfg: { Subnet: string; Gateway?: string; IPRange?: string }): Subnet {
  const subnet = parseCidr(cfg.Subnet);
  if (subnet.prefixLen > 30) throw new NetworkInputError(`subnet ${cfg.Subnet} is too small: at least a /30 is needed`);
  const ipRange = cfg.IPRange ? parseCidr(cfg.IPRange) : null;
  if (ipRange && !cidrInside(ipRange, subnet)) throw new NetworkInputError(`ip-range ${cfg.IPRange} is not inside subnet ${cfg.Subnet}`);
  const gateway = cfg.Gateway ? ipToInt(cfg.Gateway) : subnet.base + 1;
  if (!cidrContains(subnet, gateway) || gateway === subnet.base || gateway === subnet.base + cidrSize(subnet) - 1) {
    throw new NetworkInputError(`gateway ${intToIp(gateway)} is not a usable address of subnet ${cfg.Subnet}`);
  }
  return { subnet, gateway, ipRange };
}

/** The first free address of the range (or subnet), never the network, broadcast or gateway address. */
export function allocateAddress(s: Subnet, used: ReadonlySet<number>): number {
  const range = s.ipRange ?? s.subnet;
  const first = Math.max(range.base, s.subnet.base + 1);
  const last = Math.min(range.base + cidrSize(range) - 1, s.subnet.base + cidrSize(s.subnet) - 2);
  for (let ip = first; ip <= last; ip++) {
    if (ip !== s.gateway && !used.has(ip)) return ip;
  }
  throw new NetworkConflictError(`no available IPv4 addresses on this network's address pools: ${formatCidr(s.subnet)}`);
}

/** Checks a static --ip: inside the subnet, not reserved, not taken. */
export function checkStaticAddress(s: Subnet, ip: number, used: ReadonlySet<number>): void {
  if (!cidrContains(s.subnet, ip)) throw new NetworkInputError(`no configured subnet contains IP address ${intToIp(ip)}`);
  if (ip === s.subnet.base || ip === s.subnet.base + cidrSize(s.subnet) - 1 || ip === s.gateway) {
    throw new NetworkInputError(`address ${intToIp(ip)} is reserved on subnet ${formatCidr(s.subnet)}`);
  }
  if (used.has(ip)) throw new NetworkConflictError(`Address already in use: ${intToIp(ip)}`);
}
