// dray.services.containers.v1.Containers over the container store.
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Container, FieldMask } from '../api/types.ts';
import { toTimestamp } from '../api/types.ts';
import type { ContainerInput, ContainerRecord } from '../metadata/containers.ts';
import { maskPaths } from '../metadata/masks.ts';
import { failedPrecondition, invalidArgument } from '../errors.ts';
import { parseFilters } from '../filters.ts';
import { serverStream, unary } from '../rpc.ts';
import type { ServiceDeps } from './deps.ts';

export function containerMessage(r: ContainerRecord): Container {
  return {
    id: r.id,
    labels: r.labels,
    image: r.image,
    runtime: { name: r.runtime.name, options: r.runtime.options },
    spec: r.spec,
    snapshotKey: r.snapshotKey,
    snapshotter: r.snapshotter,
    createdAt: toTimestamp(r.createdAt),
    updatedAt: toTimestamp(r.updatedAt),
    extensions: r.extensions,
    sandbox: r.sandbox,
  };
}

function containerInput(c: Container | null | undefined): ContainerInput {
  if (!c) throw invalidArgument('container must be set');
  const extensions: ContainerInput['extensions'] = {};
  for (const [k, v] of Object.entries(c.extensions ?? {})) {
    // An extension whose type this daemon knows arrives expanded; keep extensions opaque instead.
    if (!('typeUrl' in v)) throw invalidArgument(`container ${c.id}: extension ${JSON.stringify(k)} must be an opaque Any`);
    extensions[k] = { typeUrl: v.typeUrl, value: Buffer.from(v.value ?? []) };
  }
  return {
    id: c.id,
    labels: c.labels ?? {},
    image: c.image ?? '',
    runtime: { name: c.runtime?.name ?? '', options: Buffer.from(c.runtime?.options ?? []) },
    spec: Buffer.from(c.spec ?? []),
    snapshotter: c.snapshotter ?? '',
    snapshotKey: c.snapshotKey ?? '',
    sandbox: c.sandbox ?? '',
    extensions,
  };
}

export function containersService(d: ServiceDeps): UntypedServiceImplementation {
  const store = d.metadata.containers;
  const m = (name: string) => `containers.${name}`;
  return {
    Get: unary(d.rpc, m('Get'), (req: { id: string }, call) => ({ container: containerMessage(store.get(call.namespace(), req.id)) })),
    List: unary(d.rpc, m('List'), (req: { filters: string[] }, call) => {
      const ns = call.namespace();
      return { containers: store.list(ns, parseFilters(req.filters)).map(containerMessage) };
    }),
    ListStream: serverStream(d.rpc, m('ListStream'), (req: { filters: string[] }, call, write) => {
      const ns = call.namespace();
      for (const c of store.list(ns, parseFilters(req.filters))) write({ container: containerMessage(c) });
    }),
    Create: unary(d.rpc, m('Create'), (req: { container: Container | null }, call) => {
      const ns = call.namespace();
      const r = store.create(ns, containerInput(req.container));
      d.bus.publish(ns, '/containers/create', 'ContainerCreate', { id: r.id, image: r.image, runtime: { name: r.runtime.name } });
      return { container: containerMessage(r) };
    }),
    Update: unary(d.rpc, m('Update'), (req: { container: Container | null; updateMask: FieldMask | null }, call) => {
      const ns = call.namespace();
      const input = containerInput(req.container);
      const r = store.update(ns, input, maskPaths(req.updateMask));
      d.bus.publish(ns, '/containers/update', 'ContainerUpdate', { id: r.id, image: r.image, labels: r.labels, snapshotKey: r.snapshotKey });
      return { container: containerMessage(r) };
    }),
    Delete: unary(d.rpc, m('Delete'), (req: { id: string }, call) => {
      const ns = call.namespace();
      if (d.tasks?.has(ns, req.id)) throw failedPrecondition(`container ${JSON.stringify(req.id)} has a task: delete the task first`);
      store.delete(ns, req.id);
      d.bus.publish(ns, '/containers/delete', 'ContainerDelete', { id: req.id });
      return {};
    }),
  };
}
