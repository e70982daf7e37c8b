// The persistent records of the network library (node:sqlite): networks,
// endpoints (a container on a network) and published ports. The kernel state
// (bridges, veths, rules, DNS sockets) is always derived from these, so a
// restarted daemon rebuilds it from here.
import type { DatabaseSync } from 'node:sqlite';
import { migrate, openDatabase, transaction } from '../common/sqlite.ts';

export type Driver = 'bridge' | 'host' | 'null';

export interface NetworkRecord {
  id: string;
  name: string;
  driver: Driver;
  bridge: string;           // '' for host and null
  subnet: string;           // '' for host and null
  gateway: string;
  ipRange: string;
  internal: boolean;
  icc: boolean;
  masquerade: boolean;
  mtu: number;
  ipv6: boolean;
  attachable: boolean;
  builtin: boolean;         // bridge, host, none: never removed
  labels: Record<string, string>;
  options: Record<string, string>;
  ipamOptions: Record<string, string>;
  userSubnet: boolean;      // IPAM.Config given by the user (inspect shows it as given)
  created: string;
}

export interface LinkRecord { name: string; alias: string }

export interface EndpointRecord {
  id: string;
  containerId: string;
  containerName: string;
  networkId: string;
  ip: string;               // '' on host/null networks
  mac: string;
  ifname: string;           // inside the container: eth0, eth1…
  hostVeth: string;
  netns: string;
  aliases: string[];
  links: LinkRecord[];
  dnsServers: string[];     // --dns: where the embedded DNS forwards for this container
  staticIp: boolean;
  created: string;
}

export interface PortRecord {
  containerId: string;
  networkId: string;
  proto: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
  containerPort: number;
}

const MIGRATIONS = [
  (db: DatabaseSync) => db.exec(`
    CREATE TABLE network_networks (
      id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, driver TEXT NOT NULL, bridge TEXT NOT NULL,
      subnet TEXT NOT NULL, gateway TEXT NOT NULL, ip_range TEXT NOT NULL,
      internal INTEGER NOT NULL, icc INTEGER NOT NULL, masquerade INTEGER NOT NULL, mtu INTEGER NOT NULL,
      ipv6 INTEGER NOT NULL, attachable INTEGER NOT NULL, builtin INTEGER NOT NULL,
      labels TEXT NOT NULL, options TEXT NOT NULL, ipam_options TEXT NOT NULL, user_subnet INTEGER NOT NULL, created TEXT NOT NULL);
    CREATE TABLE network_endpoints (
      id TEXT PRIMARY KEY, container_id TEXT NOT NULL, container_name TEXT NOT NULL,
      network_id TEXT NOT NULL REFERENCES network_networks(id),
      ip TEXT NOT NULL, mac TEXT NOT NULL, ifname TEXT NOT NULL, host_veth TEXT NOT NULL, netns TEXT NOT NULL,
      aliases TEXT NOT NULL, links TEXT NOT NULL, dns_servers TEXT NOT NULL, static_ip INTEGER NOT NULL, created TEXT NOT NULL,
      UNIQUE (container_id, network_id));
    CREATE INDEX network_endpoints_by_network ON network_endpoints(network_id);
    CREATE TABLE network_ports (
      container_id TEXT NOT NULL, network_id TEXT NOT NULL, proto TEXT NOT NULL,
      host_ip TEXT NOT NULL, host_port INTEGER NOT NULL, container_port INTEGER NOT NULL,
      PRIMARY KEY (proto, host_ip, host_port));
  `),
];

type Row = Record<string, string | number | null>;

export class NetworkStore {
  readonly db: DatabaseSync;
  private readonly owned: boolean;

  /** db: an open database (the daemon's one) or a path to open. */
  constructor(db: DatabaseSync | string) {
    this.owned = typeof db === 'string';
    this.db = typeof db === 'string' ? openDatabase(db) : db;
    migrate(this.db, 'network', MIGRATIONS);
  }

  close(): void { if (this.owned) this.db.close(); }

  tx<T>(fn: () => T): T { return transaction(this.db, fn); }

  networks(): NetworkRecord[] {
    return (this.db.prepare('SELECT * FROM network_networks ORDER BY created, name').all() as Row[]).map(toNetwork);
  }

  network(id: string): NetworkRecord | undefined {
    const r = this.db.prepare('SELECT * FROM network_networks WHERE id = ?').get(id) as Row | undefined;
    return r ? toNetwork(r) : undefined;
  }

  putNetwork(n: NetworkRecord): void {
    this.db.prepare(`INSERT INTO network_networks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`).run(
      n.id, n.name, n.driver, n.bridge, n.subnet, n.gateway, n.ipRange, +n.internal, +n.icc, +n.masquerade, n.mtu,
      +n.ipv6, +n.attachable, +n.builtin, JSON.stringify(n.labels), JSON.stringify(n.options), JSON.stringify(n.ipamOptions), +n.userSubnet, n.created);
  }

  deleteNetwork(id: string): void {
    this.db.prepare('DELETE FROM network_networks WHERE id = ?').run(id);
  }

  endpoints(filter: { networkId?: string; containerId?: string } = {}): EndpointRecord[] {
    const rows = filter.networkId
      ? this.db.prepare('SELECT * FROM network_endpoints WHERE network_id = ? ORDER BY created, id').all(filter.networkId)
      : filter.containerId
        ? this.db.prepare('SELECT * FROM network_endpoints WHERE container_id = ? ORDER BY created, id').all(filter.containerId)
        : this.db.prepare('SELECT * FROM network_endpoints ORDER BY created, id').all();
    return (rows as Row[]).map(toEndpoint);
  }

  putEndpoint(e: EndpointRecord): void {
    this.db.prepare('INSERT INTO network_endpoints VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)').run(
      e.id, e.containerId, e.containerName, e.networkId, e.ip, e.mac, e.ifname, e.hostVeth, e.netns,
      JSON.stringify(e.aliases), JSON.stringify(e.links), JSON.stringify(e.dnsServers), +e.staticIp, e.created);
  }

  setEndpointNetns(id: string, netns: string): void {
    this.db.prepare('UPDATE network_endpoints SET netns = ? WHERE id = ?').run(netns, id);
  }

  deleteEndpoint(id: string): void {
    this.db.prepare('DELETE FROM network_endpoints WHERE id = ?').run(id);
  }

  ports(containerId?: string): PortRecord[] {
    const rows = containerId
      ? this.db.prepare('SELECT * FROM network_ports WHERE container_id = ? ORDER BY rowid').all(containerId)
      : this.db.prepare('SELECT * FROM network_ports ORDER BY rowid').all();
    return (rows as Row[]).map((r) => ({
      containerId: String(r.container_id), networkId: String(r.network_id), proto: r.proto as 'tcp' | 'udp',
      hostIp: String(r.host_ip), hostPort: Number(r.host_port), containerPort: Number(r.container_port),
    }));
  }

  putPort(p: PortRecord): void {
    this.db.prepare('INSERT INTO network_ports VALUES (?,?,?,?,?,?)').run(p.containerId, p.networkId, p.proto, p.hostIp, p.hostPort, p.containerPort);
  }

  deletePorts(containerId: string, networkId?: string): void {
    if (networkId) this.db.prepare('DELETE FROM network_ports WHERE container_id = ? AND network_id = ?').run(containerId, networkId);
    else this.db.prepare('DELETE FROM network_ports WHERE container_id = ?').run(containerId);
  }
}

const bool = (v: unknown): boolean => Number(v) !== 0;

function toNetwork(r: Row): NetworkRecord {
  return {
    id: String(r.id), name: String(r.name), driver: r.driver as Driver, bridge: String(r.bridge),
    subnet: String(r.subnet), gateway: String(r.gateway), ipRange: String(r.ip_range),
    internal: bool(r.internal), icc: bool(r.icc), masquerade: bool(r.masquerade), mtu: Number(r.mtu),
    ipv6: bool(r.ipv6), attachable: bool(r.attachable), builtin: bool(r.builtin),
    labels: JSON.parse(String(r.labels)) as Record<string, string>,
    options: JSON.parse(String(r.options)) as Record<string, string>,
    ipamOptions: JSON.parse(String(r.ipam_options)) as Record<string, string>,
    userSubnet: bool(r.user_subnet), created: String(r.created),
  };
}

function toEndpoint(r: Row): EndpointRecord {
  return {
    id: String(r.id), containerId: String(r.container_id), containerName: String(r.container_name), networkId: String(r.network_id),
    ip: String(r.ip), mac: String(r.mac), ifname: String(r.ifname), hostVeth: String(r.host_veth), netns: String(r.netns),
    aliases: JSON.parse(String(r.aliases)) as string[], links: JSON.parse(String(r.links)) as LinkRecord[],
    dnsServers: JSON.parse(String(r.dns_servers)) as string[], staticIp: bool(r.static_ip), created: String(r.created),
  };
}
