// A snapshotter seen through one namespace: every key and parent gets the
// "<namespace>/" prefix on the way in and loses it on the way out, so
// library code (unpack) that names snapshots itself stays namespaced.
import type { ApplyTarget, Mount, SnapshotInfo, SnapshotOptions, Snapshotter, Usage } from '../images/snapshots/types.ts';

export class ScopedSnapshotter implements Snapshotter {
  readonly name: string;
  private readonly inner: Snapshotter;
  private readonly prefix: string;

  constructor(inner: Snapshotter, namespace: string) {
    this.inner = inner;
    this.name = inner.name;
    this.prefix = namespace + '/';
    // Staging directories have no key: they pass through, when the inner snapshotter has them.
    if (inner.stage) this.stage = () => inner.stage!();
    if (inner.unstage) this.unstage = (staged) => inner.unstage!(staged);
  }

  readonly stage?: Snapshotter['stage'];
  readonly unstage?: Snapshotter['unstage'];

  private k(key: string): string { return this.prefix + key; }
  private p(parent: string | undefined): string | undefined { return parent === undefined ? undefined : this.prefix + parent; }
  private out(info: SnapshotInfo): SnapshotInfo {
    const strip = (s: string): string => (s.startsWith(this.prefix) ? s.slice(this.prefix.length) : s);
    const r: SnapshotInfo = { ...info, key: strip(info.key) };
    if (info.parent !== undefined) r.parent = strip(info.parent);
    return r;
  }

  prepare(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> { return this.inner.prepare(this.k(key), this.p(parent), opts); }
  view(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]> { return this.inner.view(this.k(key), this.p(parent), opts); }
  mounts(key: string): Mount[] { return this.inner.mounts(this.k(key)); }
  commit(name: string, key: string, opts?: SnapshotOptions): Promise<void> { return this.inner.commit(this.k(name), this.k(key), opts); }
  remove(key: string): Promise<void> { return this.inner.remove(this.k(key)); }
  stat(key: string): SnapshotInfo { return this.out(this.inner.stat(this.k(key))); }
  walk(fn: (info: SnapshotInfo) => void): void {
    this.inner.walk((i) => { if (i.key.startsWith(this.prefix)) fn(this.out(i)); });
  }
  update(key: string, labels: Record<string, string>, fieldpaths?: string[]): SnapshotInfo { return this.out(this.inner.update(this.k(key), labels, fieldpaths)); }
  usage(key: string): Promise<Usage> { return this.inner.usage(this.k(key)); }
  applyTarget(key: string): ApplyTarget { return this.inner.applyTarget(this.k(key)); }
  dir(key: string): string { return this.inner.dir(this.k(key)); }

  /** The shared snapshotter stays open: its owner closes it. */
  close(): void {}
}
