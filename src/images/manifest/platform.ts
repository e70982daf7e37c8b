// Platforms normalized and matched as containerd's platforms package does:
// x86_64 -> amd64, aarch64 -> arm64 (v8 is the default variant and dropped),
// arm defaults to v7 and an arm/v7 host also runs v6 and v5 images.
import type { Platform } from '../content/types.ts';

export function normalizeOS(os: string): string {
  const o = os.toLowerCase();
  return o === 'macos' ? 'darwin' : o;
}

export function normalizeArch(arch: string, variant = ''): { architecture: string; variant: string } {
  const a = arch.toLowerCase();
  let v = variant.toLowerCase();
  switch (a) {
    case 'i386':
    case '386':
      return { architecture: '386', variant: '' };
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return { architecture: 'amd64', variant: v === 'v1' ? '' : v };
    case 'aarch64':
    case 'arm64':
      return { architecture: 'arm64', variant: v === '8' || v === 'v8' ? '' : v };
    case 'armhf':
      return { architecture: 'arm', variant: 'v7' };
    case 'armel':
      return { architecture: 'arm', variant: 'v6' };
    case 'arm':
      if (v === '' || v === '7') v = 'v7';
      else if (v === '5' || v === '6' || v === '8') v = `v${v}`;
      return { architecture: 'arm', variant: v };
    default:
      return { architecture: a, variant: v };
  }
}

export function normalizePlatform(p: Platform): Platform {
  const { architecture, variant } = normalizeArch(p.architecture, p.variant ?? '');
  const out: Platform = { os: normalizeOS(p.os), architecture };
  if (variant) out.variant = variant;
  if (p['os.version']) out['os.version'] = p['os.version'];
  return out;
}

/** Parses `linux`, `linux/amd64`, `linux/arm/v7`, `arm64` (host OS assumed). */
export function parsePlatform(s: string): Platform {
  const parts = s.split('/');
  if (parts.length > 3 || parts.some((x) => x === '' || !/^[A-Za-z0-9_.-]+$/.test(x))) {
    throw new Error(`invalid platform ${JSON.stringify(s)}: want os[/arch[/variant]]`);
  }
  const host = hostPlatform();
  if (parts.length === 1) {
    const one = parts[0]!.toLowerCase();
    if (KNOWN_OS.has(normalizeOS(one))) return normalizePlatform({ os: one, architecture: host.architecture, ...(host.variant ? { variant: host.variant } : {}) });
    return normalizePlatform({ os: host.os, architecture: one });
  }
  return normalizePlatform({ os: parts[0]!, architecture: parts[1]!, ...(parts[2] ? { variant: parts[2] } : {}) });
}

const KNOWN_OS = new Set(['linux', 'windows', 'darwin', 'freebsd', 'netbsd', 'openbsd', 'solaris', 'aix', 'illumos', 'plan9', 'android', 'ios', 'js', 'dragonfly']);

export function formatPlatform(p: Platform): string {
  const n = normalizePlatform(p);
  return [n.os, n.architecture, n.variant].filter(Boolean).join('/');
}

/** The platform this process runs on, in OCI terms. */
export function hostPlatform(): Platform {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', mips: 'mips', mipsel: 'mipsle' };
  const architecture = map[process.arch] ?? process.arch;
  let variant = '';
  if (architecture === 'arm') {
    const v = (process.config.variables as Record<string, unknown>)['arm_version'];
    variant = typeof v === 'string' || typeof v === 'number' ? `v${v}` : 'v7';
  }
  return normalizePlatform({ os: process.platform === 'win32' ? 'windows' : process.platform, architecture, ...(variant ? { variant } : {}) });
}

/**
 * The platforms a wanted platform can run, best first: itself, then for arm
 * the older variants (v8 runs v7, v6, v5; v7 runs v6, v5; v6 runs v5).
 */
export function compatiblePlatforms(want: Platform): Platform[] {
  const w = normalizePlatform(want);
  const out: Platform[] = [w];
  if (w.architecture === 'arm') {
    const order = ['v8', 'v7', 'v6', 'v5'];
    const i = order.indexOf(w.variant ?? 'v7');
    if (i >= 0) for (const v of order.slice(i + 1)) out.push({ os: w.os, architecture: 'arm', variant: v });
  }
  if (w.architecture === 'arm64') {
    // 64-bit arm hosts commonly run arm/v7 too (containerd's Only() does the same).
    for (const v of ['v8', 'v7', 'v6', 'v5']) out.push({ os: w.os, architecture: 'arm', variant: v });
  }
  return out;
}

function samePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? '') === (b.variant ?? '');
}

/** The rank of `p` for `want`: 0 best; -1 when it cannot run there. */
export function platformRank(want: Platform, p: Platform): number {
  const n = normalizePlatform(p);
  return compatiblePlatforms(want).findIndex((c) => samePlatform(c, n));
}

export function platformMatches(want: Platform, p: Platform): boolean {
  return platformRank(want, p) >= 0;
}
