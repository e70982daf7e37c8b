// Which endpoints serve a registry domain, and how to reach them: docker.io's
// API host and mirrors, HTTPS with the system CAs plus certs.d/<host:port>/
// CA and client certificates, plain HTTP only for loopback and registries
// marked insecure.
import { isIP } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getCACertificates, rootCertificates } from 'node:tls';
import { BlockList } from 'node:net';

export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
export const DEFAULT_CERTS_DIR = '/etc/docker/certs.d';

export interface HostsConfig {
  /** Mirrors for docker.io, tried in order before the registry: "https://mirror:5000", "http://127.0.0.1:5001". */
  mirrors?: string[];
  /** Registries reachable over plain HTTP or with unverified TLS: "host:port", "host" or a CIDR. */
  insecureRegistries?: string[];
  /** Per-registry certificates: <certsDir>/<host:port>/{ca.crt,*.crt,client.cert,client.key}. */
  certsDir?: string;
  /** localhost and 127.0.0.0/8 count as insecure, as in Docker (default true). */
  loopbackInsecure?: boolean;
}

export interface Endpoint {
  /** host[:port] used for certs.d, credentials and the Host header. */
  host: string;
  /** Schemes to try, in order (an insecure registry tries https, then http). */
  schemes: ('https' | 'http')[];
  /** Verify the server's certificate (false only for insecure registries). */
  verifyTls: boolean;
  mirror: boolean;
  /** The domain of the reference (docker.io for mirrors and registry-1.docker.io). */
  domain: string;
}

function hostOnly(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(1, hostPort.indexOf(']'));
  const i = hostPort.lastIndexOf(':');
  return i > 0 && hostPort.indexOf(':') === i ? hostPort.slice(0, i) : hostPort;
}

/** localhost, 127.0.0.0/8 and ::1 are insecure by default, as in Docker. */
export function isLoopback(hostPort: string): boolean {
  const h = hostOnly(hostPort).toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
}

export function isInsecure(hostPort: string, cfg: HostsConfig): boolean {
  if (cfg.loopbackInsecure !== false && isLoopback(hostPort)) return true;
  const h = hostOnly(hostPort);
  for (const entry of cfg.insecureRegistries ?? []) {
    if (entry === hostPort || entry === h) return true;
    const slash = entry.indexOf('/');
    if (slash > 0 && isIP(h)) {
      const net = entry.slice(0, slash);
      const bits = Number(entry.slice(slash + 1));
      const family = isIP(net) === 6 ? 'ipv6' : 'ipv4';
      if (isIP(net) && Number.isInteger(bits) && family === (isIP(h) === 6 ? 'ipv6' : 'ipv4')) {
        const bl = new BlockList();
        bl.addSubnet(net, bits, family);
        if (bl.check(h, family)) return true;
      }
    }
  }
  return false;
}

function endpointFor(host: string, domain: string, cfg: HostsConfig, mirror: boolean, forced?: 'http' | 'https'): Endpoint {
  const insecure = isInsecure(host, cfg);
  const schemes: ('https' | 'http')[] = forced ? [forced] : insecure ? ['https', 'http'] : ['https'];
  return { host, schemes, verifyTls: !insecure, mirror, domain };
}

/** The endpoints to try for a reference's domain: mirrors first for docker.io (pull only). */
export function endpointsFor(domain: string, cfg: HostsConfig, purpose: 'pull' | 'push'): Endpoint[] {
  if (domain !== 'docker.io') return [endpointFor(domain, domain, cfg, false)];
  const out: Endpoint[] = [];
  if (purpose === 'pull') {
    for (const m of cfg.mirrors ?? []) {
      let u: URL;
      try {
        u = new URL(m.includes('://') ? m : `https://${m}`);
      } catch {
        throw new Error(`registry mirror ${JSON.stringify(m)} is not a URL`);
      }
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`registry mirror ${m}: must be http(s)`);
      if (u.pathname !== '/' && u.pathname !== '') throw new Error(`registry mirror ${m}: must not have a path`);
      const forced = u.protocol === 'http:' ? 'http' : undefined;
      if (forced && !isInsecure(u.host, cfg)) throw new Error(`registry mirror ${m}: plain http is only allowed for insecure registries`);
      out.push(endpointFor(u.host, domain, cfg, true, forced));
    }
  }
  out.push(endpointFor(DOCKER_HUB_API_HOST, domain, cfg, false));
  return out;
}

export interface TlsMaterial {
  ca: string[];
  cert?: string;
  key?: string;
}

let systemCas: string[] | undefined;

/** The machine's CA store (/etc/ssl/certs, as Docker's system pool) plus Node's bundled roots. */
function systemCertificates(): string[] {
  if (!systemCas) {
    let sys: string[] = [];
    try {
      sys = getCACertificates('system');
    } catch {
      /* no system store readable: the bundled roots still apply */
    }
    systemCas = [...new Set([...sys, ...rootCertificates])];
  }
  return systemCas;
}

/**
 * System CAs plus certs.d/<host>/*.crt; a client pair from *.cert and *.key
 * (as Docker reads them). systemCas false: without the system CAs (a
 * connection that verifies nothing needs none, and reading the system store
 * costs ~70 ms of CPU on the first pull of a process).
 */
export function tlsMaterialFor(host: string, certsDir = DEFAULT_CERTS_DIR, systemCas = true): TlsMaterial {
  const out: TlsMaterial = { ca: systemCas ? [...systemCertificates()] : [] };
  const dir = join(certsDir, host); // Docker names the folder host[:port]
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const n of names) {
    if (n.endsWith('.crt')) out.ca.push(readFileSync(join(dir, n), 'utf8'));
    else if (n.endsWith('.cert')) {
      const key = n.slice(0, -'.cert'.length) + '.key';
      if (!names.includes(key)) throw new Error(`certs.d/${host}: client certificate ${n} has no matching ${key}`);
      out.cert = readFileSync(join(dir, n), 'utf8');
      out.key = readFileSync(join(dir, key), 'utf8');
    } else if (n.endsWith('.key')) {
      const cert = n.slice(0, -'.key'.length) + '.cert';
      if (!names.includes(cert)) throw new Error(`certs.d/${host}: client key ${n} has no matching ${cert}`);
    }
  }
  return out;
}
