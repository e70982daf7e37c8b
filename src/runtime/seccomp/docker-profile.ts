// Docker's seccomp profile format (moby's profiles/seccomp: an archMap and
// per-rule includes/excludes by arch, capability and kernel version) turned
// into the OCI linux.seccomp a runtime takes, for one machine and one
// capability set, the way the engine does it when it builds config.json.
import { readFileSync } from 'node:fs';
import type { Arch } from './constants.ts';
import { repoPath } from '../../common/paths.ts';
import type { LinuxSeccomp, LinuxSeccompArg, LinuxSyscall } from './validate.ts';

interface Filter {
  arches?: string[] | null;
  caps?: string[] | null;
  minKernel?: string | null;
}
export interface DockerSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] | null }[] | null;
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: {
    name?: string;
    names?: string[];
    action: string;
    errnoRet?: number;
    args?: LinuxSeccompArg[] | null;
    includes?: Filter | null;
    excludes?: Filter | null;
    comment?: string;
  }[];
}

const GO_ARCH: Readonly<Record<Arch, string>> = { x86_64: 'amd64', aarch64: 'arm64', i386: '386', x32: 'amd64' };
const SCMP_ARCH: Readonly<Record<Arch, string>> = {
  x86_64: 'SCMP_ARCH_X86_64',
  aarch64: 'SCMP_ARCH_AARCH64',
  i386: 'SCMP_ARCH_X86',
  x32: 'SCMP_ARCH_X32',
};

/** "6.18.44-foo" >= "4.8"? */
function kernelAtLeast(release: string, min: string): boolean {
  const [a = 0, b = 0] = release.split(/[.-]/).map((s) => Number.parseInt(s, 10) || 0);
  const [c = 0, d = 0] = min.split('.').map((s) => Number.parseInt(s, 10) || 0);
  return a > c || (a === c && b >= d);
}

export interface DockerProfileOptions {
  arch: Arch;
  /** The container's bounding capabilities, e.g. "CAP_SYS_ADMIN". */
  capabilities: readonly string[];
  /** The kernel release for minKernel checks, e.g. os.release(). */
  kernelRelease: string;
}

export function dockerProfileToOci(profile: DockerSeccompProfile, opts: DockerProfileOptions): LinuxSeccomp {
  if (profile.architectures?.length && profile.archMap?.length) {
    throw new Error('seccomp profile: architectures and archMap are exclusive');
  }
  const goArch = GO_ARCH[opts.arch];
  const out: LinuxSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.architectures?.length) out.architectures = [...profile.architectures];
  for (const m of profile.archMap ?? []) {
    if (m.architecture === SCMP_ARCH[opts.arch]) {
      out.architectures = [m.architecture, ...(m.subArchitectures ?? [])];
    }
  }
  if (profile.flags?.length) out.flags = [...profile.flags];
  if (profile.listenerPath !== undefined) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata !== undefined) out.listenerMetadata = profile.listenerMetadata;
  const has = (c: string) => opts.capabilities.includes(c);
  const syscalls: LinuxSyscall[] = [];
  for (const call of profile.syscalls ?? []) {
    const ex = call.excludes;
    if (ex?.arches?.includes(goArch)) continue;
    if (ex?.caps?.some(has)) continue;
    if (ex?.minKernel && kernelAtLeast(opts.kernelRelease, ex.minKernel)) continue;
    const inc = call.includes;
    if (inc?.arches?.length && !inc.arches.includes(goArch)) continue;
    if (inc?.caps?.length && !inc.caps.every(has)) continue;
    if (inc?.minKernel && !kernelAtLeast(opts.kernelRelease, inc.minKernel)) continue;
    const names = call.name ? [call.name] : (call.names ?? []);
    const s: LinuxSyscall = { names, action: call.action };
    if (call.errnoRet !== undefined) s.errnoRet = call.errnoRet;
    if (call.args?.length) s.args = call.args;
    syscalls.push(s);
  }
  out.syscalls = syscalls;
  return out;
}

/** Docker's default bounding set, for converting its default profile. */
export const DOCKER_DEFAULT_CAPS: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

let defaultProfile: DockerSeccompProfile | undefined;
/** Docker's default profile (moby's profiles/seccomp/default.json, Apache-2.0), in Docker's format. */
export function dockerDefaultProfile(): DockerSeccompProfile {
  defaultProfile ??= JSON.parse(readFileSync(repoPath('src/runtime/seccomp/profiles/docker-default.json'), 'utf8')) as DockerSeccompProfile;
  return defaultProfile;
}
