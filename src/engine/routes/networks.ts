// /networks/...: the networking library's NetworkManager behind Docker's
// endpoints; connect/disconnect of running containers go through the engine
// (it knows their network namespaces).
import { badRequest, forbidden } from '../api/errors.ts';
import type { Router } from '../api/router.ts';
import type { ContainerManager } from '../containers/manager.ts';
import { parseFilters } from '../containers/view.ts';
import type { EventBus } from '../events/bus.ts';
import type { NetworkManager } from '../../network/manager.ts';
import type { NetworkCreateRequest } from '../../network/types.ts';

function filtersObject(raw: string | null): Record<string, string[]> {
  return Object.fromEntries(parseFilters(raw));
}

export function networkRoutes(router: Router, d: { network: NetworkManager; containers: ContainerManager; events: EventBus }): void {
  const { network } = d;
  router.add('GET', '/networks', (ctx) => ctx.send(200, network.list(filtersObject(ctx.query.get('filters')))));
  router.add('GET', '/networks/{id}', (ctx) => ctx.send(200, network.inspect(ctx.param('id'))));
  router.add('POST', '/networks/create', async (ctx) => {
    const body = await ctx.json();
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('invalid JSON: the body must be an object');
    const r = network.createNetwork(body as NetworkCreateRequest);
    d.events.publish('network', 'create', r.Id, { name: (body as NetworkCreateRequest).Name, type: (body as NetworkCreateRequest).Driver || 'bridge' });
    ctx.send(201, r);
  });
  router.add('DELETE', '/networks/{id}', (ctx) => {
    const n = network.inspect(ctx.param('id'));
    network.removeNetwork(n.Id);
    d.events.publish('network', 'destroy', n.Id, { name: n.Name, type: n.Driver });
    ctx.noContent();
  });
  router.add('POST', '/networks/prune', (ctx) => ctx.send(200, network.prune(filtersObject(ctx.query.get('filters')))));
  router.add('POST', '/networks/{id}/connect', async (ctx) => {
    const body = (await ctx.json()) as { Container?: string; EndpointConfig?: { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null } } | undefined;
    if (!body?.Container) throw badRequest('container is required');
    const n = network.inspect(ctx.param('id'));
    const rec = d.containers.store.resolve(body.Container);
    if (rec.HostConfig.NetworkMode?.startsWith('container:')) throw badRequest('container sharing network namespace with another container or host cannot be connected to any other network');
    const live = d.containers.live(rec.Id);
    const ec = body.EndpointConfig ?? {};
    if (!live) {
      // a stopped container: recorded, connected at its next start (compose connects created containers)
      const networks = { ...(rec.NetworkSettings['Networks'] as Record<string, unknown> | undefined) };
      if (networks[n.Name]) throw forbidden(`endpoint with name ${rec.Name.replace(/^\//, '')} already exists in network ${n.Name}`);
      rec.Dray.endpointsConfig = { ...rec.Dray.endpointsConfig, [n.Name]: ec };
      networks[n.Name] = {
        IPAMConfig: ec.IPAMConfig ?? null, Links: null, Aliases: ec.Aliases?.length ? ec.Aliases : null, NetworkID: n.Id, EndpointID: '',
        Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null,
      };
      rec.NetworkSettings = { ...rec.NetworkSettings, Networks: networks };
    } else {
      await network.connect(n.Id, { id: rec.Id, name: rec.Name, netns: `/proc/${live.pid}/ns/net` }, {
        ...(ec.Aliases?.length ? { aliases: ec.Aliases } : {}),
        ...(ec.IPAMConfig?.IPv4Address ? { ipv4Address: ec.IPAMConfig.IPv4Address } : {}),
      });
      // kept for the next start
      rec.Dray.endpointsConfig = { ...rec.Dray.endpointsConfig, [n.Name]: ec };
      rec.NetworkSettings = { ...rec.NetworkSettings, Networks: network.containerNetworks(rec.Id) };
    }
    d.containers.store.save(rec);
    d.events.publish('network', 'connect', n.Id, { container: rec.Id, name: n.Name, type: n.Driver });
    ctx.send(200, {});
  });
  router.add('POST', '/networks/{id}/disconnect', async (ctx) => {
    const body = (await ctx.json()) as { Container?: string; Force?: boolean } | undefined;
    if (!body?.Container) throw badRequest('container is required');
    const n = network.inspect(ctx.param('id'));
    const rec = d.containers.store.resolve(body.Container);
    const recorded = { ...rec.Dray.endpointsConfig };
    delete recorded[n.Name];
    if (d.containers.live(rec.Id)) {
      network.disconnect(n.Id, rec.Id);
      rec.NetworkSettings = { ...rec.NetworkSettings, Networks: network.containerNetworks(rec.Id) };
    } else {
      const networks = { ...(rec.NetworkSettings['Networks'] as Record<string, unknown> | undefined) };
      if (!networks[n.Name] && !rec.Dray.endpointsConfig?.[n.Name]) throw forbidden(`container ${rec.Id} is not connected to network ${n.Name}`);
      delete networks[n.Name];
      rec.NetworkSettings = { ...rec.NetworkSettings, Networks: networks };
    }
    rec.Dray.endpointsConfig = recorded;
    d.containers.store.save(rec);
    d.events.publish('network', 'disconnect', n.Id, { container: rec.Id, name: n.Name, type: n.Driver });
    ctx.send(200, {});
  });
}
