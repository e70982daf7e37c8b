// Container filesystem and resources: archive (docker cp), export, changes,
// commit, stats (one-shot and stream), update.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { posix } from 'node:path';
import { ApiError, badRequest, conflict, notImplemented } from '../api/errors.ts';
import type { RequestContext } from '../api/context.ts';
import type { Router } from '../api/router.ts';
import { extractInto, statPath, tarPath } from '../archive/copy.ts';
import { commitContainer } from '../containers/commit.ts';
import type { ContainerManager } from '../containers/manager.ts';
import { resources } from '../containers/spec.ts';
import type { ContainerRecord, HostConfig } from '../containers/types.ts';
import type { EventBus } from '../events/bus.ts';
import { exportTree, exportSnapshot } from '../../images/archive/export.ts';

function statHeader(ctx: RequestContext, stat: object): void {
  ctx.res.setHeader('X-Docker-Container-Path-Stat', Buffer.from(JSON.stringify(stat)).toString('base64'));
}

/** Docker's `changes`: overlay upper dir entries; 0 modified, 1 added, 2 deleted. */
function changes(upper: string, lowers: string[]): { Path: string; Kind: number }[] {
  const out: { Path: string; Kind: number }[] = [];
  let budget = 1_000_000;
  const walk = (rel: string): void => {
    for (const name of readdirSync(posix.join(upper, rel)).sort()) {
      if (--budget < 0) throw badRequest('too many changes to list');
      const p = posix.join(rel, name);
      const st = lstatSync(posix.join(upper, p));
      if (st.isCharacterDevice() && st.rdev === 0) { out.push({ Path: `/${p}`, Kind: 2 }); continue; }
      const inLower = lowers.some((l) => { try { lstatSync(posix.join(l, p)); return true; } catch { return false; } });
      out.push({ Path: `/${p}`, Kind: inLower ? 0 : 1 });
      if (st.isDirectory()) walk(p);
    }
  };
  walk('');
  // the runtime's mount points for the files drayd bind-mounts are not changes (as in dockerd)
  const hidden = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);
  const kept = out.filter((c) => !(hidden.has(c.Path) && c.Kind === 1));
  return kept.filter((c) => c.Kind !== 0 || !lstatSync(posix.join(upper, c.Path)).isDirectory() || kept.some((o) => o.Path.startsWith(`${c.Path}/`)) || !out.some((o) => o.Path.startsWith(`${c.Path}/`)));
}

function systemCpuUsage(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '));
  const ticks = (line ?? '').trim().split(/\s+/).slice(1, 8).reduce((a, b) => a + Number(b), 0);
  return ticks * (1e9 / 100); // USER_HZ is 100 on Linux
}

export function containerFsRoutes(router: Router, d: { containers: ContainerManager; events: EventBus }): void {
  const { containers } = d;

  const archiveStat = async (ctx: RequestContext, rec: ContainerRecord, path: string): Promise<void> => {
    await containers.withRootfs(rec, async (root) => {
      const { handle, stat } = statPath(root, path, rec.Name.slice(1));
      handle.close();
      statHeader(ctx, stat);
    });
  };

  router.add('HEAD', '/containers/{id}/archive', async (ctx) => {
    const rec = containers.store.resolve(ctx.param('id'));
    const path = ctx.query.get('path');
    if (!path) throw badRequest('path is required');
    await archiveStat(ctx, rec, path);
    ctx.res.writeHead(200);
    ctx.res.end();
  });

  router.add('GET', '/containers/{id}/archive', async (ctx) => {
    const rec = containers.store.resolve(ctx.param('id'));
    const path = ctx.query.get('path');
    if (!path) throw badRequest('path is required');
    await containers.withRootfs(rec, async (root) => {
      const { handle, stat } = statPath(root, path, rec.Name.slice(1));
      try {
        statHeader(ctx, stat);
        ctx.startStream(200, 'application/x-tar');
        // `cp c:/dir/.` copies the directory's content: Docker names entries after the last component
        await tarPath(handle, stat.name === '/' ? '.' : stat.name, ctx.res);
      } finally {
        handle.close();
      }
    });
    ctx.res.end();
  });

  router.add('PUT', '/containers/{id}/archive', async (ctx) => {
    const rec = containers.store.resolve(ctx.param('id'));
    const path = ctx.query.get('path');
    if (!path) throw badRequest('path is required');
    if (rec.HostConfig.ReadonlyRootfs) throw new ApiError(403, 'container rootfs is marked read-only');
    await containers.withRootfs(rec, (root) => extractInto(root, path, ctx.req, ctx.flag('noOverwriteDirNonDir')));
    ctx.send(200, {});
  });

  router.add('GET', '/containers/{id}/export', async (ctx) => {
    const rec = containers.store.resolve(ctx.param('id'));
    const sink = (c: Buffer): Promise<void> => new Promise((resolve, reject) => ctx.res.write(c, (e) => (e ? reject(e) : resolve())));
    ctx.startStream(200, 'application/x-tar');
    const live = containers.rootfsOf(rec.Id);
    if (live) await exportTree(live, sink);
    else await exportSnapshot(containers.images.snapshotter, rec.Dray.snapshot, sink);
    ctx.res.end();
    d.events.publish('container', 'export', rec.Id, { name: rec.Name.slice(1), image: rec.Config.Image ?? '' });
  });

  router.add('GET', '/containers/{id}/changes', (ctx) => {
    const rec = containers.store.resolve(ctx.param('id'));
    const t = containers.images.snapshotter.applyTarget(rec.Dray.snapshot);
    if (t.mode !== 'overlay') throw notImplemented('changes need the overlayfs snapshotter');
    const list = changes(t.dir, t.lowers);
    ctx.send(200, list.length ? list : null);
  });

  router.add('POST', '/commit', async (ctx) => {
    const rec = containers.store.resolve(ctx.query.get('container') ?? '');
    const body = (await ctx.json()) as Record<string, unknown> | undefined;
    const pause = ctx.flag('pause', true) && rec.State.Running && !rec.State.Paused;
    if (pause) await containers.pause(rec.Id).catch(() => undefined);
    try {
      const id = await commitContainer(containers.images, rec, {
        ...(ctx.query.get('repo') ? { repo: ctx.query.get('repo')! } : {}),
        ...(ctx.query.get('tag') ? { tag: ctx.query.get('tag')! } : {}),
        ...(ctx.query.get('author') ? { author: ctx.query.get('author')! } : {}),
        ...(ctx.query.get('comment') ? { comment: ctx.query.get('comment')! } : {}),
        changes: ctx.query.getAll('changes'),
        ...(body && typeof body === 'object' ? { config: body } : {}),
      });
      d.events.publish('container', 'commit', rec.Id, { name: rec.Name.slice(1), image: rec.Config.Image ?? '' });
      ctx.send(201, { Id: id });
    } finally {
      if (pause) await containers.unpause(rec.Id).catch(() => undefined);
    }
  });

  const sample = async (rec: ContainerRecord): Promise<Record<string, unknown> | undefined> => {
    const s = await containers.tasks.stats(rec.Id).catch(() => undefined);
    if (!s) return undefined;
    return {
      read: new Date().toISOString(), ...s,
      cpu_stats: { ...s.cpu_stats, system_cpu_usage: systemCpuUsage(), online_cpus: os.availableParallelism() },
      num_procs: 0, storage_stats: {},
      name: rec.Name, id: rec.Id,
    };
  };
  const empty = (rec: ContainerRecord): Record<string, unknown> => ({
    read: '0001-01-01T00:00:00Z', preread: '0001-01-01T00:00:00Z', pids_stats: {}, blkio_stats: {}, num_procs: 0, storage_stats: {},
    cpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    precpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    memory_stats: {}, name: rec.Name, id: rec.Id,
  });

  router.add('GET', '/containers/{id}/stats', async (ctx) => {
    const rec = containers.store.resolve(ctx.param('id'));
    const stream = ctx.flag('stream', true);
    const oneShot = ctx.flag('one-shot');
    ctx.startStream(200, 'application/json');
    let closed = false;
    ctx.res.on('close', () => { closed = true; });
    const running = (): boolean => containers.store.get(rec.Id)?.State.Running === true && containers.live(rec.Id) !== undefined;
    let prev: Record<string, unknown> | undefined;
    const next = async (): Promise<Record<string, unknown>> => {
      const cur = running() ? await sample(rec) : undefined;
      if (!cur) return empty(rec);
      const out = { ...cur, preread: prev?.['read'] ?? '0001-01-01T00:00:00Z', precpu_stats: prev?.['cpu_stats'] ?? { cpu_usage: { total_usage: 0 }, throttling_data: {} } };
      prev = cur;
      return out;
    };
    if (!stream) {
      if (!oneShot && running()) { await next(); await new Promise((r) => setTimeout(r, 1000)); }
      ctx.res.end(JSON.stringify(await next()) + '\n');
      return;
    }
    for (let i = 0; !closed && i < 86_400 * 30; i++) {
      ctx.res.write(JSON.stringify(await next()) + '\n');
      if (!running()) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    ctx.res.end();
  });

  router.add('POST', '/containers/{id}/update', async (ctx) => {
    const rec = containers.store.resolve(ctx.param('id'));
    const body = (await ctx.json()) as HostConfig | undefined;
    if (!body || typeof body !== 'object') throw badRequest('update config must be a JSON object');
    const keys = ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems', 'PidsLimit', 'BlkioWeight'] as const;
    const hc: HostConfig = { ...rec.HostConfig };
    for (const k of keys) if (body[k] !== undefined && body[k] !== null && body[k] !== 0 && body[k] !== '') (hc as Record<string, unknown>)[k] = body[k];
    if (body.RestartPolicy?.Name) {
      if (hc.AutoRemove && body.RestartPolicy.Name !== 'no') throw badRequest('Restart policy cannot be updated because AutoRemove is enabled for the container');
      hc.RestartPolicy = body.RestartPolicy;
    }
    if (hc.Memory && hc.MemorySwap && hc.MemorySwap > 0 && hc.MemorySwap < hc.Memory) throw badRequest('Minimum memoryswap limit should be larger than memory limit, see usage');
    if (rec.State.Running && containers.live(rec.Id)) {
      const r = resources(hc, hc.Privileged === true);
      delete r['devices'];
      try {
        await containers.tasks.update(rec.Id, r);
      } catch (err) {
        throw conflict(`Cannot update container ${rec.Id}: ${(err as Error).message}`);
      }
    }
    rec.HostConfig = hc;
    containers.store.save(rec);
    d.events.publish('container', 'update', rec.Id, { name: rec.Name.slice(1), image: rec.Config.Image ?? '' });
    ctx.send(200, { Warnings: [] });
  });
}
