// The network library's entry point for the engine: Docker's networks
// (bridge, host, none, user-defined bridges) over a persistent store, and
// the per-container work around create/start/stop: connect, publish,
// /etc files, embedded DNS, and reconcile at daemon start.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import type { DatabaseSync } from 'node:sqlite';
import { BridgePlumbing, writeSysctl } from './bridge.ts';
import { EmbeddedDns } from './dns/server.ts';
import { NetworkConflictError, NetworkError, NetworkForbiddenError, NetworkInputError, NetworkNotFoundError } from './errors.ts';
import { hostsFile, hostnameFile, parseResolvConf, resolvConfFile, type ContainerFileOptions } from './files.ts';
import { Firewall, type FirewallNetwork, type FirewallPort } from './firewall.ts';
import {
  allocateAddress, checkStaticAddress, choosePool, cidrsOverlap, defaultPools, formatCidr, hostRoutes, intToIp, ipToInt,
  parseCidr, subnetFromConfig, type Cidr, type Subnet,
} from './ipam.ts';
import { NetworkStore, type EndpointRecord, type LinkRecord, type NetworkRecord, type PortRecord } from './store.ts';
import type { EndpointSettings, NetworkCreateRequest, NetworkJson, PortSpec, PublishedPort } from './types.ts';

export interface NetworkManagerOptions {
  /** The daemon's open database, or a path to one. */
  db: DatabaseSync | string;
  /** Bridge of the default network `bridge`. */
  defaultBridge?: string;
  /** Subnet of the default network; chosen from the pools (avoiding host routes) when absent. */
  defaultSubnet?: string;
  /** Prefix of user-defined bridges (a name is prefix + network id, 15 characters). */
  bridgePrefix?: string;
  /** Prefix of the iptables chains. */
  chainPrefix?: string;
  /** Address pools for networks created without a subnet. */
  pools?: string[];
  /** The host's resolver configuration. */
  resolvConfPath?: string;
  /** Upstream resolvers of the embedded DNS ("ip" or "ip:port"), instead of the host's. */
  dnsUpstreams?: string[];
  dnsTimeoutMs?: number;
  mtu?: number;
}

export interface ContainerRef { id: string; name: string; netns: string }

export interface ConnectOptions {
  aliases?: string[];
  ipv4Address?: string;
  links?: LinkRecord[];
  macAddress?: string;
  /** --dns: upstreams of the embedded DNS for this container. */
  dnsServers?: string[];
}

export interface ReconcileReport { endpointsRemoved: number; linksRemoved: number; bridgesCreated: number; dnsStarted: number }

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const OPT = {
  bridgeName: 'com.docker.network.bridge.name',
  icc: 'com.docker.network.bridge.enable_icc',
  masquerade: 'com.docker.network.bridge.enable_ip_masquerade',
  mtu: 'com.docker.network.driver.mtu',
  defaultBridge: 'com.docker.network.bridge.default_bridge',
  hostBinding: 'com.docker.network.bridge.host_binding_ipv4',
} as const;

export class NetworkManager {
  readonly store: NetworkStore;
  readonly firewall: Firewall;
  private readonly opts: Required<Omit<NetworkManagerOptions, 'db' | 'defaultSubnet' | 'dnsUpstreams'>> & Pick<NetworkManagerOptions, 'defaultSubnet' | 'dnsUpstreams'>;
  private plumbingInstance: BridgePlumbing | undefined;
  private readonly dns: EmbeddedDns;

  constructor(options: NetworkManagerOptions) {
    this.opts = {
      defaultBridge: 'dray0', bridgePrefix: 'dray-', chainPrefix: 'DRAY', pools: [], resolvConfPath: '/etc/resolv.conf',
      dnsTimeoutMs: 3000, mtu: 1500, ...options,
    };
    if (!/^[a-zA-Z0-9_-]{1,15}$/.test(this.opts.defaultBridge)) throw new Error(`invalid bridge name: ${this.opts.defaultBridge}`);
    if (!/^[a-zA-Z0-9_-]{1,8}$/.test(this.opts.bridgePrefix)) throw new Error(`invalid bridge prefix: ${this.opts.bridgePrefix}`);
    this.store = new NetworkStore(options.db);
    this.firewall = new Firewall(this.opts.chainPrefix);
    this.dns = new EmbeddedDns({
      lookup: (c, n) => this.dnsLookup(c, n),
      reverse: (c, ip) => this.dnsReverse(c, ip),
      upstreams: (c) => this.dnsUpstreams(c),
    }, { timeoutMs: this.opts.dnsTimeoutMs });
    this.ensureDefaultNetworks();
  }

  private get plumbing(): BridgePlumbing {
    this.plumbingInstance ??= new BridgePlumbing();
    return this.plumbingInstance;
  }

  /** Stops the DNS listeners and closes sockets; kernel state stays (containers keep their network across a daemon restart). */
  close(): void {
    this.dns.close();
    this.plumbingInstance?.close();
    this.plumbingInstance = undefined;
    this.store.close();
  }

  // ---- networks ----

  private ensureDefaultNetworks(): void {
    this.store.tx(() => {
      const names = new Set(this.store.networks().map((n) => n.name));
      if (!names.has('bridge')) {
        const subnet = this.opts.defaultSubnet ? parseCidr(this.opts.defaultSubnet) : this.freePool();
        const gateway = intToIp(subnet.base + 1);
        this.store.putNetwork(this.record({
          name: 'bridge', driver: 'bridge', bridge: this.opts.defaultBridge, subnet: formatCidr(subnet), gateway, builtin: true,
          userSubnet: false,
          options: {
            [OPT.defaultBridge]: 'true', [OPT.icc]: 'true', [OPT.masquerade]: 'true', [OPT.hostBinding]: '0.0.0.0',
            [OPT.bridgeName]: this.opts.defaultBridge, [OPT.mtu]: String(this.opts.mtu),
          },
        }));
      }
      if (!names.has('host')) this.store.putNetwork(this.record({ name: 'host', driver: 'host', builtin: true }));
      if (!names.has('none')) this.store.putNetwork(this.record({ name: 'none', driver: 'null', builtin: true }));
    });
  }

  private record(p: Partial<NetworkRecord> & Pick<NetworkRecord, 'name' | 'driver'>): NetworkRecord {
    return {
      id: randomBytes(32).toString('hex'), bridge: '', subnet: '', gateway: '', ipRange: '', internal: false, icc: true,
      masquerade: true, mtu: this.opts.mtu, ipv6: false, attachable: false, builtin: false, labels: {}, options: {},
      ipamOptions: {}, userSubnet: true, created: new Date().toISOString(), ...p,
    };
  }

  /** Subnets in use: host routes (other than ours) and every network's. */
  private takenSubnets(): Cidr[] {
    const ours = new Set(this.store.networks().filter((n) => n.subnet).map((n) => n.subnet));
    return [
      ...hostRoutes().filter((r) => !ours.has(formatCidr(r))),
      ...[...ours].map(parseCidr),
    ];
  }

  private freePool(): Cidr {
    const pools = this.opts.pools.length ? this.opts.pools.map(parseCidr) : defaultPools();
    return choosePool(pools, this.takenSubnets());
  }

  createNetwork(req: NetworkCreateRequest): { Id: string; Warning: string } {
    const name = req.Name;
    if (typeof name !== 'string' || !NAME_RE.test(name)) throw new NetworkInputError(`invalid network name "${String(name)}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const driver = req.Driver || 'bridge';
    if (driver === 'host' || driver === 'null') throw new NetworkForbiddenError(`only one instance of "${driver}" network is allowed`);
    if (driver !== 'bridge') throw new NetworkError(501, `plugin "${driver}" not found`);
    if (req.EnableIPv6) throw new NetworkError(501, 'IPv6 networks are not supported by Dray yet');
    if (req.IPAM?.Driver && req.IPAM.Driver !== 'default') throw new NetworkError(501, `IPAM driver "${req.IPAM.Driver}" is not supported`);
    const options = { ...(req.Options ?? {}) };
    const flag = (key: string, dflt: boolean): boolean => {
      const v = options[key];
      if (v === undefined || v === '') return dflt;
      if (!['true', 'false', '1', '0'].includes(v)) throw new NetworkInputError(`invalid value for ${key}: "${v}"`);
      return v === 'true' || v === '1';
    };
    const mtu = options[OPT.mtu] ? Number(options[OPT.mtu]) : this.opts.mtu;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new NetworkInputError(`invalid MTU: ${options[OPT.mtu]}`);
    const configs = req.IPAM?.Config ?? [];
    if (configs.length > 1) throw new NetworkError(501, 'more than one IPAM config (IPv4 and IPv6) is not supported');
    return this.store.tx(() => {
      if (this.store.networks().some((n) => n.name === name)) throw new NetworkConflictError(`network with name ${name} already exists`);
      const cfg = configs[0];
      let sub: Subnet;
      if (cfg?.Subnet) {
        sub = subnetFromConfig(cfg);
        const clash = this.takenSubnets().find((t) => cidrsOverlap(t, sub.subnet));
        if (clash) throw new NetworkForbiddenError(`Pool overlaps with other one on this address space (${formatCidr(clash)})`);
      } else {
        if (cfg?.Gateway || cfg?.IPRange) throw new NetworkInputError('a gateway or ip-range needs a subnet');
        const pool = this.freePool();
        sub = { subnet: pool, gateway: pool.base + 1, ipRange: null };
      }
      const id = randomBytes(32).toString('hex');
      const bridge = options[OPT.bridgeName] || `${this.opts.bridgePrefix}${id.slice(0, 15 - this.opts.bridgePrefix.length)}`;
      if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge)) throw new NetworkInputError(`invalid bridge name: ${bridge}`);
      if (this.store.networks().some((n) => n.bridge === bridge)) throw new NetworkConflictError(`bridge ${bridge} is already used by another network`);
      const rec = this.record({
        id, name, driver: 'bridge', bridge, subnet: formatCidr(sub.subnet), gateway: intToIp(sub.gateway),
        ipRange: sub.ipRange ? formatCidr(sub.ipRange) : '', internal: !!req.Internal, icc: flag(OPT.icc, true),
        masquerade: flag(OPT.masquerade, true), mtu, attachable: !!req.Attachable, labels: { ...(req.Labels ?? {}) },
        options, ipamOptions: { ...(req.IPAM?.Options ?? {}) }, userSubnet: !!cfg?.Subnet,
      });
      this.store.putNetwork(rec);
      this.plumbing.ensureBridge(rec.bridge, rec.gateway, sub.subnet.prefixLen, rec.mtu);
      this.applyFirewall();
      return { Id: id, Warning: '' };
    });
  }

  /** A network by full id, exact name, or unique id prefix (Docker's order). */
  resolve(ref: string): NetworkRecord {
    const all = this.store.networks();
    const hit = all.find((n) => n.id === ref) ?? all.find((n) => n.name === ref);
    if (hit) return hit;
    const byPrefix = ref ? all.filter((n) => n.id.startsWith(ref)) : [];
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw new NetworkInputError(`network ${ref} is ambiguous (${byPrefix.length} matches found based on ID prefix)`);
    throw new NetworkNotFoundError(`network ${ref} not found`);
  }

  removeNetwork(ref: string): void {
    const n = this.resolve(ref);
    if (n.builtin) throw new NetworkForbiddenError(`${n.name} is a pre-defined network and cannot be removed`);
    if (this.store.endpoints({ networkId: n.id }).length) {
      throw new NetworkForbiddenError(`error while removing network: network ${n.name} id ${n.id} has active endpoints`);
    }
    this.store.tx(() => {
      this.store.deleteNetwork(n.id);
      this.applyFirewall();
      this.plumbing.removeLink(n.bridge);
    });
  }

  inspect(ref: string): NetworkJson {
    return this.toJson(this.resolve(ref), true);
  }

  /** Docker's list filters: name (substring), id (prefix), driver, label (key or key=value), type (builtin/custom), scope. */
  list(filters: Record<string, string[]> = {}): NetworkJson[] {
    for (const key of Object.keys(filters)) {
      if (!['name', 'id', 'driver', 'label', 'type', 'scope', 'dangling'].includes(key)) throw new NetworkInputError(`invalid filter '${key}'`);
    }
    return this.store.networks().filter((n) => this.matches(n, filters)).map((n) => this.toJson(n, false));
  }

  private matches(n: NetworkRecord, f: Record<string, string[]>): boolean {
    const any = (key: string, test: (v: string) => boolean): boolean => !f[key]?.length || f[key]!.some(test);
    const used = this.store.endpoints({ networkId: n.id }).length > 0;
    return any('name', (v) => n.name.includes(v))
      && any('id', (v) => n.id.startsWith(v))
      && any('driver', (v) => n.driver === v)
      && any('scope', (v) => v === 'local')
      && any('type', (v) => (v === 'builtin' ? n.builtin : v === 'custom' ? !n.builtin : false))
      && any('dangling', (v) => ((v === 'true' || v === '1') ? !used && !n.builtin : true))
      && (f.label ?? []).every((v) => {
        const i = v.indexOf('=');
        return i < 0 ? v in n.labels : n.labels[v.slice(0, i)] === v.slice(i + 1);
      });
  }

  /** Removes user-defined networks without endpoints; filters: label, until. */
  prune(filters: Record<string, string[]> = {}): { NetworksDeleted: string[] } {
    const deleted: string[] = [];
    const until = filters.until?.[0] ? Date.parse(filters.until[0]) || Number(filters.until[0]) * 1000 : Infinity;
    for (const n of this.store.networks()) {
      if (n.builtin || this.store.endpoints({ networkId: n.id }).length) continue;
      if (!this.matches(n, { label: filters.label ?? [] }) || Date.parse(n.created) >= until) continue;
      this.removeNetwork(n.id);
      deleted.push(n.name);
    }
    return { NetworksDeleted: deleted };
  }

  private toJson(n: NetworkRecord, withContainers: boolean): NetworkJson {
    const containers: NetworkJson['Containers'] = {};
    if (withContainers) {
      for (const e of this.store.endpoints({ networkId: n.id })) {
        containers[e.containerId] = {
          Name: e.containerName, EndpointID: e.id, MacAddress: e.mac,
          IPv4Address: e.ip ? `${e.ip}/${parseCidr(n.subnet).prefixLen}` : '', IPv6Address: '',
        };
      }
    }
    const config = n.subnet ? [{ Subnet: n.subnet, Gateway: n.gateway, ...(n.ipRange ? { IPRange: n.ipRange } : {}) }] : [];
    return {
      Name: n.name, Id: n.id, Created: n.created, Scope: 'local', Driver: n.driver, EnableIPv6: n.ipv6,
      IPAM: { Driver: 'default', Options: n.builtin ? null : n.ipamOptions, Config: config },
      Internal: n.internal, Attachable: n.attachable, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
      Containers: containers, Options: n.options, Labels: n.labels,
    };
  }

  // ---- containers ----

  /**
   * Attaches a container's network namespace to a network: a veth pair into
   * the namespace (bridge), loopback only (none), nothing (host: the engine
   * does not create a namespace). Returns Docker's EndpointSettings.
   */
  async connect(ref: string, container: ContainerRef, o: ConnectOptions = {}): Promise<EndpointSettings> {
    const n = this.resolve(ref);
    if (!NAME_RE.test(container.name.replace(/^\//, ''))) throw new NetworkInputError(`invalid container name: ${container.name}`);
    const existing = this.store.endpoints({ containerId: container.id });
    if (existing.some((e) => e.networkId === n.id)) {
      throw new NetworkForbiddenError(`endpoint with name ${container.name.replace(/^\//, '')} already exists in network ${n.name}`);
    }
    const others = existing.map((e) => this.store.network(e.networkId)!);
    if (n.driver !== 'bridge' && existing.length) throw new NetworkForbiddenError(`container cannot be disconnected from host network or connected to ${n.driver} network`);
    if (others.some((x) => x.driver !== 'bridge')) throw new NetworkForbiddenError(`container sharing network namespace with another container or host cannot be connected to any other network`);
    if ((o.aliases?.length || o.ipv4Address) && n.name === 'bridge') {
      throw new NetworkInputError('network-scoped alias and user specified IP address are supported only for containers in user defined networks');
    }
    const ep: EndpointRecord = {
      id: randomBytes(32).toString('hex'), containerId: container.id, containerName: container.name.replace(/^\//, ''),
      networkId: n.id, ip: '', mac: '', ifname: '', hostVeth: '', netns: container.netns, aliases: [...(o.aliases ?? [])],
      links: [...(o.links ?? [])], dnsServers: [...(o.dnsServers ?? [])], staticIp: !!o.ipv4Address, created: new Date().toISOString(),
    };
    if (n.driver === 'bridge') {
      const sub = this.subnetOf(n);
      this.store.tx(() => {
        const used = new Set(this.store.endpoints({ networkId: n.id }).map((e) => ipToInt(e.ip)));
        let ip: number;
        if (o.ipv4Address) {
          ip = ipToInt(o.ipv4Address);
          checkStaticAddress(sub, ip, used);
        } else {
          ip = allocateAddress(sub, used);
        }
        ep.ip = intToIp(ip);
        ep.mac = o.macAddress ?? macFor(ip);
        ep.hostVeth = `veth${ep.id.slice(0, 7)}`;
        ep.ifname = this.plumbing.freeInterfaceName(container.netns);
        this.store.putEndpoint(ep);
        this.plumbing.ensureBridge(n.bridge, n.gateway, sub.subnet.prefixLen, n.mtu);
        this.plumbing.connect({
          bridge: n.bridge, hostVeth: ep.hostVeth, netns: container.netns, ifname: ep.ifname, ip: ep.ip,
          prefixLen: sub.subnet.prefixLen, mac: ep.mac, gateway: n.internal ? null : n.gateway, mtu: n.mtu,
        });
      });
      if (!n.builtin) {
        try {
          await this.dns.attach(container.id, container.netns);
        } catch (err) {
          this.removeEndpoint(ep);
          throw err;
        }
      }
    } else {
      if (n.driver === 'null' && container.netns) this.plumbing.loopbackUp(container.netns);
      this.store.putEndpoint(ep);
    }
    return this.endpointSettings(n, ep);
  }

  /** Detaches a container from one network (its published ports on that network go too). */
  disconnect(ref: string, containerId: string): void {
    const n = this.resolve(ref);
    const ep = this.store.endpoints({ containerId }).find((e) => e.networkId === n.id);
    if (!ep) throw new NetworkForbiddenError(`container ${containerId} is not connected to network ${n.name}`);
    this.removeEndpoint(ep);
  }

  /** Everything of a container, at stop or removal: endpoints, published ports, DNS. */
  disconnectAll(containerId: string): void {
    // The DNS sockets hold the container's namespace alive: close them first.
    this.dns.detach(containerId);
    for (const ep of this.store.endpoints({ containerId })) this.removeEndpoint(ep);
    this.store.deletePorts(containerId);
    this.applyFirewall();
  }

  private removeEndpoint(ep: EndpointRecord): void {
    this.store.tx(() => {
      this.store.deletePorts(ep.containerId, ep.networkId);
      this.store.deleteEndpoint(ep.id);
      if (ep.hostVeth) this.plumbing.removeLink(ep.hostVeth); // the peer in the container dies with it
      this.applyFirewall();
    });
    const left = this.store.endpoints({ containerId: ep.containerId });
    if (!left.some((e) => !this.store.network(e.networkId)!.builtin)) this.dns.detach(ep.containerId);
  }

  /** Docker's NetworkSettings.Networks of a container, by network name. */
  containerNetworks(containerId: string): Record<string, EndpointSettings> {
    const out: Record<string, EndpointSettings> = {};
    for (const e of this.store.endpoints({ containerId })) {
      const n = this.store.network(e.networkId)!;
      out[n.name] = this.endpointSettings(n, e);
    }
    return out;
  }

  private endpointSettings(n: NetworkRecord, e: EndpointRecord): EndpointSettings {
    const prefixLen = n.subnet ? parseCidr(n.subnet).prefixLen : 0;
    return {
      IPAMConfig: e.staticIp ? { IPv4Address: e.ip } : null,
      Links: e.links.length ? e.links.map((l) => `${l.name}:${l.alias}`) : null,
      Aliases: e.aliases.length ? e.aliases : null,
      NetworkID: n.id, EndpointID: e.id, Gateway: e.ip ? n.gateway : '', IPAddress: e.ip, IPPrefixLen: e.ip ? prefixLen : 0,
      IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: e.mac, DriverOpts: null,
      Interface: e.ifname,
    };
  }

  private subnetOf(n: NetworkRecord): Subnet {
    return { subnet: parseCidr(n.subnet), gateway: ipToInt(n.gateway), ipRange: n.ipRange ? parseCidr(n.ipRange) : null };
  }

  // ---- publishing ----

  /**
   * Publishes ports of a running container (-p / -P). A host port of 0
   * takes a free one from the ephemeral range; the result says which.
   */
  async publish(containerId: string, specs: readonly PortSpec[]): Promise<PublishedPort[]> {
    const ep = this.store.endpoints({ containerId }).find((e) => {
      const n = this.store.network(e.networkId)!;
      return n.driver === 'bridge' && !n.internal;
    });
    if (!ep) {
      if (!specs.length) return [];
      throw new NetworkInputError(`container ${containerId} has no bridge network to publish ports on`);
    }
    const wanted: Array<{ proto: 'tcp' | 'udp'; hostIp: string; candidates: number[]; random: boolean; containerPort: number }> = [];
    for (const s of specs) {
      if (s.proto !== 'tcp' && s.proto !== 'udp') throw new NetworkError(501, `protocol ${String(s.proto)} is not supported`);
      const hostIp = s.hostIp && s.hostIp !== '0.0.0.0' ? s.hostIp : '';
      if (hostIp) ipToInt(hostIp);
      const cEnd = s.containerPortEnd ?? s.containerPort;
      checkPort(s.containerPort); checkPort(cEnd);
      const hStart = s.hostPort ?? 0;
      const hEnd = s.hostPortEnd ?? hStart;
      if (hStart) { checkPort(hStart); checkPort(hEnd); }
      const count = cEnd - s.containerPort + 1;
      if (count < 1 || hEnd < hStart) throw new NetworkInputError(`invalid port range: ${s.containerPort}-${cEnd}`);
      if (count > 1 && hStart && hEnd - hStart + 1 !== count) throw new NetworkInputError('host and container port ranges must have the same length');
      for (let i = 0; i < count; i++) {
        const candidates = !hStart ? [] : count > 1 ? [hStart + i] : range(hStart, hEnd);
        wanted.push({ proto: s.proto, hostIp, candidates, random: !hStart, containerPort: s.containerPort + i });
      }
    }
    const [lo, hi] = ephemeralRange();
    const chosen: PortRecord[] = [];
    for (const w of wanted) {
      const taken = (port: number): boolean => [...this.store.ports(), ...chosen].some((p) => p.proto === w.proto && p.hostPort === port && (!p.hostIp || !w.hostIp || p.hostIp === w.hostIp));
      let port = 0;
      const tries = w.random ? randomOrder(lo, hi) : w.candidates;
      let lastErr = '';
      for (const candidate of tries.slice(0, 2000)) {
        if (taken(candidate)) { lastErr = 'port is already allocated'; continue; }
        const err = await bindable(w.proto, w.hostIp || '0.0.0.0', candidate);
        if (err) { lastErr = err; continue; }
        port = candidate;
        break;
      }
      if (!port) {
        const where = `${w.hostIp || '0.0.0.0'}:${w.candidates.length === 1 ? w.candidates[0] : w.candidates.length ? `${w.candidates[0]}-${w.candidates.at(-1)}` : 'random'}`;
        throw new NetworkError(500, `driver failed programming external connectivity on endpoint ${ep.containerName} (${ep.id.slice(0, 12)}): Bind for ${where} failed: ${lastErr || 'no free port'}`);
      }
      chosen.push({ containerId, networkId: ep.networkId, proto: w.proto, hostIp: w.hostIp, hostPort: port, containerPort: w.containerPort });
    }
    this.store.tx(() => {
      for (const p of chosen) {
        if (this.store.ports().some((q) => q.proto === p.proto && q.hostPort === p.hostPort && (!q.hostIp || !p.hostIp || q.hostIp === p.hostIp))) {
          throw new NetworkError(500, `Bind for ${p.hostIp || '0.0.0.0'}:${p.hostPort} failed: port is already allocated`);
        }
        this.store.putPort(p);
      }
      this.applyFirewall();
    });
    return this.ports(containerId);
  }

  unpublish(containerId: string): void {
    this.store.tx(() => {
      this.store.deletePorts(containerId);
      this.applyFirewall();
    });
  }

  ports(containerId: string): PublishedPort[] {
    return this.store.ports(containerId).map((p) => ({ proto: p.proto, containerPort: p.containerPort, hostIp: p.hostIp || '0.0.0.0', hostPort: p.hostPort }));
  }

  // ---- files ----

  /**
   * /etc/hosts, /etc/resolv.conf and /etc/hostname for a container, from
   * its endpoints (connect first). mode: the container's network mode.
   */
  containerFiles(containerId: string, o: ContainerFileOptions): { hosts: string; resolvConf: string; hostname: string } {
    const eps = this.store.endpoints({ containerId });
    const nets = eps.map((e) => this.store.network(e.networkId)!);
    const hostText = safeRead(this.opts.resolvConfPath);
    if (nets.some((n) => n.driver === 'host')) {
      return { hosts: safeRead('/etc/hosts'), resolvConf: hostText, hostname: hostnameFile(o) };
    }
    const first = eps.find((e) => e.ip);
    const links: Array<{ ip: string; alias: string; name: string }> = [];
    for (const e of eps) {
      const n = this.store.network(e.networkId)!;
      if (n.name !== 'bridge') continue; // legacy links write /etc/hosts only on the default bridge
      for (const l of e.links) {
        const target = this.store.endpoints({ networkId: n.id }).find((x) => x.containerName === l.name || x.containerId === l.name);
        if (target) links.push({ ip: target.ip, alias: l.alias, name: target.containerName });
      }
    }
    const defaultBridge = this.store.networks().find((n) => n.name === 'bridge');
    const hosts = hostsFile(o, { ip: first?.ip ?? '', links, hostGateway: defaultBridge?.gateway ?? '' });
    const embedded = nets.some((n) => n.driver === 'bridge' && !n.builtin);
    return { hosts, resolvConf: resolvConfFile(o, parseResolvConf(hostText), embedded), hostname: hostnameFile(o) };
  }

  // ---- embedded DNS ----

  private userNetworksOf(containerId: string): Array<{ n: NetworkRecord; e: EndpointRecord }> {
    return this.store.endpoints({ containerId })
      .map((e) => ({ n: this.store.network(e.networkId)!, e }))
      .filter(({ n }) => n.driver === 'bridge' && !n.builtin);
  }

  private dnsLookup(containerId: string, name: string): string[] | null {
    const ips = new Set<string>();
    for (const { n, e: self } of this.userNetworksOf(containerId)) {
      const peers = this.store.endpoints({ networkId: n.id });
      for (const p of peers) {
        const names = [p.containerName, ...p.aliases, p.containerId.slice(0, 12)].map((x) => x.toLowerCase());
        if (names.includes(name)) ips.add(p.ip);
      }
      for (const l of self.links) {
        if (l.alias.toLowerCase() !== name) continue;
        const target = peers.find((p) => p.containerName === l.name || p.containerId === l.name);
        if (target) ips.add(target.ip);
      }
    }
    return ips.size ? [...ips] : null;
  }

  private dnsReverse(containerId: string, ip: string): string | null {
    for (const { n } of this.userNetworksOf(containerId)) {
      const hit = this.store.endpoints({ networkId: n.id }).find((p) => p.ip === ip);
      if (hit) return `${hit.containerName}.${n.name}`;
    }
    return null;
  }

  private dnsUpstreams(containerId: string): string[] {
    const own = this.store.endpoints({ containerId }).find((e) => e.dnsServers.length)?.dnsServers;
    if (own?.length) return own;
    if (this.opts.dnsUpstreams) return this.opts.dnsUpstreams;
    return parseResolvConf(safeRead(this.opts.resolvConfPath)).nameservers;
  }

  // ---- kernel state ----

  private applyFirewall(): void {
    const nets = this.store.networks().filter((n) => n.driver === 'bridge');
    const fwNets: FirewallNetwork[] = nets.map((n) => ({ bridge: n.bridge, subnet: n.subnet, internal: n.internal, icc: n.icc, masquerade: n.masquerade }));
    if (nets.some((n) => !n.icc)) enableBridgeNetfilter();
    const eps = new Map(this.store.endpoints().map((e) => [`${e.containerId}/${e.networkId}`, e]));
    const byId = new Map(nets.map((n) => [n.id, n]));
    const fwPorts: FirewallPort[] = [];
    for (const p of this.store.ports()) {
      const e = eps.get(`${p.containerId}/${p.networkId}`);
      const n = byId.get(p.networkId);
      if (e && n) fwPorts.push({ proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, containerIp: e.ip, containerPort: p.containerPort, bridge: n.bridge });
    }
    this.firewall.apply(fwNets, fwPorts);
  }

  /**
   * At daemon start: endpoints of containers that are gone are dropped
   * (records, veths, ports); bridges, rules and DNS listeners of the live
   * ones are re-created. live(containerId) gives the container's current
   * netns path, or null when it no longer runs.
   */
  async reconcile(live: (containerId: string) => string | null): Promise<ReconcileReport> {
    const report: ReconcileReport = { endpointsRemoved: 0, linksRemoved: 0, bridgesCreated: 0, dnsStarted: 0 };
    const liveNs = new Map<string, string>();
    this.store.tx(() => {
      for (const e of this.store.endpoints()) {
        const ns = liveNs.get(e.containerId) ?? live(e.containerId);
        if (ns) {
          liveNs.set(e.containerId, ns);
          if (ns !== e.netns) this.store.setEndpointNetns(e.id, ns); // a restarted container has a new pid
          continue;
        }
        this.store.deletePorts(e.containerId);
        this.store.deleteEndpoint(e.id);
        report.endpointsRemoved++;
      }
    });
    const nets = this.store.networks().filter((n) => n.driver === 'bridge');
    const links = this.plumbing.links();
    const ourBridges = new Map(links.filter((l) => l.kind === 'bridge' && (nets.some((n) => n.bridge === l.name) || l.name.startsWith(this.opts.bridgePrefix))).map((l) => [l.index, l]));
    const wantedVeths = new Set(this.store.endpoints().map((e) => e.hostVeth).filter(Boolean));
    for (const l of links) {
      if (l.kind === 'veth' && ourBridges.has(l.master) && !wantedVeths.has(l.name)) {
        if (this.plumbing.removeLink(l.name)) report.linksRemoved++;
      }
    }
    for (const b of ourBridges.values()) {
      if (!nets.some((n) => n.bridge === b.name)) {
        if (this.plumbing.removeLink(b.name)) report.linksRemoved++;
      }
    }
    for (const n of nets) {
      const has = links.some((l) => l.name === n.bridge);
      if (!has && (!n.builtin || this.store.endpoints({ networkId: n.id }).length)) report.bridgesCreated++;
      // The default bridge is created lazily, at its first endpoint.
      if (!n.builtin || has || this.store.endpoints({ networkId: n.id }).length) {
        this.plumbing.ensureBridge(n.bridge, n.gateway, parseCidr(n.subnet).prefixLen, n.mtu);
      }
    }
    // Live endpoints whose veth is gone (someone deleted it): plumb them again, same address.
    const present = new Set(this.plumbing.links().map((l) => l.name));
    for (const e of this.store.endpoints()) {
      const n = this.store.network(e.networkId)!;
      if (n.driver !== 'bridge' || present.has(e.hostVeth)) continue;
      const ns = liveNs.get(e.containerId)!;
      this.plumbing.connect({
        bridge: n.bridge, hostVeth: e.hostVeth, netns: ns, ifname: e.ifname, ip: e.ip, prefixLen: parseCidr(n.subnet).prefixLen,
        mac: e.mac, gateway: n.internal ? null : n.gateway, mtu: n.mtu,
      });
    }
    this.firewall.recheck();
    this.applyFirewall();
    for (const [containerId, ns] of liveNs) {
      if (!this.userNetworksOf(containerId).length || this.dns.has(containerId)) continue;
      await this.dns.attach(containerId, ns);
      report.dnsStarted++;
    }
    return report;
  }

  /**
   * Removes all kernel state of this manager: rules, veths, bridges (records
   * stay). For tests and for uninstalling; a daemon stop must not call it.
   */
  teardown(): void {
    this.dns.close();
    for (const e of this.store.endpoints()) if (e.hostVeth) this.plumbing.removeLink(e.hostVeth);
    for (const n of this.store.networks()) if (n.bridge) this.plumbing.removeLink(n.bridge);
    this.firewall.remove();
  }
}

/** Docker's MAC for an address: 02:42 then the four address bytes. */
function macFor(ip: number): string {
  return ['02', '42', ...[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

function checkPort(p: number): void {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new NetworkInputError(`invalid port: ${p}`);
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** The ephemeral range, walked from a random start (so concurrent daemons rarely race for one port). */
function randomOrder(lo: number, hi: number): number[] {
  const all = range(lo, hi);
  const start = Math.floor(Math.random() * all.length);
  return [...all.slice(start), ...all.slice(0, start)];
}

function ephemeralRange(): [number, number] {
  const [lo, hi] = safeRead('/proc/sys/net/ipv4/ip_local_port_range').trim().split(/\s+/).map(Number);
  return lo && hi && lo <= hi ? [lo, hi] : [32768, 60999];
}

/** Null when the port can be bound on ip now (so no host service already owns it), else why not. */
function bindable(proto: 'tcp' | 'udp', ip: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    if (proto === 'tcp') {
      const s = net.createServer();
      s.once('error', (e) => resolve((e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'address already in use' : (e as Error).message));
      s.listen({ host: ip, port, exclusive: true }, () => s.close(() => resolve(null)));
    } else {
      const s = dgram.createSocket('udp4');
      s.once('error', (e) => { s.close(); resolve((e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'address already in use' : (e as Error).message); });
      s.bind({ address: ip, port, exclusive: true }, () => s.close(() => resolve(null)));
    }
  });
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** ICC off needs bridged traffic to cross iptables (br_netfilter, built in or loaded). */
function enableBridgeNetfilter(): void {
  try {
    writeSysctl('net/bridge/bridge-nf-call-iptables', '1');
  } catch {
    throw new NetworkError(500, 'ICC off needs the br_netfilter module (modprobe br_netfilter)');
  }
}
