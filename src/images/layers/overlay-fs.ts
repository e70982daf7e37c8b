// Overlayfs' on-disk conventions, shared by apply and diff.
import type { Stats } from 'node:fs';
import { native } from '../../common/native.ts';

export const OPAQUE_XATTR = 'trusted.overlay.opaque';
/** Overlay's private xattrs: never taken from a layer, never written into one. */
export const OVERLAY_XATTR_PREFIX = 'trusted.overlay.';
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
/** Other `.wh..wh.` names are aufs bookkeeping, skipped as Docker does. */
export const AUFS_META_PREFIX = '.wh..wh.';

export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

export function isOpaque(path: string): boolean {
  const v = native().lgetxattr(path, OPAQUE_XATTR);
  return v !== null && v.toString() === 'y';
}

export function makeWhiteout(path: string): void {
  native().mknod(path, 0o020000, 0, 0);
}

export function setOpaque(path: string): void {
  native().lsetxattr(path, OPAQUE_XATTR, Buffer.from('y'), 0);
}
