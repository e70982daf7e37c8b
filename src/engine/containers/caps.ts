// Capability sets: Docker's default set, CapAdd/CapDrop with ALL, privileged.
import { readFileSync } from 'node:fs';
import { badRequest } from '../api/errors.ts';
import { DOCKER_DEFAULT_CAPS } from '../../runtime/seccomp/docker-profile.ts';

/** Every capability Linux knows (through 6.x). */
export const ALL_CAPS: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

let hostCaps: string[] | undefined;

/** The capabilities drayd itself may hand out (its bounding set; in order of number): Docker's "all". */
export function hostCapabilities(): string[] {
  if (!hostCaps) {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    const bits = m ? BigInt(`0x${m[1]}`) : (1n << BigInt(ALL_CAPS.length)) - 1n;
    hostCaps = ALL_CAPS.filter((_, i) => (bits >> BigInt(i)) & 1n);
  }
  return hostCaps;
}

function normalize(c: string): string {
  const u = c.toUpperCase();
  if (u === 'ALL') return u;
  const n = u.startsWith('CAP_') ? u : `CAP_${u}`;
  if (!ALL_CAPS.includes(n)) throw badRequest(`invalid capability: ${c}`);
  return n;
}

/** The container's capability set, in Docker's order of evaluation (drop, then add). */
export function capabilitySet(add: string[] = [], drop: string[] = [], privileged = false): string[] {
  if (privileged) return [...hostCapabilities()];
  const a = add.map(normalize);
  const d = drop.map(normalize);
  let caps = d.includes('ALL') ? [] : DOCKER_DEFAULT_CAPS.filter((c) => !d.includes(c));
  if (a.includes('ALL')) caps = hostCapabilities().filter((c) => !d.includes(c) || a.includes(c));
  for (const c of a) if (c !== 'ALL' && !caps.includes(c)) caps.push(c);
  return caps;
}
