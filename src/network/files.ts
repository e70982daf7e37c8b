// /etc/hosts, /etc/resolv.conf and /etc/hostname of a container, with
// Docker's contents: hosts has the localhost/IPv6 defaults, --add-host
// entries, legacy --link entries and the container's own address last;
// resolv.conf copies the host's (without loopback nameservers, which a
// container cannot reach) on the default bridge, and points to the embedded
// DNS at 127.0.0.11 on user-defined networks.

export const EMBEDDED_DNS_IP = '127.0.0.11';

export interface ResolvConf { nameservers: string[]; search: string[]; options: string[] }

export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.search = rest;
    else if (key === 'options') out.options.push(...rest);
  }
  return out;
}

const isLoopback = (ip: string): boolean => ip.startsWith('127.') || ip === '::1';

export interface ContainerFileOptions {
  hostname: string;
  domainname?: string;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** --add-host entries, "name:ip" (Docker also accepts "name=ip"); "host-gateway" is replaced by hostGateway. */
  extraHosts?: string[];
}

export interface HostsInput {
  ip: string;                                   // the container's address on its first network ('' for none)
  links: Array<{ ip: string; alias: string; name: string }>;
  hostGateway: string;
}

export function hostsFile(opts: ContainerFileOptions, input: HostsInput): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const entry of opts.extraHosts ?? []) {
    const { name, ip } = parseExtraHost(entry);
    lines.push(`${ip === 'host-gateway' ? input.hostGateway : ip}\t${name}`);
  }
  for (const l of input.links) lines.push(l.alias === l.name ? `${l.ip}\t${l.name}` : `${l.ip}\t${l.alias} ${l.name}`);
  if (input.ip) {
    lines.push(opts.domainname ? `${input.ip}\t${opts.hostname}.${opts.domainname} ${opts.hostname}` : `${input.ip}\t${opts.hostname}`);
  }
  return lines.join('\n') + '\n';
}

export function parseExtraHost(entry: string): { name: string; ip: string } {
  const i = entry.search(/[:=]/);
  const name = i > 0 ? entry.slice(0, i) : '';
  const ip = i > 0 ? entry.slice(i + 1).replace(/^\[(.*)\]$/, '$1') : '';
  if (!name || !ip || /\s/.test(entry) || (ip !== 'host-gateway' && !/^[\d.]+$|:/.test(ip))) {
    throw new Error(`invalid IP address in add-host: "${entry}"`);
  }
  return { name, ip };
}

/**
 * resolv.conf for a container. embedded: on a user-defined network, the
 * nameserver is the embedded DNS (which forwards to --dns or the host's).
 */
export function resolvConfFile(opts: ContainerFileOptions, host: ResolvConf, embedded: boolean): string {
  const search = opts.dnsSearch?.length ? opts.dnsSearch : host.search;
  const options = opts.dnsOptions?.length ? opts.dnsOptions : host.options;
  const lines: string[] = [];
  if (embedded) {
    if (search.length && search.join('') !== '.') lines.push(`search ${search.join(' ')}`);
    lines.push(`nameserver ${EMBEDDED_DNS_IP}`);
    lines.push(`options ${['ndots:0', ...options.filter((o) => !o.startsWith('ndots:'))].join(' ')}`);
    return lines.join('\n') + '\n';
  }
  let servers = opts.dns?.length ? opts.dns : host.nameservers.filter((s) => !isLoopback(s));
  // Docker's fallback when only loopback resolvers remain (a container cannot reach them).
  if (!servers.length) servers = ['8.8.8.8', '8.8.4.4'];
  if (search.length && search.join('') !== '.') lines.push(`search ${search.join(' ')}`);
  for (const s of servers) lines.push(`nameserver ${s}`);
  if (options.length) lines.push(`options ${options.join(' ')}`);
  return lines.join('\n') + '\n';
}

export const hostnameFile = (opts: ContainerFileOptions): string => `${opts.hostname}\n`;
