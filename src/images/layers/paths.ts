// Entry names from a layer are attacker-controlled. They are cut into
// components here, once, and refused when they could name anything outside
// the layer's root.

export class LayerSecurityError extends Error {
  readonly entry: string;
  constructor(entry: string, why: string) {
    super(`refused layer entry ${JSON.stringify(entry)}: ${why}`);
    this.name = 'LayerSecurityError';
    this.entry = entry;
  }
}

/**
 * A layer applied before its lowers were there (LayerView.pending) reached an
 * entry whose outcome only the lowers decide (a hardlink to a path the layer
 * does not have): it is applied again, in order, onto its lowers.
 */
export class NeedsLowersError extends Error {
  readonly entry: string;
  constructor(entry: string) {
    super(`layer entry ${JSON.stringify(entry)} needs the layers below`);
    this.name = 'NeedsLowersError';
    this.entry = entry;
  }
}

const MAX_PATH = 4096;

/**
 * The components of an entry's path. A leading "/" is dropped (as Docker
 * does: absolute names are relative to the layer's root); "." and empty
 * components are dropped; ".." anywhere is refused (legitimate layers never
 * have one, and resolving it safely is not worth the risk). [] is the root.
 */
export function entryComponents(name: string, what = 'path'): string[] {
  if (name.includes('\0')) throw new LayerSecurityError(name, `NUL byte in ${what}`);
  if (Buffer.byteLength(name) > MAX_PATH) throw new LayerSecurityError(name.slice(0, 64), `${what} longer than ${MAX_PATH} bytes`);
  const comps = name.split('/').filter((c) => c !== '' && c !== '.');
  if (comps.includes('..')) throw new LayerSecurityError(name, `".." in ${what}`);
  return comps;
}

/**
 * Docker's rule for symlinks: a relative target that climbs above the root
 * from where the link sits is a breakout. Absolute targets are fine: they are
 * resolved inside the container's root at run time, and apply follows them
 * only inside the layer's root too (apply-writer.ts).
 */
export function checkSymlinkTarget(entry: string, comps: string[], target: string): void {
  if (target.includes('\0')) throw new LayerSecurityError(entry, 'NUL byte in symlink target');
  if (target === '') throw new LayerSecurityError(entry, 'empty symlink target');
  if (target.startsWith('/')) return;
  let depth = comps.length - 1; // the directory the link sits in
  for (const c of target.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (--depth < 0) throw new LayerSecurityError(entry, `symlink target ${JSON.stringify(target)} points outside the root`);
    } else depth++;
  }
}
