// Container lifecycle: create, start, stop, kill, restart, wait, remove,
// pause, rename; exits (restart policies with Docker's back-off, --rm);
// live restore of running containers after drayd restarts.
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { ApiError, badRequest, conflict, serverError } from '../api/errors.ts';
import type { ShimExit } from '../../shim/client.ts';
import { mountAll, unmount, withMount } from '../../images/snapshots/mount.ts';
import type { EventBus } from '../events/bus.ts';
import type { ImageService } from '../images/service.ts';
import type { TaskHandle, TaskService } from '../tasks/tasks.ts';
import type { VolumeStore } from '../../volumes/store.ts';
import type { NetworkManager } from '../../network/manager.ts';
import { portSpecs, portsJson } from '../../network/ports.ts';
import { checkInRootfs, copyUp, ociMounts, planMounts } from '../../volumes/mounts.ts';
import { buildRecord, parseCreateBody } from './create.ts';
import { writeContainerFiles } from './files.ts';
import { generateName, normalizeName } from './names.ts';
import { buildSpec, joinedContainer, networkMode, processSpec } from './spec.ts';
import { HealthMonitor } from './health.ts';
import { ensureWorkingDir } from './workdir.ts';
import { randomBytes } from 'node:crypto';
import { ContainerStore } from './store.ts';
import type { ContainerRecord } from './types.ts';

export type OutputKind = 'stdout' | 'stderr';

/** Live output of a container, fanned out to every attached client. */
export class OutputHub extends EventEmitter<{ stdout: [Buffer]; stderr: [Buffer]; end: []; started: [] }> {
  constructor() {
    super();
    this.setMaxListeners(0);
  }
}

interface Live {
  client: TaskHandle;
  pid: number;
  /** resolves once the exit is fully handled (state saved, task deleted) */
  exited: Promise<void>;
  markExited: () => void;
}

export interface WaitResult { StatusCode: number; Error?: { Message: string } | null }

export interface ManagerOptions {
  dataRoot: string;
  execRoot: string;
  images: ImageService;
  tasks: TaskService;
  events: EventBus;
  volumes: VolumeStore;
  /** the networking library; without it, bridge containers get loopback only and -p is refused */
  network?: NetworkManager;
  initBinary?: string;
  /** parent of every container's cgroup (dockerd's --cgroup-parent), default /dray */
  cgroupParent?: string;
  log: { debug(m: string): void; error(m: string): void };
}

function nowIso(): string {
  return new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export function parseSignal(s: string | undefined, dflt: string): number {
  const v = (s === undefined || s === '' ? dflt : s).toUpperCase();
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n < 1 || n > 64) throw badRequest(`Invalid signal: ${s}`);
    return n;
  }
  const name = v.startsWith('SIG') ? v : `SIG${v}`;
  const n = (constants.signals as Record<string, number>)[name];
  if (n === undefined) throw badRequest(`Invalid signal: ${s}`);
  return n;
}

export class ContainerManager {
  readonly store: ContainerStore;
  readonly #o: ManagerOptions;
  readonly #live = new Map<string, Live>();
  readonly #hubs = new Map<string, OutputHub>();
  readonly #exitWaiters = new Map<string, Set<(code: number) => void>>();
  readonly #removeWaiters = new Map<string, Set<(code: number) => void>>();
  readonly #restartTimers = new Map<string, NodeJS.Timeout>();
  readonly #health = new HealthMonitor();
  readonly #bundles: string;

  constructor(o: ManagerOptions) {
    this.#o = o;
    this.store = new ContainerStore(join(o.dataRoot, 'containers'));
    this.#bundles = join(o.execRoot, 'bundles');
    mkdirSync(this.#bundles, { recursive: true, mode: 0o711 });
  }

  hub(id: string): OutputHub {
    let h = this.#hubs.get(id);
    if (!h) { h = new OutputHub(); this.#hubs.set(id, h); }
    return h;
  }

  live(id: string): { client: TaskHandle; pid: number } | undefined {
    return this.#live.get(id);
  }

  #event(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.#o.events.publish('container', action, rec.Id, { ...(rec.Config.Labels ?? {}), image: rec.Config.Image ?? '', name: rec.Name.slice(1), ...extra });
  }

  // ---- create ----

  async create(body: unknown, name: string | null, apiVersion?: string): Promise<{ rec: ContainerRecord; warnings: string[] }> {
    const req = parseCreateBody(body);
    const ref = req.config.Image;
    if (!ref) throw badRequest('Config cannot be empty in order to create a container');
    const image = await this.#o.images.resolve(ref);
    const fullName = name ? normalizeName(name) : generateName((n) => this.store.nameTaken(n));
    const runtime = req.hostConfig.Runtime || this.#o.tasks.runtime;
    if (!Object.hasOwn(this.#o.tasks.runtimes, runtime)) throw badRequest(`Unknown runtime specified ${runtime}`);
    const rec = buildRecord(req, image, ref, fullName, this.store.root, this.#o.network !== undefined);
    rec.HostConfig.Runtime = runtime;
    // as dockerd: `container:<name|short id>` is recorded with the full id when that container exists
    const joined = joinedContainer(rec.HostConfig);
    const other = joined === null ? undefined : this.store.find(joined);
    if (other) rec.HostConfig.NetworkMode = `container:${other.Id}`;
    const ec = (body as { NetworkingConfig?: { EndpointsConfig?: ContainerRecord['Dray']['endpointsConfig'] } }).NetworkingConfig?.EndpointsConfig;
    // API 1.44+ clients send --mac-address in the endpoint settings
    if (joined !== null && ec && typeof ec === 'object' && Object.values(ec).some((e) => e?.MacAddress)) throw badRequest('conflicting options: mac-address and the network mode');
    // a missing network fails the start, not the create, as in dockerd (a 404 from create makes the CLI pull)
    this.store.reserveName(fullName, rec.Id);
    if (ec && typeof ec === 'object' && joined === null) rec.Dray.endpointsConfig = ec;
    let warnings: string[] = [];
    try {
      const plan = await planMounts({
        Binds: rec.HostConfig.Binds ?? null, Mounts: (rec.HostConfig['Mounts'] as never) ?? null, Tmpfs: rec.HostConfig.Tmpfs ?? null,
        VolumesFrom: (rec.HostConfig['VolumesFrom'] as string[] | null | undefined) ?? null, ImageVolumes: rec.Config.Volumes ?? null,
      }, {
        store: this.#o.volumes, containerId: rec.Id, ...(apiVersion ? { apiVersion } : {}),
        lookupContainer: (ref) => { const c = this.store.find(ref); return c ? { id: c.Id, mountPoints: c.Dray.mountPoints ?? [] } : undefined; },
      });
      rec.Dray.mountPoints = plan.mountPoints;
      warnings = plan.warnings;
    } catch (err) {
      this.store.releaseName(fullName, rec.Id);
      this.#o.volumes.releaseContainer(rec.Id, true);
      throw err;
    }
    try {
      await this.#o.images.unpack(image);
      await this.#o.images.snapshotter.prepare(rec.Dray.snapshot, image.chainId || undefined, { labels: { 'dray.container': rec.Id } });
      mkdirSync(this.store.dir(rec.Id), { recursive: true, mode: 0o710 });
      if (joined === null) writeContainerFiles(rec, rec.HostConfig.NetworkMode === 'host');
      this.store.save(rec);
    } catch (err) {
      this.store.releaseName(fullName, rec.Id);
      this.#o.volumes.releaseContainer(rec.Id, true);
      await this.#o.images.snapshotter.remove(rec.Dray.snapshot).catch(() => undefined);
      rmSync(this.store.dir(rec.Id), { recursive: true, force: true });
      throw err;
    }
    this.#event(rec, 'create');
    return { rec, warnings };
  }

  // ---- start ----

  #rootfs(id: string): string {
    return join(this.#bundles, id, 'rootfs');
  }

  #mountRootfs(rec: ContainerRecord): string {
    const rootfs = this.#rootfs(rec.Id);
    mkdirSync(rootfs, { recursive: true });
    unmount(rootfs); // a stale mount from a crash
    mountAll(this.#o.images.snapshotter.mounts(rec.Dray.snapshot), rootfs);
    return rootfs;
  }

  #unmountRootfs(id: string): void {
    try {
      unmount(this.#rootfs(id));
      rmSync(join(this.#bundles, id), { recursive: true, force: true });
    } catch (err) {
      this.#o.log.error(`unmount ${id}: ${(err as Error).message}`);
    }
  }

  async start(ref: string, fromRestartPolicy = false): Promise<'started' | 'already'> {
    const rec = this.store.resolve(ref);
    if (rec.State.Paused) throw conflict('cannot start a paused container, try unpause instead');
    if (rec.State.Running || this.#live.has(rec.Id)) return 'already';
    if (rec.State.Status === 'removing') throw conflict(`container is marked for removal and cannot be started`);
    if (rec.State.Dead) throw conflict('cannot start a dead container');
    const timer = this.#restartTimers.get(rec.Id);
    if (timer && !fromRestartPolicy) { clearTimeout(timer); this.#restartTimers.delete(rec.Id); }
    if (!this.#o.network) networkMode(rec.HostConfig);
    rec.Dray.manuallyStopped = false;
    let client: TaskHandle | undefined;
    try {
      const netnsPath = this.#joinNetwork(rec);
      const rootfs = this.#mountRootfs(rec);
      ensureWorkingDir(rootfs, rec.Config.WorkingDir);
      const mps = rec.Dray.mountPoints ?? [];
      if (!rec.Dray.startedBefore) {
        // the image's content goes into empty volumes once, as dockerd does at create
        checkInRootfs(mps.map((m) => m.Destination), rootfs);
        await copyUp(mps, rootfs, this.#o.volumes);
      }
      const um = ociMounts(mps, rec.HostConfig.Tmpfs, { store: this.#o.volumes, containerId: rec.Id });
      const spec = buildSpec({
        rec, rootfs, cgroupsPath: this.cgroupPath(rec.Id), userMounts: um.mounts,
        ...(um.rootfsPropagation ? { rootfsPropagation: um.rootfsPropagation } : {}),
        ...(this.#o.initBinary ? { initBinary: this.#o.initBinary } : {}),
        ...(netnsPath ? { netnsPath } : {}),
      });
      const logCfg = rec.HostConfig.LogConfig?.Config ?? {};
      const created = await this.#o.tasks.create({
        id: rec.Id, ...(rec.HostConfig.Runtime ? { runtime: rec.HostConfig.Runtime } : {}), spec, terminal: rec.Config.Tty === true, stdin: rec.Config.OpenStdin === true, logPath: rec.LogPath,
        ...(logCfg['max-size'] ? { logMaxSize: parseSize(logCfg['max-size']) } : {}),
        ...(logCfg['max-file'] ? { logMaxFile: Number(logCfg['max-file']) } : {}),
      });
      client = created.client;
      this.#wire(rec, client, created.pid);
      await this.#connectNetwork(rec, created.pid);
      await client.start();
    } catch (err) {
      this.#live.delete(rec.Id);
      this.#disconnectNetwork(rec);
      client?.close();
      await this.#o.tasks.cleanup(rec.Id).catch(() => undefined);
      this.#unmountRootfs(rec.Id);
      const msg = (err as Error).message;
      rec.State = { ...rec.State, Status: rec.Dray.startedBefore ? 'exited' : 'created', Running: false, Pid: 0, Error: msg, ExitCode: exitCodeFor(msg) };
      this.store.save(rec);
      this.hub(rec.Id).emit('end');
      // as dockerd: a failed start of an --rm container removes it (the client waits for that)
      if (rec.HostConfig.AutoRemove) void this.remove(rec.Id, { force: true, volumes: true }).catch(() => undefined);
      if (err instanceof ApiError || typeof (err as { statusCode?: unknown }).statusCode === 'number') throw err;
      const status = /executable file not found|no such file or directory|permission denied|not a directory/.test(msg) ? 400 : 500;
      throw new ApiError(status, `failed to create task for container: ${msg}: unknown`);
    }
    const pid = this.#live.get(rec.Id)?.pid ?? 0;
    rec.State = {
      ...rec.State, Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
      Pid: pid, ExitCode: 0, Error: '', StartedAt: nowIso(),
    };
    if (rec.Config.Healthcheck?.Test?.length && rec.Config.Healthcheck.Test[0] !== 'NONE') rec.State.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
    rec.Dray.startedBefore = true;
    this.store.save(rec);
    this.#event(rec, 'start');
    this.hub(rec.Id).emit('started');
    this.#startHealth(rec);
    return 'started';
  }

  #startHealth(rec: ContainerRecord): void {
    this.#health.start(rec, (argv, ms) => this.#probe(rec.Id, argv, ms), (h) => {
      const cur = this.store.get(rec.Id);
      if (!cur || !cur.State.Running) return;
      cur.State.Health = { ...h, Log: [...h.Log] };
      this.store.save(cur);
    }, (status) => this.#event(rec, `health_status: ${status}`));
  }

  /** One healthcheck run: an exec through the shim, killed at the timeout (Docker's -1 and message then). */
  async #probe(id: string, argv: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const live = this.#live.get(id);
    const rootfs = this.rootfsOf(id);
    const rec = this.store.get(id);
    if (!live || !rootfs || !rec) throw new Error('container is not running');
    const execId = `health-${randomBytes(8).toString('hex')}`;
    const { output } = await live.client.exec(execId, processSpec({ rec, rootfs, cgroupsPath: '' }, argv), { terminal: false, stdin: false });
    const collected = output.collect();
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; void live.client.kill('SIGKILL', { execId }).catch(() => undefined); }, timeoutMs);
    const exit = await live.client.wait(execId).finally(() => clearTimeout(timer));
    const out = await collected;
    await live.client.delete({ execId }).catch(() => undefined);
    if (timedOut) return { exitCode: -1, output: `Health check exceeded timeout (${Math.round(timeoutMs / 1000)}s)` };
    return { exitCode: exit.exitStatus, output: out.stdout.toString() + out.stderr.toString() };
  }

  /** Connects a task's output and exit to the container. */
  #wire(rec: ContainerRecord, client: TaskHandle, pid: number): void {
    let markExited!: () => void;
    const exited = new Promise<void>((r) => { markExited = r; });
    this.#live.set(rec.Id, { client, pid, exited, markExited });
    const hub = this.hub(rec.Id);
    void client.attach().then((s) => {
      s.on('stdout', (b) => hub.emit('stdout', b));
      s.on('stderr', (b) => hub.emit('stderr', b));
      s.on('end', () => hub.emit('end'));
    }).catch(() => undefined);
    client.on('exit', (p) => {
      if (p.id === rec.Id || p.id === '') void this.#onExit(rec.Id, p);
    });
  }

  async #onExit(id: string, exit: ShimExit): Promise<void> {
    const live = this.#live.get(id);
    if (!live) return;
    this.#health.stop(id);
    this.#live.delete(id);
    const rec = this.store.get(id);
    live.client.close();
    await live.client.delete().catch(() => this.#o.tasks.cleanup(id)).catch((err: Error) => this.#o.log.error(`delete task ${id}: ${err.message}`));
    this.#unmountRootfs(id);
    if (rec) this.#recordExit(rec, exit.exitStatus, exit.exitedAt, exit.oomKilled);
    live.markExited();
  }

  #networkName(rec: ContainerRecord): string {
    const m = rec.HostConfig.NetworkMode ?? 'default';
    return m === 'default' ? 'bridge' : m;
  }

  /**
   * `--network container:<x>`, as dockerd: x must be running; the container
   * joins x's namespace and uses x's hostname, domain name and /etc files
   * (hostname, hosts, resolv.conf); it gets no endpoint of its own. Returns
   * the namespace path for the spec, or undefined for other modes.
   */
  #joinNetwork(rec: ContainerRecord): string | undefined {
    const ref = joinedContainer(rec.HostConfig);
    if (ref === null) return undefined;
    const other = this.store.resolve(ref);
    if (other.Id === rec.Id) throw serverError('cannot join own network');
    if (other.State.Restarting) throw conflict(`Container ${ref} is restarting, wait until the container is running`);
    const live = this.#live.get(other.Id);
    if (!other.State.Running || !live || live.pid <= 0) throw conflict(`cannot join network of a non running container: ${ref}`);
    rec.HostnamePath = other.HostnamePath;
    rec.HostsPath = other.HostsPath;
    rec.ResolvConfPath = other.ResolvConfPath;
    rec.Config.Hostname = other.Config.Hostname ?? '';
    rec.Config.Domainname = other.Config.Domainname ?? '';
    return `/proc/${live.pid}/ns/net`;
  }

  /** Attaches the task's network namespace (the init waits before exec), publishes ports, writes /etc files. */
  async #connectNetwork(rec: ContainerRecord, pid: number): Promise<void> {
    if (joinedContainer(rec.HostConfig) !== null) {
      // the joined container's namespace, endpoints and files: nothing of its own (inspect shows no network)
      rec.NetworkSettings = { ...rec.NetworkSettings, SandboxKey: '', Ports: {}, Networks: {} };
      return;
    }
    const net = this.#o.network;
    if (!net) return;
    const name = this.#networkName(rec);
    const ec = rec.Dray.endpointsConfig?.[name];
    await net.connect(name, { id: rec.Id, name: rec.Name, netns: name === 'host' ? '' : `/proc/${pid}/ns/net` }, {
      ...(ec?.Aliases?.length ? { aliases: ec.Aliases } : {}),
      ...(ec?.IPAMConfig?.IPv4Address ? { ipv4Address: ec.IPAMConfig.IPv4Address } : {}),
      ...(rec.HostConfig.Dns?.length ? { dnsServers: rec.HostConfig.Dns } : {}),
    });
    // the other networks: `network connect` (to this run or while stopped) and compose's create-then-connect
    if (name !== 'host' && name !== 'none') {
      const done = new Set([name, rec.HostConfig.NetworkMode, ...Object.keys(net.containerNetworks(rec.Id))]);
      for (const [other, oc] of Object.entries(rec.Dray.endpointsConfig ?? {})) {
        if (done.has(other)) continue;
        await net.connect(other, { id: rec.Id, name: rec.Name, netns: `/proc/${pid}/ns/net` }, {
          ...(oc?.Aliases?.length ? { aliases: oc.Aliases } : {}),
          ...(oc?.IPAMConfig?.IPv4Address ? { ipv4Address: oc.IPAMConfig.IPv4Address } : {}),
        });
      }
    }
    const hc = rec.HostConfig;
    const specs = portSpecs(hc.PortBindings as never, rec.Config.ExposedPorts, hc['PublishAllPorts'] === true);
    const published = name === 'host' || name === 'none' ? [] : await net.publish(rec.Id, specs);
    if (name !== 'host') {
      const files = net.containerFiles(rec.Id, {
        hostname: rec.Config.Hostname ?? '', domainname: rec.Config.Domainname ?? '',
        dns: hc.Dns ?? [], dnsSearch: hc.DnsSearch ?? [], dnsOptions: hc.DnsOptions ?? [], extraHosts: hc.ExtraHosts ?? [],
      });
      // rewritten in place: the files are bind-mounted by inode
      writeFileSync(rec.HostsPath, files.hosts);
      writeFileSync(rec.ResolvConfPath, files.resolvConf);
      writeFileSync(rec.HostnamePath, files.hostname);
    }
    const networks = net.containerNetworks(rec.Id);
    const primary = networks[name];
    rec.NetworkSettings = {
      ...rec.NetworkSettings,
      SandboxKey: name === 'host' ? '' : `/proc/${pid}/ns/net`,
      Ports: portsJson(published, rec.Config.ExposedPorts),
      Networks: networks,
      ...(name === 'bridge' && primary ? { Gateway: primary.Gateway, IPAddress: primary.IPAddress, IPPrefixLen: primary.IPPrefixLen, MacAddress: primary.MacAddress, EndpointID: primary.EndpointID } : {}),
    };
  }

  #disconnectNetwork(rec: ContainerRecord): void {
    const net = this.#o.network;
    if (!net) return;
    try { net.disconnectAll(rec.Id); } catch (err) { this.#o.log.error(`network disconnect ${rec.Id}: ${(err as Error).message}`); }
    const networks = rec.NetworkSettings['Networks'] as Record<string, Record<string, unknown>> | undefined;
    const cleared: Record<string, Record<string, unknown>> = {};
    for (const [k, v] of Object.entries(networks ?? {})) cleared[k] = { ...v, EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' };
    rec.NetworkSettings = { ...rec.NetworkSettings, SandboxKey: '', Ports: {}, Networks: cleared, Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '', EndpointID: '' };
  }

  #recordExit(rec: ContainerRecord, code: number, at: string | undefined, oom: boolean): void {
    this.#disconnectNetwork(rec);
    rec.State = {
      ...rec.State, Status: 'exited', Running: false, Paused: false, Restarting: false, Pid: 0,
      ExitCode: code, OOMKilled: oom, FinishedAt: at || nowIso(),
    };
    if (rec.State.Health) rec.State.Health = { ...rec.State.Health, Status: 'unhealthy' };
    const policy = rec.HostConfig.RestartPolicy ?? { Name: 'no' };
    const restart = !rec.Dray.manuallyStopped && (policy.Name === 'always' || policy.Name === 'unless-stopped' ||
      (policy.Name === 'on-failure' && code !== 0 && (!policy.MaximumRetryCount || rec.RestartCount < policy.MaximumRetryCount)));
    if (restart) rec.State.Status = 'restarting', rec.State.Restarting = true;
    this.store.save(rec);
    if (oom) this.#event(rec, 'oom');
    this.#event(rec, 'die', { exitCode: String(code) });
    this.hub(rec.Id).emit('end');
    const ws = this.#exitWaiters.get(rec.Id);
    this.#exitWaiters.delete(rec.Id);
    for (const w of ws ?? []) w(code);
    if (restart) {
      this.#scheduleRestart(rec);
    } else if (rec.HostConfig.AutoRemove) {
      void this.remove(rec.Id, { force: true, volumes: true }).catch((err: Error) => this.#o.log.error(`auto-remove ${rec.Id}: ${err.message}`));
    }
  }

  /** Docker's back-off: 100 ms doubling per restart, reset after 10 s of running, at most 1 min. */
  #scheduleRestart(rec: ContainerRecord): void {
    const ranMs = Date.parse(rec.State.FinishedAt) - Date.parse(rec.State.StartedAt);
    const prev = rec.Dray.backoffMs ?? 0;
    const backoff = ranMs > 10_000 || prev === 0 ? 100 : Math.min(prev * 2, 60_000);
    rec.Dray.backoffMs = backoff;
    const t = setTimeout(() => {
      this.#restartTimers.delete(rec.Id);
      const cur = this.store.get(rec.Id);
      if (!cur || !cur.State.Restarting) return;
      cur.RestartCount++;
      this.store.save(cur);
      this.start(cur.Id, true).then(() => this.#event(cur, 'restart')).catch((err: Error) => {
        this.#o.log.error(`restart ${cur.Id}: ${err.message}`);
        cur.State.Restarting = false;
        cur.State.Status = 'exited';
        this.store.save(cur);
      });
    }, backoff);
    this.#restartTimers.set(rec.Id, t);
  }

  // ---- stop, kill, restart ----

  async kill(ref: string, signal?: string): Promise<void> {
    const rec = this.store.resolve(ref);
    const sig = parseSignal(signal, 'SIGKILL');
    const live = this.#live.get(rec.Id);
    if (!live || !rec.State.Running) throw conflict(`Cannot kill container: ${ref}: Container ${rec.Id} is not running`);
    if (sig === constants.signals.SIGKILL) rec.Dray.manuallyStopped = rec.HostConfig.RestartPolicy?.Name !== 'always' || rec.Dray.manuallyStopped;
    this.#event(rec, 'kill', { signal: String(sig) });
    if (rec.State.Paused && (sig === constants.signals.SIGKILL)) await this.#o.tasks.resume(rec.Id).catch(() => undefined);
    await live.client.kill(sig, { all: true }).catch((err: Error) => {
      if (!/process already finished|not running/.test(err.message)) throw serverError(err.message);
    });
    if (sig === constants.signals.SIGKILL) await this.#waitExited(live, 10_000);
  }

  async #waitExited(live: Live, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([live.exited.then(() => true), new Promise<boolean>((res) => { timer = setTimeout(() => res(false), ms); })]);
    clearTimeout(timer);
    return r;
  }

  /** 'stopped', or 'not-running' (Docker's 304). */
  async stop(ref: string, timeoutSec?: number, signal?: string): Promise<'stopped' | 'not-running'> {
    const rec = this.store.resolve(ref);
    const timer = this.#restartTimers.get(rec.Id);
    if (timer) {
      clearTimeout(timer);
      this.#restartTimers.delete(rec.Id);
      rec.State = { ...rec.State, Restarting: false, Status: 'exited' };
      rec.Dray.manuallyStopped = true;
      this.store.save(rec);
      return 'stopped';
    }
    const live = this.#live.get(rec.Id);
    if (!live) return 'not-running';
    rec.Dray.manuallyStopped = true;
    this.store.save(rec);
    const sig = parseSignal(signal ?? rec.Config.StopSignal, 'SIGTERM');
    const timeout = timeoutSec ?? rec.Config.StopTimeout ?? 10;
    if (rec.State.Paused) await this.#o.tasks.resume(rec.Id).catch(() => undefined);
    this.#event(rec, 'kill', { signal: String(sig) });
    await live.client.kill(sig, { all: false }).catch(() => undefined);
    if (timeout < 0 || !(await this.#waitExited(live, timeout * 1000))) {
      if (timeout >= 0) {
        this.#event(rec, 'kill', { signal: String(constants.signals.SIGKILL) });
        await live.client.kill('SIGKILL', { all: true }).catch(() => undefined);
      }
      if (!(await this.#waitExited(live, timeout < 0 ? 2 ** 31 - 1 : 30_000))) throw serverError(`container ${rec.Id} did not exit after SIGKILL`);
    }
    this.#event(rec, 'stop');
    return 'stopped';
  }

  async restart(ref: string, timeoutSec?: number, signal?: string): Promise<void> {
    const rec = this.store.resolve(ref);
    await this.stop(rec.Id, timeoutSec, signal);
    await this.start(rec.Id);
    this.#event(rec, 'restart');
  }

  async pause(ref: string): Promise<void> {
    const rec = this.store.resolve(ref);
    if (!rec.State.Running) throw conflict(`Container ${rec.Id} is not running`);
    if (rec.State.Paused) throw conflict(`Container ${rec.Id} is already paused`);
    await this.#o.tasks.pause(rec.Id);
    rec.State = { ...rec.State, Paused: true, Status: 'paused' };
    this.store.save(rec);
    this.#event(rec, 'pause');
  }

  async unpause(ref: string): Promise<void> {
    const rec = this.store.resolve(ref);
    if (!rec.State.Paused) throw conflict(`Container ${rec.Id} is not paused`);
    await this.#o.tasks.resume(rec.Id);
    rec.State = { ...rec.State, Paused: false, Status: 'running' };
    this.store.save(rec);
    this.#event(rec, 'unpause');
  }

  rename(ref: string, newName: string): void {
    const rec = this.store.resolve(ref);
    const n = normalizeName(newName);
    if (n === rec.Name) throw conflict(`Renaming a container with the same name as its current name`);
    this.store.reserveName(n, rec.Id);
    const old = rec.Name;
    this.store.releaseName(old, rec.Id);
    rec.Name = n;
    this.store.save(rec);
    this.#event(rec, 'rename', { oldName: old });
  }

  // ---- wait, remove ----

  /** Docker's wait conditions; resolves with the exit code. */
  wait(ref: string, condition = 'not-running'): Promise<WaitResult> {
    const rec = this.store.resolve(ref);
    if (!['not-running', 'next-exit', 'removed', ''].includes(condition)) throw badRequest(`invalid condition: "${condition}"`);
    const map = condition === 'removed' ? this.#removeWaiters : this.#exitWaiters;
    if ((condition === 'not-running' || condition === '') && !rec.State.Running && !rec.State.Restarting && !this.#live.has(rec.Id)) {
      return Promise.resolve({ StatusCode: rec.State.ExitCode, Error: null });
    }
    return new Promise((resolve) => {
      let set = map.get(rec.Id);
      if (!set) { set = new Set(); map.set(rec.Id, set); }
      set.add((code) => resolve({ StatusCode: code, Error: null }));
    });
  }

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const rec = this.store.resolve(ref);
    if (rec.State.Status === 'removing') return;
    if ((rec.State.Running || this.#live.has(rec.Id)) && !opts.force) {
      const what = rec.State.Paused ? 'paused' : 'running';
      throw conflict(`You cannot remove a ${what} container ${rec.Id}. ${rec.State.Paused ? 'Unpause and then stop' : 'Stop'} the container before attempting removal or force remove`);
    }
    const timer = this.#restartTimers.get(rec.Id);
    if (timer) { clearTimeout(timer); this.#restartTimers.delete(rec.Id); }
    const live = this.#live.get(rec.Id);
    if (live) {
      rec.Dray.manuallyStopped = true;
      rec.HostConfig.AutoRemove = false; // this remove does it
      if (rec.State.Paused) await this.#o.tasks.resume(rec.Id).catch(() => undefined);
      await live.client.kill('SIGKILL', { all: true }).catch(() => undefined);
      if (!(await this.#waitExited(live, 15_000))) throw serverError(`could not kill running container ${rec.Id}, cannot remove`);
    }
    rec.State = { ...rec.State, Status: 'removing' };
    await this.#o.images.snapshotter.remove(rec.Dray.snapshot).catch((err: Error) => {
      if (!/not found|does not exist/.test(err.message)) throw err;
    });
    this.#o.volumes.releaseContainer(rec.Id, opts.volumes === true);
    this.store.delete(rec.Id);
    this.#hubs.delete(rec.Id);
    this.#event(rec, 'destroy');
    const ws = this.#removeWaiters.get(rec.Id);
    this.#removeWaiters.delete(rec.Id);
    for (const w of ws ?? []) w(rec.State.ExitCode);
  }

  // ---- live restore ----

  /** After a restart of drayd: re-adopt the tasks of containers that were running. */
  async restore(): Promise<void> {
    for (const rec of this.store.all()) {
      if (!rec.State.Running && !rec.State.Restarting) continue;
      const a = await this.#o.tasks.adopt(rec.Id).catch((err: Error) => {
        this.#o.log.error(`adopt ${rec.Id}: ${err.message}`);
        return { alive: false as const, exit: null };
      });
      if (a.alive) {
        this.#wire(rec, a.client, a.pid);
        if (a.exited) {
          void this.#onExit(rec.Id, a.exited);
        } else {
          this.#startHealth(rec);
        }
        if (!a.exited && rec.State.Restarting) {
          rec.State = { ...rec.State, Restarting: false, Running: true, Status: rec.State.Paused ? 'paused' : 'running', Pid: a.pid };
          this.store.save(rec);
        }
        continue;
      }
      await this.#o.tasks.cleanup(rec.Id).catch(() => undefined);
      this.#unmountRootfs(rec.Id);
      const exit = a.exit;
      this.#recordExit(rec, exit ? exit.exitStatus : 255, exit?.exitedAt, exit?.oomKilled ?? false);
    }
  }

  /** After restore(): the network library drops endpoints of containers that are gone, re-creates what live ones need. */
  async reconcileNetwork(): Promise<void> {
    await this.#o.network?.reconcile((id) => {
      const l = this.#live.get(id);
      return l && l.pid > 0 ? `/proc/${l.pid}/ns/net` : null;
    });
  }

  /** Drops connections to running tasks (they keep running: live restore). */
  close(): void {
    for (const t of this.#restartTimers.values()) clearTimeout(t);
    this.#health.stopAll();
    for (const l of this.#live.values()) l.client.close();
    this.#live.clear();
  }

  /** The container's cgroup path (cgroupsPath in its spec). */
  cgroupPath(id: string): string {
    return `${this.#o.cgroupParent ?? '/dray'}/${id}`;
  }

  get images(): ImageService {
    return this.#o.images;
  }

  get tasks(): TaskService {
    return this.#o.tasks;
  }

  /** Runs fn on the container's root filesystem: the running one's mount, or a private mount of its snapshot. */
  async withRootfs<T>(rec: ContainerRecord, fn: (root: string) => Promise<T>): Promise<T> {
    const live = this.rootfsOf(rec.Id);
    if (live) return fn(live);
    return withMount(this.#o.images.snapshotter.mounts(rec.Dray.snapshot), fn);
  }

  rootfsOf(id: string): string | undefined {
    const p = this.#rootfs(id);
    return this.#live.has(id) && existsSync(p) ? p : undefined;
  }
}

function exitCodeFor(msg: string): number {
  if (/executable file not found|no such file or directory/.test(msg)) return 127;
  if (/permission denied/.test(msg)) return 126;
  return 128;
}

export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)b?$/i.exec(s.trim());
  if (!m) throw badRequest(`invalid size: '${s}'`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * mult);
}
