// dray.services.images.v1.Images over the images library's image records
// (per namespace) in the shared metadata database, and the server-side pull.
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { FieldMask, Labels, Timestamp } from '../api/types.ts';
import { toTimestamp } from '../api/types.ts';
import { ImageStore, type ImageRecord } from '../../images/metadata/images.ts';
import { collectGarbage } from '../../images/metadata/gc.ts';
import type { LocalStore } from '../../images/content/local-store.ts';
import type { Descriptor } from '../../images/content/types.ts';
import { alreadyExists, invalidArgument, notFound } from '../errors.ts';
import type { PullRequest } from './pull.ts';
import type { Snapshotters } from './snapshots.ts';
import { validateLabels } from '../identifiers.ts';
import { matchAny, objectField, parseFilters } from '../filters.ts';
import { applyMapMask, checkMask, maskPaths } from '../metadata/masks.ts';
import { serverStream, unary } from '../rpc.ts';
import type { ServiceDeps } from './deps.ts';
import { transaction } from '../../images/metadata/db.ts';

interface DescriptorMessage { mediaType: string; digest: string; size: number; annotations: Labels }
interface ImageMessage { name: string; labels: Labels; target: DescriptorMessage | null; createdAt?: Timestamp | null; updatedAt?: Timestamp | null }

function imageMessage(r: ImageRecord): ImageMessage {
  return {
    name: r.name, labels: r.labels,
    target: { mediaType: r.target.mediaType, digest: r.target.digest, size: r.target.size, annotations: r.target.annotations ?? {} },
    createdAt: toTimestamp(r.createdAt), updatedAt: toTimestamp(r.updatedAt),
  };
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name === '' || name.length > 4096 || /[\0\s]/.test(name)) throw invalidArgument(`image name ${JSON.stringify(name)} must be a reference without spaces`);
  return name;
}

function target(t: DescriptorMessage | null | undefined, name: string): Descriptor {
  if (!t) throw invalidArgument(`image ${name}: target must be set`);
  const d: Descriptor = { mediaType: t.mediaType, digest: t.digest, size: t.size };
  if (t.annotations && Object.keys(t.annotations).length > 0) d.annotations = t.annotations;
  return d;
}

const imageField = (i: ImageRecord, p: readonly string[]): string | undefined => {
  if (p[0] === 'labels' && p.length === 2) return i.labels[p[1]!];
  if (p[0] === 'target' && p[1] === 'mediatype') return i.target.mediaType;
  return objectField(i, p);
};

export function imagesService(d: ServiceDeps, content: LocalStore, dataRoot: string, snapshotters: Snapshotters): UntypedServiceImplementation {
  const m = (name: string) => `images.${name}`;
  const images = (ns: string): ImageStore => new ImageStore(d.metadata.db, ns);
  let gc = Promise.resolve();
  return {
    Get: unary(d.rpc, m('Get'), (req: { name: string }, call) => {
      const r = images(call.namespace()).get(checkName(req.name));
      if (!r) throw notFound(`image ${JSON.stringify(req.name)}: not found`);
      return { image: imageMessage(r) };
    }),
    List: unary(d.rpc, m('List'), (req: { filters: string[] }, call) => {
      const filters = parseFilters(req.filters);
      return { images: images(call.namespace()).list().filter((i) => matchAny(filters, (p) => imageField(i, p))).map(imageMessage) };
    }),
    Create: unary(d.rpc, m('Create'), (req: { image: ImageMessage | null }, call) => {
      const ns = call.namespace();
      if (!req.image) throw invalidArgument('image must be set');
      const name = checkName(req.image.name);
      const labels = validateLabels(`image ${name}`, req.image.labels);
      const store = images(ns);
      const r = transaction(d.metadata.db, () => {
        if (store.get(name)) throw alreadyExists(`image ${JSON.stringify(name)}: already exists`);
        return store.put(name, target(req.image!.target, name), labels);
      });
      d.bus.publish(ns, '/images/create', 'ImageCreate', { name, labels });
      return { image: imageMessage(r) };
    }),
    Update: unary(d.rpc, m('Update'), (req: { image: ImageMessage | null; updateMask: FieldMask | null }, call) => {
      const ns = call.namespace();
      if (!req.image) throw invalidArgument('image must be set');
      const name = checkName(req.image.name);
      const paths = maskPaths(req.updateMask);
      checkMask(`image ${name}`, paths, ['target'], ['labels']);
      const store = images(ns);
      const r = transaction(d.metadata.db, () => {
        const cur = store.get(name);
        if (!cur) throw notFound(`image ${JSON.stringify(name)}: not found`);
        const labels = applyMapMask('labels', cur.labels, validateLabels(`image ${name}`, req.image!.labels), paths);
        const t = !paths || paths.includes('target') ? target(req.image!.target, name) : cur.target;
        return store.put(name, t, labels);
      });
      d.bus.publish(ns, '/images/update', 'ImageUpdate', { name, labels: r.labels });
      return { image: imageMessage(r) };
    }),
    Delete: unary(d.rpc, m('Delete'), async (req: { name: string; sync: boolean }, call) => {
      const ns = call.namespace();
      if (!images(ns).delete(checkName(req.name))) throw notFound(`image ${JSON.stringify(req.name)}: not found`);
      d.bus.publish(ns, '/images/delete', 'ImageDelete', { name: req.name });
      if (req.sync) {
        // Collections run one at a time.
        const run = gc.then(() => collectGarbage(d.metadata.db, content).then(() => {}));
        gc = run.catch(() => {});
        await run;
      }
      return {};
    }),
    Pull: serverStream(d.rpc, m('Pull'), async (req: PullRequest, call, write) => {
      // The registry client (TLS, HTTP, auth) loads on the first pull, not at every start.
      const { runPull } = await import('./pull.ts');
      const image = await runPull(d, dataRoot, snapshotters, req, call, write);
      write({ kind: 'done', status: 'done', image });
    }),
  };
}
