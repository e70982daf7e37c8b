// The files drayd writes for a container and bind-mounts into it:
// /etc/hostname, /etc/hosts, /etc/resolv.conf (as dockerd writes them).
import { readFileSync, writeFileSync } from 'node:fs';
import type { ContainerRecord } from './types.ts';

const DEFAULT_DNS = ['8.8.8.8', '8.8.4.4'];

/** The host's resolv.conf, without loopback nameservers (they do not answer inside a netns), with Dns* overrides. */
export function resolvConf(rec: ContainerRecord, hostResolv = '/etc/resolv.conf', hostNetwork = false): string {
  let text = '';
  try { text = readFileSync(hostResolv, 'utf8'); } catch { /* none */ }
  const lines = text.split('\n');
  const hc = rec.HostConfig;
  let ns = lines.filter((l) => /^\s*nameserver\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]!);
  if (!hostNetwork) ns = ns.filter((a) => !/^127\./.test(a) && a !== '::1');
  if (hc.Dns?.length) ns = hc.Dns;
  if (ns.length === 0) ns = DEFAULT_DNS;
  let search = lines.filter((l) => /^\s*search\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  if (hc.DnsSearch?.length) search = hc.DnsSearch;
  let options = lines.filter((l) => /^\s*options\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  if (hc.DnsOptions?.length) options = hc.DnsOptions;
  let out = '';
  if (search.length) out += `search ${search.join(' ')}\n`;
  for (const n of ns) out += `nameserver ${n}\n`;
  if (options.length) out += `options ${options.join(' ')}\n`;
  return out;
}

export function hostsFile(rec: ContainerRecord, hostNetwork = false): string {
  if (hostNetwork) {
    try { return readFileSync('/etc/hosts', 'utf8'); } catch { /* fall through */ }
  }
  let out = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';
  for (const e of rec.HostConfig.ExtraHosts ?? []) {
    const i = e.indexOf(':');
    if (i <= 0) continue;
    out += `${e.slice(i + 1)}\t${e.slice(0, i)}\n`;
  }
  return out;
}

export function writeContainerFiles(rec: ContainerRecord, hostNetwork: boolean): void {
  writeFileSync(rec.HostnamePath, `${rec.Config.Hostname ?? ''}\n`);
  writeFileSync(rec.HostsPath, hostsFile(rec, hostNetwork));
  writeFileSync(rec.ResolvConfPath, resolvConf(rec, '/etc/resolv.conf', hostNetwork));
}
