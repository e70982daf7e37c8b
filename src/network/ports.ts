// Docker's port JSON <-> the manager's port specs: HostConfig.PortBindings
// (+ PublishAllPorts over ExposedPorts) into PortSpecs, and published ports
// back into NetworkSettings.Ports.
import { NetworkInputError } from './errors.ts';
import type { PortSpec, PublishedPort } from './types.ts';

export type PortBindings = Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;

/** "80/tcp" -> [80, 'tcp']; the protocol defaults to tcp as Docker's nat.ParsePort. */
export function parsePortKey(key: string): { port: number; proto: 'tcp' | 'udp' } {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(key);
  if (!m) throw new NetworkInputError(`invalid port specification: "${key}"`);
  const port = Number(m[1]);
  if (port < 1 || port > 65535) throw new NetworkInputError(`invalid port specification: "${key}"`);
  if (m[2] === 'sctp') throw new NetworkInputError('sctp ports are not supported');
  return { port, proto: (m[2] ?? 'tcp') as 'tcp' | 'udp' };
}

function parseHostPort(s: string | undefined): { start: number; end?: number } {
  if (!s || s === '0') return { start: 0 };
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  if (!m) throw new NetworkInputError(`invalid hostPort: ${s}`);
  const start = Number(m[1]), end = m[2] ? Number(m[2]) : undefined;
  if (start < 1 || start > 65535 || (end !== undefined && (end < start || end > 65535))) throw new NetworkInputError(`invalid hostPort: ${s}`);
  return end === undefined ? { start } : { start, end };
}

export function portSpecs(bindings: PortBindings | null | undefined, exposed: Record<string, unknown> | null | undefined, publishAll: boolean): PortSpec[] {
  const out: PortSpec[] = [];
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const { port, proto } = parsePortKey(key);
    for (const b of list ?? [{}]) {
      const h = parseHostPort(b.HostPort);
      out.push({ proto, containerPort: port, hostIp: b.HostIp ?? '', hostPort: h.start, ...(h.end ? { hostPortEnd: h.end } : {}) });
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposed ?? {})) {
      if (bindings && key in bindings) continue;
      const { port, proto } = parsePortKey(key);
      out.push({ proto, containerPort: port, hostIp: '', hostPort: 0 });
    }
  }
  return out;
}

/** NetworkSettings.Ports: every exposed or bound port, null when it is not published. */
export function portsJson(published: readonly PublishedPort[], exposed: Record<string, unknown> | null | undefined): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const key of Object.keys(exposed ?? {})) {
    const { port, proto } = parsePortKey(key);
    out[`${port}/${proto}`] = null;
  }
  for (const p of published) {
    const key = `${p.containerPort}/${p.proto}`;
    (out[key] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  }
  return out;
}
