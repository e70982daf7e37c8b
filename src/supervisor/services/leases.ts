// dray.services.leases.v1.Leases over the lease store.
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Lease, LeaseResource, Labels } from '../api/types.ts';
import { toTimestamp } from '../api/types.ts';
import type { LeaseRecord } from '../metadata/leases.ts';
import { invalidArgument } from '../errors.ts';
import { parseFilters } from '../filters.ts';
import { unary } from '../rpc.ts';
import type { ServiceDeps } from './deps.ts';

function leaseMessage(r: LeaseRecord): Lease {
  return { id: r.id, labels: r.labels, createdAt: toTimestamp(r.createdAt) };
}

function resource(r: LeaseResource | null): LeaseResource {
  if (!r) throw invalidArgument('resource must be set');
  return r;
}

export function leasesService(d: ServiceDeps): UntypedServiceImplementation {
  const store = d.metadata.leases;
  const m = (name: string) => `leases.${name}`;
  return {
    Create: unary(d.rpc, m('Create'), (req: { id: string; labels: Labels }, call) => ({ lease: leaseMessage(store.create(call.namespace(), req.id, req.labels)) })),
    Delete: unary(d.rpc, m('Delete'), (req: { id: string }, call) => { store.delete(call.namespace(), req.id); return {}; }),
    List: unary(d.rpc, m('List'), (req: { filters: string[] }, call) => ({ leases: store.list(call.namespace(), parseFilters(req.filters)).map(leaseMessage) })),
    AddResource: unary(d.rpc, m('AddResource'), (req: { id: string; resource: LeaseResource | null }, call) => {
      store.addResource(call.namespace(), req.id, resource(req.resource));
      return {};
    }),
    DeleteResource: unary(d.rpc, m('DeleteResource'), (req: { id: string; resource: LeaseResource | null }, call) => {
      store.deleteResource(call.namespace(), req.id, resource(req.resource));
      return {};
    }),
    ListResources: unary(d.rpc, m('ListResources'), (req: { id: string }, call) => ({ resources: store.listResources(call.namespace(), req.id) })),
  };
}
