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

  constructor(top: string, lowers: string[], overlay: boolean) {
    this.layers = [top, ...lowers];
    this.overlay = overlay;
  }

  /**
   * What the merged tree has at comps, or null if nothing. Throws when a
   * parent component is a symlink or not a directory.
   */
  lookup(comps: string[], entry: string): Found | null {
    let candidates = this.layers.map((_, i) => i);
    let found: Found | null = null;
    for (let i = 0; i < comps.length; i++) {
      const rel = comps.slice(0, i + 1).join('/');
      found = null;
      const next: number[] = [];
      for (const li of candidates) {
        const p = join(this.layers[li] as string, rel);
        const st = lstatOrNull(p);
        if (!st) continue;
        if (this.overlay && isWhiteout(st)) break;
        if (!found) found = { layer: li, path: p, st };
        if (!st.isDirectory()) break;
        if (found.st.isDirectory()) next.push(li);
        if (this.overlay && isOpaque(p)) break;
      }
      if (!found) return null;
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
