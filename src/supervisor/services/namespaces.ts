// dray.services.namespaces.v1.Namespaces over the namespace store.
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { FieldMask, Namespace } from '../api/types.ts';
import { toTimestamp } from '../api/types.ts';
import type { NamespaceRecord } from '../metadata/namespaces.ts';
import { maskPaths } from '../metadata/masks.ts';
import { invalidArgument } from '../errors.ts';
import { matchAny, objectField, parseFilters } from '../filters.ts';
import { unary } from '../rpc.ts';
import type { ServiceDeps } from './deps.ts';

export function namespaceMessage(r: NamespaceRecord): Namespace {
  return { name: r.name, labels: r.labels, createdAt: toTimestamp(r.createdAt), updatedAt: toTimestamp(r.updatedAt) };
}

export function namespacesService(d: ServiceDeps): UntypedServiceImplementation {
  const store = d.metadata.namespaces;
  const m = (name: string) => `namespaces.${name}`;
  return {
    Get: unary(d.rpc, m('Get'), (req: { name: string }) => ({ namespace: namespaceMessage(store.get(req.name)) })),
    List: unary(d.rpc, m('List'), (req: { filter: string }) => {
      const filters = parseFilters(req.filter ? [req.filter] : []);
      const all = store.list().filter((n) => matchAny(filters, (p) => (p[0] === 'labels' && p.length === 2 ? n.labels[p[1]!] : objectField(n, p))));
      return { namespaces: all.map(namespaceMessage) };
    }),
    Create: unary(d.rpc, m('Create'), (req: { namespace: Namespace | null }) => {
      if (!req.namespace) throw invalidArgument('namespace must be set');
      const r = store.create(req.namespace.name, req.namespace.labels);
      d.bus.publish(r.name, '/namespaces/create', 'NamespaceCreate', { name: r.name, labels: r.labels });
      return { namespace: namespaceMessage(r) };
    }),
    Update: unary(d.rpc, m('Update'), (req: { namespace: Namespace | null; updateMask: FieldMask | null }) => {
      if (!req.namespace) throw invalidArgument('namespace must be set');
      const r = store.updateLabels(req.namespace.name, req.namespace.labels, maskPaths(req.updateMask));
      d.bus.publish(r.name, '/namespaces/update', 'NamespaceUpdate', { name: r.name, labels: r.labels });
      return { namespace: namespaceMessage(r) };
    }),
    Delete: unary(d.rpc, m('Delete'), (req: { name: string }) => {
      store.delete(req.name);
      d.bus.publish(req.name, '/namespaces/delete', 'NamespaceDelete', { name: req.name });
      return {};
    }),
  };
}
