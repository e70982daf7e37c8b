// /info, /events, /system/df, /auth: the daemon-wide views.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { createHash } from 'node:crypto';
import { DRAY_VERSION } from '../../common/version.ts';
import { ApiError, badRequest } from '../api/errors.ts';
import { RegistryClient } from '../../images/registry/client.ts';
import { parseNormalized } from '../../images/reference/reference.ts';
import type { Router } from '../api/router.ts';
import type { ContainerManager } from '../containers/manager.ts';
import { parseFilters } from '../containers/view.ts';
import type { EngineEvent, EventBus } from '../events/bus.ts';
import type { ImageService } from '../images/service.ts';
import { parseTimestamp } from '../logs/jsonfile.ts';
import type { TaskService } from '../tasks/tasks.ts';
import type { VolumeStore } from '../../volumes/store.ts';
import { goArch } from './system.ts';

export interface InfoDeps {
  containers: ContainerManager;
  images: ImageService;
  tasks: TaskService;
  events: EventBus;
  volumes: VolumeStore;
  dataRoot: string;
  insecureRegistries: string[];
}

function cgroupVersion(): '1' | '2' {
  return existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1';
}

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) return m[1]!;
  } catch { /* none */ }
  return 'Linux';
}

export function infoRoutes(router: Router, d: InfoDeps): void {
  router.add('GET', '/info', async (ctx) => {
    const all = d.containers.store.all();
    const running = all.filter((r) => r.State.Running && !r.State.Paused).length;
    const paused = all.filter((r) => r.State.Paused).length;
    const images = await d.images.list();
    const id = createHash('sha256').update(`${os.hostname()}|${d.dataRoot}`).digest('hex').slice(0, 36);
    ctx.send(200, {
      ID: id,
      Containers: all.length,
      ContainersRunning: running,
      ContainersPaused: paused,
      ContainersStopped: all.length - running - paused,
      Images: images.length,
      Driver: d.images.snapshotter.name,
      DriverStatus: [],
      Plugins: { Volume: ['local'], Network: ['host', 'null'], Authorization: null, Log: ['json-file'] },
      MemoryLimit: true,
      SwapLimit: true,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      IPv4Forwarding: true,
      BridgeNfIptables: false,
      BridgeNfIp6tables: false,
      Debug: false,
      NFd: 0,
      OomKillDisable: cgroupVersion() === '1',
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: cgroupVersion(),
      NEventsListener: 0,
      KernelVersion: os.release(),
      OperatingSystem: osName(),
      OSVersion: '',
      OSType: 'linux',
      Architecture: os.machine(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: { AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [], InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: {}, Mirrors: [] },
      NCPU: os.availableParallelism(),
      MemTotal: os.totalmem(),
      GenericResources: null,
      DockerRootDir: d.dataRoot,
      HttpProxy: process.env['HTTP_PROXY'] ?? '',
      HttpsProxy: process.env['HTTPS_PROXY'] ?? '',
      NoProxy: process.env['NO_PROXY'] ?? '',
      Name: os.hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: DRAY_VERSION,
      Runtimes: Object.fromEntries(Object.entries(d.tasks.runtimes).map(([name, path]) => [name, { path }])),
      DefaultRuntime: d.tasks.runtime,
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: 'docker-init',
      ContainerdCommit: { ID: '', Expected: '' },
      RuncCommit: { ID: '', Expected: '' },
      InitCommit: { ID: '', Expected: '' },
      SecurityOptions: ['name=seccomp,profile=builtin', ...(cgroupVersion() === '2' ? ['name=cgroupns'] : [])],
      Warnings: [],
      GoArch: goArch(process.arch),
    });
  });

  router.add('GET', '/events', async (ctx) => {
    const filters = parseFilters(ctx.query.get('filters'));
    for (const k of filters.keys()) if (!['type', 'event', 'container', 'image', 'label', 'network', 'volume', 'daemon', 'plugin', 'node', 'service', 'secret', 'config', 'scope'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    const since = parseTimestamp(ctx.query.get('since'));
    const until = parseTimestamp(ctx.query.get('until'));
    const match = (e: EngineEvent): boolean => {
      const t = e.timeNano / 1e9;
      if (since && t < since) return false;
      if (until && t > until) return false;
      const f = (k: string, vals: string[]): boolean => { const w = filters.get(k); return !w || w.some((v) => vals.includes(v)); };
      const attrs = e.Actor.Attributes;
      if (!f('type', [e.Type])) return false;
      if (!f('event', [e.Action, e.Action.split(':')[0]!])) return false;
      if (filters.has('container') && (e.Type !== 'container' || !f('container', [e.Actor.ID, e.Actor.ID.slice(0, 12), attrs['name'] ?? '']))) return false;
      if (filters.has('image') && !f('image', [attrs['image'] ?? '', e.Actor.ID, attrs['name'] ?? ''])) return false;
      const labels = filters.get('label');
      if (labels && !labels.every((l) => { const i = l.indexOf('='); return i === -1 ? l in attrs : attrs[l.slice(0, i)] === l.slice(i + 1); })) return false;
      return true;
    };
    ctx.startStream(200, 'application/json');
    const write = (e: EngineEvent): void => { ctx.res.write(JSON.stringify(e) + '\n'); };
    for (const e of d.events.history()) if (match(e)) write(e);
    if (until && until <= Date.now() / 1000) { ctx.res.end(); return; }
    await new Promise<void>((resolve) => {
      const unsub = d.events.subscribe((e) => { if (match(e)) write(e); });
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => { unsub(); clearTimeout(timer); resolve(); };
      if (until) timer = setTimeout(done, until * 1000 - Date.now());
      ctx.res.on('close', done);
    });
    ctx.res.end();
  });

  router.add('POST', '/auth', async (ctx) => {
    const body = (await ctx.json()) as { username?: string; password?: string; serveraddress?: string; identitytoken?: string } | undefined;
    if (!body || typeof body !== 'object') throw badRequest('auth config must be a JSON object');
    let host = (body.serveraddress || 'docker.io').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    if (host === 'index.docker.io' || host === 'registry-1.docker.io') host = 'docker.io';
    const creds = { ...(body.username ? { username: body.username } : {}), ...(body.password ? { password: body.password } : {}), ...(body.identitytoken ? { identityToken: body.identitytoken } : {}) };
    const client = new RegistryClient({ insecureRegistries: d.insecureRegistries, credentials: () => creds });
    try {
      // GET /v2/ with the credentials: 200 once the registry (or its token service) accepted them
      const repo = client.repositories(parseNormalized(`${host}/library/x`), 'pull').at(-1)!;
      const res = await repo.transport.request({ method: 'GET', path: '/v2/', scopes: [] });
      res.body.resume();
      if (res.status === 401 || res.status === 403) throw new ApiError(401, `login attempt to https://${host}/v2/ failed with status: ${res.status} ${res.status === 401 ? 'Unauthorized' : 'Forbidden'}`);
      if (res.status >= 400) throw new ApiError(500, `login attempt to https://${host}/v2/ failed with status: ${res.status}`);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const e = err as { status?: number; message: string };
      if (e.status === 401 || /unauthorized|denied/i.test(e.message)) throw new ApiError(401, `Get "https://${host}/v2/": unauthorized: incorrect username or password`);
      throw new ApiError(500, e.message);
    } finally {
      client.close();
    }
    ctx.send(200, { Status: 'Login Succeeded', IdentityToken: '' });
  });

  router.add('GET', '/system/df', async (ctx) => {
    const images = await d.images.list();
    const imgRows = [];
    let layers = 0;
    for (const img of images) {
      const size = await d.images.size(img);
      layers += size;
      const count = d.containers.store.all().filter((r) => r.Image === img.id).length;
      imgRows.push({ Id: img.id, ParentId: '', RepoTags: d.images.repoTags(img), RepoDigests: d.images.repoDigests(img), Created: Math.floor(Date.parse(img.config.created ?? '1970-01-01T00:00:00Z') / 1000), Size: size, SharedSize: 0, VirtualSize: size, Labels: img.config.config?.Labels ?? null, Containers: count });
    }
    const cRows = [];
    for (const rec of d.containers.store.all()) {
      let rw = 0;
      try { rw = (await d.images.snapshotter.usage(rec.Dray.snapshot)).size; } catch { /* none */ }
      cRows.push({ Id: rec.Id, Names: [rec.Name], Image: rec.Config.Image, ImageID: rec.Image, Command: [rec.Path, ...rec.Args].join(' '), Created: Math.floor(Date.parse(rec.Created) / 1000), Ports: [], SizeRw: rw, SizeRootFs: rw, Labels: rec.Config.Labels ?? {}, State: rec.State.Status, Status: '', HostConfig: { NetworkMode: rec.HostConfig.NetworkMode }, NetworkSettings: { Networks: {} }, Mounts: [] });
    }
    ctx.send(200, { LayersSize: layers, Images: imgRows, Containers: cRows, Volumes: await d.volumes.usage(), BuildCache: [] });
  });
}
