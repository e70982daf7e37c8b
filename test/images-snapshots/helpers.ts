// Test helpers: temp dirs cleaned up by t.after, tars crafted with tar-stream
// (including hostile ones), and a snapshot of the tree outside a target so a
// test can prove nothing there changed.
import { mkdtempSync, rmSync, readdirSync, lstatSync, readlinkSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import type { Header } from 'tar-stream';
import { unmount } from '../../src/images/snapshots/mount.ts';

export interface TestContext { after: (fn: () => void | Promise<void>) => void }

export function tempDir(t: TestContext, prefix = 'dray-snap-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Unmounts target at the end of the test, even when it fails. */
export function unmountAfter(t: TestContext, target: string): void {
  t.after(() => unmount(target));
}

export interface Entry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  body?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

/** A tar made by tar-stream exactly as given: names are not cleaned, so hostile names stay hostile. */
export async function makeTar(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c) => { chunks.push(c as Buffer); });
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? (e.body !== undefined ? 'file' : 'directory');
    const body = e.body === undefined ? undefined : Buffer.from(e.body);
    const header: Partial<Header> & Pick<Header, 'name'> = {
      name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime ?? new Date('2024-01-01T00:00:00Z'),
      size: body?.length ?? 0,
    };
    if (e.linkname !== undefined) header.linkname = e.linkname;
    if (e.devmajor !== undefined) header.devmajor = e.devmajor;
    if (e.devminor !== undefined) header.devminor = e.devminor;
    if (e.pax) header.pax = e.pax;
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) pack.entry(header, body, cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A listing of a tree (type, mode, size, link target, content hash-ish) to compare before/after. */
export function treeListing(root: string): string[] {
  const out: string[] = [];
  const walk = (p: string, rel: string) => {
    const st = lstatSync(p);
    let extra = '';
    if (st.isSymbolicLink()) extra = `-> ${readlinkSync(p)}`;
    else if (st.isFile()) extra = readFileSync(p).toString('base64').slice(0, 64);
    out.push(`${rel} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${extra}`);
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n), rel ? `${rel}/${n}` : n);
  };
  walk(root, '');
  return out;
}
