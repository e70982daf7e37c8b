// drayd's lifecycle: open the stores, re-adopt running containers, build
// the route table, listen on every -H address, write the pidfile, and shut
// down cleanly on SIGTERM/SIGINT (containers keep running: live restore).
import { existsSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DaemonOptions } from '../common/daemon-options.ts';
import { Router } from './api/router.ts';
import { createApiHandler, listen, type Listener } from './api/server.ts';
import { ContainerManager } from './containers/manager.ts';
import { EventBus } from './events/bus.ts';
import { ImageService } from './images/service.ts';
import { containerRoutes } from './routes/containers.ts';
import { execRoutes } from './routes/exec.ts';
import { containerFsRoutes } from './routes/container-fs.ts';
import { imageRoutes } from './routes/images.ts';
import { infoRoutes } from './routes/info.ts';
import { systemRoutes } from './routes/system.ts';
import { SupervisorTasks } from './tasks/tasks.ts';
import { connectSupervisor } from './supervisor.ts';
import { IdleTrimmer } from '../common/idle-trim.ts';
import { repoPath } from '../common/paths.ts';
import { ExecManager } from './exec/exec.ts';
import { VolumeStore } from '../volumes/store.ts';
import { volumeRoutes } from '../volumes/routes.ts';
import { NetworkManager } from '../network/manager.ts';
import { networkRoutes } from './routes/networks.ts';

export interface EngineOptions extends DaemonOptions {
  /** dray-containerd's address; none: a managed one on this daemon's directories */
  containerd?: string;
  /** the containers' runtime, by dray-containerd's names: dray (built-in, the default), runc, crun, or a runc-compatible binary's absolute path */
  runtime?: string;
  insecureRegistries?: string[];
  /** dockerd's --cgroup-parent (default /dray) */
  cgroupParent?: string;
  /** the default network's bridge (dockerd's --bridge; default dray0) */
  bridge?: string;
  /** the default network's subnet (chosen from the pools when absent) */
  bridgeSubnet?: string;
  /** prefix of Dray's iptables chains (default DRAY) and of user-network bridges */
  iptablesChainPrefix?: string;
  bridgePrefix?: string;
  /** false: no networking library (bridge containers get loopback only) */
  networking?: boolean;
}

export interface Engine {
  listeners: Listener[];
  containers: ContainerManager;
  stop(): Promise<void>;
}

/** bin/dray-init, the tiny init for --init, when built. */
const INIT_BINARY = repoPath('bin/dray-init');

export async function startEngine(opts: EngineOptions): Promise<Engine> {
  const log = {
    debug: (m: string) => { if (opts.debug) process.stderr.write(`drayd: debug: ${m}\n`); },
    error: (m: string) => process.stderr.write(`drayd: error: ${m}\n`),
  };
  mkdirSync(opts.dataRoot, { recursive: true, mode: 0o711 });
  mkdirSync(opts.execRoot, { recursive: true, mode: 0o711 });
  const events = new EventBus();
  const supervisor = await connectSupervisor({ ...(opts.containerd ? { address: opts.containerd } : {}), dataRoot: opts.dataRoot, execRoot: opts.execRoot, ...(opts.debug ? { debug: true } : {}), log: log.error });
  const images = new ImageService(opts.dataRoot);
  const tasks = new SupervisorTasks(supervisor.client, opts.runtime || process.env['DRAYD_RUNTIME'] || 'dray');
  const volumes = new VolumeStore({ root: opts.dataRoot, db: images.stores.db });
  const network = opts.networking === false ? undefined : new NetworkManager({
    db: images.stores.db,
    ...(opts.bridge ? { defaultBridge: opts.bridge } : {}),
    ...(opts.bridgeSubnet ? { defaultSubnet: opts.bridgeSubnet } : {}),
    ...(opts.iptablesChainPrefix ? { chainPrefix: opts.iptablesChainPrefix } : {}),
    ...(opts.bridgePrefix ? { bridgePrefix: opts.bridgePrefix } : {}),
  });
  const containers = new ContainerManager({
    dataRoot: opts.dataRoot, execRoot: opts.execRoot, images, tasks, events, log, volumes,
    ...(network ? { network } : {}),
    ...(opts.cgroupParent ? { cgroupParent: opts.cgroupParent } : {}),
    ...(existsSync(INIT_BINARY) ? { initBinary: INIT_BINARY } : {}),
  });
  await containers.restore();
  await containers.reconcileNetwork();
  const execs = new ExecManager(containers, events);
  const router = new Router();
  systemRoutes(router);
  containerRoutes(router, { containers, images, tasks });
  execRoutes(router, { containers, execs });
  containerFsRoutes(router, { containers, events });
  imageRoutes(router, { images, containers, events, registry: { insecureRegistries: opts.insecureRegistries ?? [] } });
  infoRoutes(router, { containers, images, tasks, events, volumes, dataRoot: opts.dataRoot, insecureRegistries: opts.insecureRegistries ?? [] });
  volumeRoutes(router, volumes);
  if (network) networkRoutes(router, { network, containers, events });
  const trimmer = new IdleTrimmer();
  const api = createApiHandler(router, log);
  const handler: typeof api = (req, res, upgrade) => { trimmer.touch(); api(req, res, upgrade); };
  const listeners: Listener[] = [];
  try {
    for (const h of opts.hosts) listeners.push(await listen(handler, h));
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    trimmer.stop();
    containers.close();
    images.close();
    await supervisor.stop();
    throw err;
  }
  mkdirSync(dirname(opts.pidfile), { recursive: true });
  writeFileSync(opts.pidfile, `${process.pid}\n`);
  return {
    listeners,
    containers,
    async stop() {
      await Promise.all(listeners.map((l) => l.close()));
      trimmer.stop();
      containers.close();
      network?.close();
      volumes.close();
      images.close();
      await supervisor.stop();
      rmSync(opts.pidfile, { force: true });
    },
  };
}
