// dray.services.snapshots.v1.Snapshots over the images library's
// snapshotters. Snapshots are namespaced as containerd's are: the backend
// key is "<namespace>/<key>" (a namespace cannot contain "/"), so one
// namespace neither sees nor touches another's snapshots.
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Labels, Timestamp } from '../api/types.ts';
import { toTimestamp } from '../api/types.ts';
import { openSnapshotter, type SnapshotterName } from '../../images/snapshots/index.ts';
import type { Mount, SnapshotInfo, Snapshotter } from '../../images/snapshots/types.ts';
import { invalidArgument } from '../errors.ts';
import { checkMask, maskPaths } from '../metadata/masks.ts';
import { validateLabels } from '../identifiers.ts';
import { matchAny, parseFilters } from '../filters.ts';
import { serverStream, unary, type Call } from '../rpc.ts';
import type { ServiceDeps } from './deps.ts';

export const SNAPSHOTTERS: readonly SnapshotterName[] = ['overlayfs', 'naive'];

/** Opens each snapshotter on first use, under <root>/<name>. */
export class Snapshotters {
  private readonly root: string;
  private readonly open = new Map<string, Snapshotter>();

  constructor(root: string) {
    this.root = root;
  }

  get(name: string): Snapshotter {
    if (!SNAPSHOTTERS.includes(name as SnapshotterName)) throw invalidArgument(`snapshotter ${JSON.stringify(name)} is not loaded (have: ${SNAPSHOTTERS.join(', ')})`);
    let s = this.open.get(name);
    if (!s) {
      s = openSnapshotter(join(this.root, name), name as SnapshotterName);
      this.open.set(name, s);
    }
    return s;
  }

  /** How many snapshots namespace holds, in every snapshotter that has a directory (opened now if need be). */
  count(namespace: string): number {
    let n = 0;
    for (const name of SNAPSHOTTERS) {
      if (!this.open.has(name) && !existsSync(join(this.root, name))) continue;
      this.get(name).walk((i) => { if (i.key.startsWith(namespace + '/')) n++; });
    }
    return n;
  }

  close(): void {
    for (const s of this.open.values()) s.close();
    this.open.clear();
  }
}

interface InfoMessage { name: string; parent: string; kind: string; createdAt: Timestamp; updatedAt: Timestamp; labels: Labels }

const scoped = (ns: string, key: string): string => `${ns}/${key}`;
const unscoped = (ns: string, key: string | undefined): string => (key && key.startsWith(ns + '/') ? key.slice(ns.length + 1) : '');

function checkKey(key: unknown, what = 'key'): string {
  if (typeof key !== 'string' || key === '' || key.length > 4000 || key.includes('\0')) throw invalidArgument(`snapshot ${what} must be 1 to 4000 characters`);
  return key;
}

function infoMessage(ns: string, i: SnapshotInfo): InfoMessage {
  return {
    name: unscoped(ns, i.key), parent: unscoped(ns, i.parent), kind: i.kind.toUpperCase(),
    createdAt: toTimestamp(i.created), updatedAt: toTimestamp(i.updated), labels: i.labels,
  };
}

const mountMessages = (mounts: Mount[]) => ({ mounts: mounts.map((m) => ({ type: m.type, source: m.source, target: '', options: m.options })) });

interface KeyRequest { snapshotter: string; key: string; parent: string; labels: Labels; name: string }

export function snapshotsService(d: ServiceDeps, snapshotters: Snapshotters): UntypedServiceImplementation {
  const m = (name: string) => `snapshots.${name}`;
  const ctx = (req: { snapshotter: string }, call: Call): { ns: string; sn: Snapshotter } => ({ ns: call.namespace(), sn: snapshotters.get(req.snapshotter) });
  const create = (kind: 'prepare' | 'view') => async (req: KeyRequest, call: Call) => {
    const { ns, sn } = ctx(req, call);
    const key = checkKey(req.key);
    const parent = req.parent ? scoped(ns, checkKey(req.parent, 'parent')) : undefined;
    const mounts = await sn[kind](scoped(ns, key), parent, { labels: validateLabels(`snapshot ${key}`, req.labels) });
    if (kind === 'prepare') d.bus.publish(ns, '/snapshot/prepare', 'SnapshotPrepare', { key, parent: req.parent, snapshotter: req.snapshotter });
    return mountMessages(mounts);
  };
  return {
    Prepare: unary(d.rpc, m('Prepare'), create('prepare')),
    View: unary(d.rpc, m('View'), create('view')),
    Mounts: unary(d.rpc, m('Mounts'), (req: KeyRequest, call) => {
      const { ns, sn } = ctx(req, call);
      return mountMessages(sn.mounts(scoped(ns, checkKey(req.key))));
    }),
    Commit: unary(d.rpc, m('Commit'), async (req: KeyRequest, call) => {
      const { ns, sn } = ctx(req, call);
      const name = checkKey(req.name, 'name');
      await sn.commit(scoped(ns, name), scoped(ns, checkKey(req.key)), { labels: validateLabels(`snapshot ${name}`, req.labels) });
      d.bus.publish(ns, '/snapshot/commit', 'SnapshotCommit', { key: req.key, name, snapshotter: req.snapshotter });
      return {};
    }),
    Remove: unary(d.rpc, m('Remove'), async (req: KeyRequest, call) => {
      const { ns, sn } = ctx(req, call);
      await sn.remove(scoped(ns, checkKey(req.key)));
      d.bus.publish(ns, '/snapshot/remove', 'SnapshotRemove', { key: req.key, snapshotter: req.snapshotter });
      return {};
    }),
    Stat: unary(d.rpc, m('Stat'), (req: KeyRequest, call) => {
      const { ns, sn } = ctx(req, call);
      return { info: infoMessage(ns, sn.stat(scoped(ns, checkKey(req.key)))) };
    }),
    Update: unary(d.rpc, m('Update'), (req: { snapshotter: string; info: InfoMessage | null; updateMask: { paths: string[] } | null }, call) => {
      const { ns, sn } = ctx(req, call);
      if (!req.info) throw invalidArgument('info must be set');
      const paths = maskPaths(req.updateMask);
      checkMask(`snapshot ${req.info.name}`, paths, [], ['labels']);
      const labels = validateLabels(`snapshot ${req.info.name}`, req.info.labels);
      return { info: infoMessage(ns, sn.update(scoped(ns, checkKey(req.info.name)), labels, paths)) };
    }),
    List: serverStream(d.rpc, m('List'), (req: { snapshotter: string; filters: string[] }, call, write) => {
      const { ns, sn } = ctx(req, call);
      const filters = parseFilters(req.filters);
      let batch: InfoMessage[] = [];
      sn.walk((i) => {
        if (!i.key.startsWith(ns + '/')) return;
        const info = infoMessage(ns, i);
        if (!matchAny(filters, (p) => (p[0] === 'labels' && p.length === 2 ? info.labels[p[1]!] : p.length === 1 ? String((info as unknown as Record<string, unknown>)[p[0]!] ?? '') || undefined : undefined))) return;
        batch.push(info);
        if (batch.length >= 100) { write({ info: batch }); batch = []; }
      });
      if (batch.length > 0) write({ info: batch });
    }),
    Usage: unary(d.rpc, m('Usage'), async (req: KeyRequest, call) => {
      const { ns, sn } = ctx(req, call);
      return sn.usage(scoped(ns, checkKey(req.key)));
    }),
    // Each snapshotter removes what a crash left behind when it opens: nothing is left to clean.
    Cleanup: unary(d.rpc, m('Cleanup'), (req: { snapshotter: string }, call) => { ctx(req, call); return {}; }),
  };
}
