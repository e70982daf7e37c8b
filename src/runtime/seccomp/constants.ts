// Kernel and OCI constants for seccomp: return actions, filter flags,
// architectures (OCI SCMP_ARCH_* names, audit arch numbers, syscall tables).
import { AARCH64 } from './tables/aarch64.ts';
import { I386 } from './tables/i386.ts';
import { X32 } from './tables/x32.ts';
import { X86_64 } from './tables/x86_64.ts';

/** SECCOMP_RET_* (linux/seccomp.h): the action is the high 16 bits, data the low 16. */
export const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;
export const RET_ACTION_MASK = 0xffff0000;
export const RET_DATA_MASK = 0x0000ffff;

export const EPERM = 1;
export const ENOSYS = 38;
/** The kernel clamps a larger errno to this (MAX_ERRNO). */
export const MAX_ERRNO = 4095;

/** OCI action name -> SECCOMP_RET_* (SCMP_ACT_KILL kills the thread, as in libseccomp and runc). */
export const ACTIONS: Readonly<Record<string, number>> = {
  SCMP_ACT_KILL: RET.KILL_THREAD,
  SCMP_ACT_KILL_THREAD: RET.KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: RET.KILL_PROCESS,
  SCMP_ACT_TRAP: RET.TRAP,
  SCMP_ACT_ERRNO: RET.ERRNO,
  SCMP_ACT_TRACE: RET.TRACE,
  SCMP_ACT_ALLOW: RET.ALLOW,
  SCMP_ACT_LOG: RET.LOG,
  SCMP_ACT_NOTIFY: RET.USER_NOTIF,
};

/** SECCOMP_FILTER_FLAG_* for seccomp(SECCOMP_SET_MODE_FILTER, flags, prog). */
export const FILTER_FLAG = {
  TSYNC: 1,
  LOG: 2,
  SPEC_ALLOW: 4,
  NEW_LISTENER: 8,
  TSYNC_ESRCH: 16,
  WAIT_KILLABLE_RECV: 32,
} as const;

/** The flags a config.json may name (the OCI schema's SeccompFlag). */
export const OCI_FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: FILTER_FLAG.TSYNC,
  SECCOMP_FILTER_FLAG_LOG: FILTER_FLAG.LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: FILTER_FLAG.SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: FILTER_FLAG.WAIT_KILLABLE_RECV,
};

export const OPERATORS = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
] as const;
export type Operator = (typeof OPERATORS)[number];

/** The architectures this compiler has syscall tables for. */
export type Arch = 'x86_64' | 'i386' | 'x32' | 'aarch64';

/** x32 syscalls run under AUDIT_ARCH_X86_64 with this bit set in the number. */
export const X32_SYSCALL_BIT = 0x40000000;

export const AUDIT_ARCH: Readonly<Record<Arch, number>> = {
  x86_64: 0xc000003e,
  x32: 0xc000003e,
  i386: 0x40000003,
  aarch64: 0xc00000b7,
};

export const SYSCALLS: Readonly<Record<Arch, Readonly<Record<string, number>>>> = {
  x86_64: X86_64,
  i386: I386,
  x32: X32,
  aarch64: AARCH64,
};

/**
 * Every SCMP_ARCH_* of the OCI schema, mapped to the table we have for it, or
 * null: such an architecture validates, but its syscalls get the bad-arch
 * action (the compiler says so in a warning).
 */
export const OCI_ARCHES: Readonly<Record<string, Arch | null>> = {
  SCMP_ARCH_X86: 'i386',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_ARM: null,
  SCMP_ARCH_LOONGARCH64: null,
  SCMP_ARCH_M68K: null,
  SCMP_ARCH_MIPS: null,
  SCMP_ARCH_MIPS64: null,
  SCMP_ARCH_MIPS64N32: null,
  SCMP_ARCH_MIPSEL: null,
  SCMP_ARCH_MIPSEL64: null,
  SCMP_ARCH_MIPSEL64N32: null,
  SCMP_ARCH_PPC: null,
  SCMP_ARCH_PPC64: null,
  SCMP_ARCH_PPC64LE: null,
  SCMP_ARCH_S390: null,
  SCMP_ARCH_S390X: null,
  SCMP_ARCH_SH: null,
  SCMP_ARCH_SHEB: null,
  SCMP_ARCH_PARISC: null,
  SCMP_ARCH_PARISC64: null,
  SCMP_ARCH_RISCV64: null,
};

/** Node's process.arch -> the seccomp architecture of this machine. */
export function nativeArch(nodeArch: string = process.arch): Arch {
  switch (nodeArch) {
    case 'x64':
      return 'x86_64';
    case 'arm64':
      return 'aarch64';
    case 'ia32':
      return 'i386';
    default:
      throw new Error(`seccomp: no syscall table for the native architecture ${nodeArch}`);
  }
}

const maps = new Map<Arch, ReadonlyMap<string, number>>();
/** The syscall table of `arch` as a Map (built once: faster than the large object literal). */
export function syscallMap(arch: Arch): ReadonlyMap<string, number> {
  let m = maps.get(arch);
  if (!m) maps.set(arch, (m = new Map(Object.entries(SYSCALLS[arch]))));
  return m;
}

let allNames: Set<string> | undefined;
/** True when some table knows the name (used to tell typos from other arches' syscalls). */
export function knownSyscall(name: string): boolean {
  allNames ??= new Set(Object.values(SYSCALLS).flatMap((t) => Object.keys(t)));
  return allNames.has(name);
}
