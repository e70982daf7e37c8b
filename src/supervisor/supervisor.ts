// The supervisor: its metadata, its event bus, and its gRPC services on
// one server. Tests and the daemon's main build it the same way.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { Logger } from '../common/log.ts';
import { serviceDefinition, SERVICES, type ServiceKey } from './api/protos.ts';
import { EventBus } from './events/bus.ts';
import { join } from 'node:path';
import { openImageStores } from '../images/metadata/open.ts';
import { plural, type Metadata } from './metadata/metadata.ts';
import { contentService } from './services/content.ts';
import { imagesService } from './services/images.ts';
import { Snapshotters, snapshotsService } from './services/snapshots.ts';
import { tasksService } from './services/tasks.ts';
import { TaskManager } from './tasks/manager.ts';
import { prepareSocket, restrictSocket, unixSocketPath } from './listen.ts';
import type { RpcContext } from './rpc.ts';
import { IdleTrimmer } from '../common/idle-trim.ts';
import type { ServiceDeps } from './services/deps.ts';
import { namespacesService } from './services/namespaces.ts';
import { containersService } from './services/containers.ts';
import { leasesService } from './services/leases.ts';
import { eventsService } from './services/events.ts';
import { versionService } from './services/version.ts';
import { HealthState, healthService } from './services/health.ts';

export interface SupervisorOptions {
  metadata: Metadata;
  /** Persistent state: content/ (blobs) and snapshots/<snapshotter>/ live here. */
  dataRoot: string;
  /** Runtime state: bundles/, shims/ (one state dir per task), runtime roots. */
  execRoot: string;
  log?: Logger;
}

export class Supervisor {
  readonly metadata: Metadata;
  readonly bus = new EventBus();
  readonly log: Logger;
  readonly health: HealthState;
  readonly snapshotters: Snapshotters;
  readonly tasks: TaskManager;
  readonly dataRoot: string;
  private readonly server: Server;
  private readonly sockets: string[] = [];
  private readonly trimmer = new IdleTrimmer();

  constructor(opts: SupervisorOptions) {
    this.metadata = opts.metadata;
    this.log = opts.log ?? new Logger('info');
    const rpc: RpcContext = { log: this.log, namespaceExists: (n) => this.metadata.namespaces.exists(n), touch: () => this.trimmer.touch() };
    const deps: ServiceDeps = { log: this.log, metadata: this.metadata, bus: this.bus, rpc };
    this.health = new HealthState(Object.values(SERVICES));
    this.server = new Server({ 'grpc.max_receive_message_length': 32 << 20 });
    const add = (key: ServiceKey, impl: ReturnType<typeof versionService>): void => { this.server.addService(serviceDefinition(key), impl); };
    add('namespaces', namespacesService(deps));
    add('containers', containersService(deps));
    add('leases', leasesService(deps));
    add('events', eventsService(deps));
    add('version', versionService(deps));
    add('health', healthService(deps, this.health));
    const images = openImageStores(opts.dataRoot, { db: this.metadata.db });
    this.snapshotters = new Snapshotters(join(opts.dataRoot, 'snapshots'));
    this.dataRoot = opts.dataRoot;
    this.metadata.namespaces.addUsageCheck((ns) => plural(this.snapshotters.count(ns), 'snapshot'));
    add('content', contentService(deps, images.content));
    add('images', imagesService(deps, images.content, opts.dataRoot, this.snapshotters));
    add('snapshots', snapshotsService(deps, this.snapshotters));
    this.tasks = new TaskManager({ execRoot: opts.execRoot, metadata: this.metadata, snapshotters: this.snapshotters, bus: this.bus, log: this.log });
    deps.tasks = this.tasks;
    this.metadata.namespaces.addUsageCheck((ns) => plural(this.tasks.count(ns), 'task'));
    add('tasks', tasksService(deps, this.tasks));
  }

  /** Reconnects to the shims of a previous run (before listening, so clients see every task). */
  async adoptTasks(): Promise<number> {
    return this.tasks.adopt();
  }

  /** Listens on each address (unix sockets only). */
  async listen(addresses: string[]): Promise<void> {
    for (const address of addresses) {
      const path = unixSocketPath(address);
      await prepareSocket(path);
      await new Promise<number>((resolve, reject) => {
        this.server.bindAsync(`unix://${path}`, ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
      });
      restrictSocket(path);
      this.sockets.push(path);
      this.log.info('serving', { address: `unix://${path}` });
    }
  }

  /** Stops accepting calls, lets running unary calls finish (up to graceMs), then ends streams. */
  async stop(graceMs = 5000): Promise<void> {
    this.trimmer.stop();
    // Long-lived streams (events, health watches) end first, so the shutdown is not held up by them.
    this.health.shutdown();
    this.bus.close();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { this.server.forceShutdown(); resolve(); }, graceMs);
      this.server.tryShutdown(() => { clearTimeout(timer); resolve(); });
    });
    this.tasks.close();
    this.snapshotters.close();
    this.metadata.close();
  }
}
