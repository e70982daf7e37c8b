// images.Pull: the images library's pull (registry client, content under a
// lease, image record), run in the daemon, streaming Docker-shaped progress;
// optionally unpacked into a snapshotter (namespaced) while downloading.
import { openImageStores } from '../../images/metadata/open.ts';
import { pull } from '../../images/pull.ts';
import { RegistryClient } from '../../images/registry/client.ts';
import { formatReference, parseImageReference } from '../../images/reference/reference.ts';
import { invalidArgument } from '../errors.ts';
import type { ServiceDeps } from './deps.ts';
import type { Snapshotters } from './snapshots.ts';
import { ScopedSnapshotter } from '../scoped-snapshotter.ts';
import type { Call } from '../rpc.ts';

export interface PullRequest {
  reference: string;
  platform: { os: string; architecture: string; variant: string } | null;
  snapshotter: string;
  username: string;
  password: string;
  insecureRegistries: string[];
}

export async function runPull(d: ServiceDeps, dataRoot: string, snapshotters: Snapshotters, req: PullRequest, call: Call, write: (m: unknown) => void): Promise<Record<string, unknown>> {
  const ns = call.namespace();
  if (!req.reference) throw invalidArgument('reference must be set');
  const sn = req.snapshotter ? snapshotters.get(req.snapshotter) : undefined;
  const stores = openImageStores(dataRoot, { db: d.metadata.db, namespace: ns });
  const creds = req.username ? { username: req.username, password: req.password } : undefined;
  const client = new RegistryClient({ insecureRegistries: req.insecureRegistries, credentials: () => creds });
  const platform = req.platform?.os ? { os: req.platform.os, architecture: req.platform.architecture, ...(req.platform.variant ? { variant: req.platform.variant } : {}) } : undefined;
  let name: string;
  try {
    name = formatReference(parseImageReference(req.reference));
  } catch (err) {
    throw invalidArgument(`invalid reference ${JSON.stringify(req.reference)}: ${(err as Error).message}`);
  }
  const existed = stores.images.get(name) !== undefined;
  // With a snapshotter: layers are applied while they download (the images
  // library's streaming path); result.chainId is the top snapshot.
  const result = await pull(stores, client, req.reference, {
    ...(platform ? { platform } : {}),
    onProgress: (e) => {
      if (call.signal.aborted) return;
      write({ kind: 'progress', id: e.id, status: e.status, detail: e.detail ?? '', offset: e.progressDetail?.current ?? 0, total: e.progressDetail?.total ?? 0 });
    },
    ...(sn ? {
      unpackTo: {
        snapshotter: new ScopedSnapshotter(sn, ns),
        onProgress: (p) => { if (!call.signal.aborted) write({ kind: 'unpack', id: p.digest.slice(7, 19), status: p.state, descriptor: { digest: p.digest } }); },
      },
    } : {}),
  });
  const rec = stores.images.get(result.name);
  if (!rec) throw new Error(`pull of ${result.name} finished without an image record`);
  d.bus.publish(ns, existed ? '/images/update' : '/images/create', existed ? 'ImageUpdate' : 'ImageCreate', { name: rec.name, labels: rec.labels });
  return { name: rec.name, labels: rec.labels, target: { mediaType: rec.target.mediaType, digest: rec.target.digest, size: rec.target.size, annotations: rec.target.annotations ?? {} } };
}
