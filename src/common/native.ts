// Typed access to the N-API addon (native/addon): only the syscalls Node lacks.
import { createRequire } from 'node:module';

export interface NativeAddon {
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer, flags: number): void;
  /** null when the attribute is absent. */
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  umount2(target: string, flags: number): void;
  sendFds(socketFd: number, fds: number[], data: Buffer): void;
  recvFds(socketFd: number, maxData: number): { data: Buffer; fds: number[] };
  /** SO_PEERCRED: who is at the other end of a connected unix socket. */
  peerCred(socketFd: number): { pid: number; uid: number; gid: number };
  /** A socket created inside the network namespace at nsPath (null: this one), bound to bindAddr:port when given. */
  netnsSocket(nsPath: string | null, family: number, type: number, protocol: number, bindAddr: string | null, port: number): number;
  netlinkSend(fd: number, message: Buffer): void;
  /** The next datagram; throws ETIMEDOUT after timeoutMs. */
  netlinkRecv(fd: number, timeoutMs: number): Buffer;
  /** malloc_trim(0): returns glibc's free heap to the kernel; true when some was released. */
  mallocTrim(): boolean;
  /** openat2(2) (O_CLOEXEC always added): path resolution scoped by `resolve` (RESOLVE.*); returns the fd. */
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
}

let addon: NativeAddon | undefined;

/** Loads the addon on first use, so executables that never need it never pay for it. */
export function native(): NativeAddon {
  if (!addon) {
    const require = createRequire(import.meta.url);
    try {
      addon = require('../../native/out/dray.node') as NativeAddon;
    } catch (err) {
      throw new Error(`the native addon is not built (run \`npm run build\`): ${(err as Error).message}`);
    }
  }
  return addon;
}

/** mount(2) flags, from <sys/mount.h>. */
export const MS = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, SYNCHRONOUS: 0x10, REMOUNT: 0x20,
  MANDLOCK: 0x40, DIRSYNC: 0x80, NOSYMFOLLOW: 0x100, NOATIME: 0x400, NODIRATIME: 0x800,
  BIND: 0x1000, MOVE: 0x2000, REC: 0x4000, SILENT: 0x8000, UNBINDABLE: 0x20000,
  PRIVATE: 0x40000, SLAVE: 0x80000, SHARED: 0x100000, RELATIME: 0x200000,
  STRICTATIME: 0x1000000, LAZYTIME: 0x2000000,
} as const;

/** umount2(2) flags. */
export const MNT = { FORCE: 1, DETACH: 2, EXPIRE: 4 } as const;

/** openat2(2) resolve flags, from <linux/openat2.h>. */
export const RESOLVE = { NO_XDEV: 0x01, NO_MAGICLINKS: 0x02, NO_SYMLINKS: 0x04, BENEATH: 0x08, IN_ROOT: 0x10, CACHED: 0x20 } as const;
/** open(2) flags Node's fs.constants lacks. */
export const O_PATH = 0o10000000;
export const AT_FDCWD = -100;
