// Path resolution over a stack of layer directories, as overlayfs would see
// it, without following a single symlink: each component is looked up with
// lstat, top layer first; a whiteout or a non-directory hides what is below,
// an opaque directory hides lower directories of the same name. A symlink or
// a file where a directory is needed is refused, never followed: callers
// resolve symlinked parents inside the root first (apply-writer.ts), so
// "lib/x" with lib -> /etc in a lower layer means <root>/etc/x.
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { isOpaque, isWhiteout } from './overlay-fs.ts';
import { LayerSecurityError } from './paths.ts';
import { lstatOrNull } from './fs-util.ts';

export interface Found {
  /** 0 is the top (the directory being written), then the lowers */
  layer: number;
  path: string;
  st: Stats;
}


export class LayerView {
  readonly layers: string[];
  readonly overlay: boolean;
  /**
   * Lowers not known yet (a layer applied before the layers below it are
   * committed, overlay only): only the top is looked at, and every lookup
   * whose answer the lowers could change (the top has nothing there and no
   * whiteout or opaque directory of the top hides the lowers) is answered
   * "nothing" and recorded here, to be checked once the lowers are there
   * (assumptionsHold).
   */
  readonly pending: boolean;
  readonly assumedAbsent: string[][] = [];

  constructor(top: string, lowers: string[], overlay: boolean, pending = false) {
    this.layers = [top, ...lowers];
    this.overlay = overlay;
    this.pending = pending;
  }

  /**
   * What the merged tree has at comps, or null if nothing. Throws when a
   * parent component is a symlink or not a directory.
   */
  lookup(comps: string[], entry: string): Found | null {
    let candidates = this.layers.map((_, i) => i);
    let found: Found | null = null;
    /** pending: whether the lowers could still show through at this depth */
    let lowersVisible = this.pending;
    for (let i = 0; i < comps.length; i++) {
      const rel = comps.slice(0, i + 1).join('/');
      found = null;
      let topAbsent = false;
      const next: number[] = [];
      for (const li of candidates) {
        const p = join(this.layers[li] as string, rel);
        const st = lstatOrNull(p);
        if (!st) {
          if (li === 0) topAbsent = true;
          continue;
        }
        if (this.overlay && isWhiteout(st)) break;
        if (!found) found = { layer: li, path: p, st };
        if (!st.isDirectory()) break;
        if (found.st.isDirectory()) next.push(li);
        if (this.overlay && isOpaque(p)) {
          if (li === 0) lowersVisible = false;
          break;
        }
      }
      if (!found) {
        // Pending: the top has nothing here and hides nothing, so the lowers decide.
        if (lowersVisible && topAbsent) this.assumedAbsent.push(comps.slice(0, i + 1));
        return null;
      }
      if (i < comps.length - 1) {
        if (found.st.isSymbolicLink()) {
          throw new LayerSecurityError(entry, `parent ${JSON.stringify(rel)} is a symlink (never followed)`);
        }
        if (!found.st.isDirectory()) throw new LayerSecurityError(entry, `parent ${JSON.stringify(rel)} is not a directory`);
        candidates = next;
      }
    }
    return found;
  }
}

/**
 * Whether lowers (nearest first) have nothing at any of the paths a pending
 * lookup assumed empty, as the lookup would have seen them had the lowers
 * been there: the top then held a plain (not opaque) directory at each parent
 * of the path and nothing at the path itself. When this holds, the layer
 * applied without its lowers is exactly what applying it onto them makes.
 */
export function assumptionsHold(lowers: string[], paths: string[][], overlay = true): boolean {
  for (const comps of paths) {
    let candidates = lowers.map((_, i) => i);
    for (let i = 0; i < comps.length && candidates.length > 0; i++) {
      const rel = comps.slice(0, i + 1).join('/');
      const last = i === comps.length - 1;
      const next: number[] = [];
      for (const li of candidates) {
        const p = join(lowers[li] as string, rel);
        const st = lstatOrNull(p);
        if (!st) continue;
        if (overlay && isWhiteout(st)) break;
        if (last) return false; // something the lookup would have found
        if (!st.isDirectory()) break; // hidden by the top's directory, and so is what is below it
        next.push(li);
        if (overlay && isOpaque(p)) break;
      }
      candidates = next;
    }
  }
  return true;
}
