// The typed client of dray-containerd's API, for drayd, dray-ctr and tests.
// A client is bound to one namespace; withNamespace() gives another view
// over the same connection.
import type { ClientDuplexStream, ClientReadableStream } from '@grpc/grpc-js';
import type { Caller } from './caller.ts';
import { ContentApi } from './content.ts';
import { ImagesApi } from './images.ts';
import { SnapshotsApi } from './snapshots.ts';
import { TasksApi } from './tasks.ts';
import type { AnyMessage, Container, Envelope, Labels, Lease, LeaseResource, Namespace, VersionInfo } from '../api/types.ts';
import { DEFAULT_NAMESPACE } from '../api/types.ts';
import { eventTypeUrl, type ServiceKey } from '../api/protos.ts';
import { Connection, DEFAULT_ADDRESS, iterate } from './connection.ts';
import { fromServiceError } from './errors.ts';

export interface ClientOptions {
  namespace?: string;
  /** Per-call deadline for unary calls, in milliseconds (none by default). */
  timeoutMs?: number;
}

/** What a client supplies to create a container; the spec may be a plain object (sent as JSON). */
export interface ContainerCreate {
  id: string;
  image?: string;
  labels?: Labels;
  runtime: { name: string; options?: Buffer | object };
  spec: Buffer | object;
  snapshotter?: string;
  snapshotKey?: string;
  sandbox?: string;
  extensions?: Record<string, { typeUrl: string; value: Buffer }>;
}

function jsonBytes(v: Buffer | object | undefined): Buffer {
  if (v === undefined) return Buffer.alloc(0);
  return Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v));
}

export interface EventStream extends AsyncIterable<Envelope> {
  /** Ends the subscription; the iteration then finishes without error. */
  cancel(): void;
  /** Resolves once the server has registered the subscription (events published after it are delivered); rejects if it failed. */
  ready: Promise<void>;
}

export class SupervisorClient implements Caller {
  readonly namespace: string;
  readonly connection: Connection;
  private readonly timeoutMs: number | undefined;
  private readonly owner: boolean;

  constructor(address: string = DEFAULT_ADDRESS, opts: ClientOptions = {}, connection?: Connection) {
    this.namespace = opts.namespace ?? DEFAULT_NAMESPACE;
    this.timeoutMs = opts.timeoutMs;
    this.owner = !connection;
    this.connection = connection ?? new Connection(address);
  }

  withNamespace(namespace: string): SupervisorClient {
    return new SupervisorClient(this.connection.address, { namespace, ...(this.timeoutMs ? { timeoutMs: this.timeoutMs } : {}) }, this.connection);
  }

  close(): void {
    if (this.owner) this.connection.close();
  }

  waitReady(timeoutMs = 5000): Promise<void> {
    return this.connection.waitReady(timeoutMs);
  }

  private call<Res>(key: ServiceKey, method: string, req: unknown, namespaced = true): Promise<Res> {
    return this.connection.unary<Res>(key, method, req, namespaced ? this.namespace : undefined, this.timeoutMs);
  }

  // Caller, for the service wrappers below.
  unary<Res>(key: ServiceKey, method: string, req: unknown, namespaced = true): Promise<Res> {
    return this.call<Res>(key, method, req, namespaced);
  }

  stream(key: ServiceKey, method: string, req: unknown): ClientReadableStream<unknown> {
    return this.connection.stream(key, method, req, this.namespace);
  }

  duplex(key: ServiceKey, method: string): ClientDuplexStream<unknown, unknown> {
    return this.connection.duplex(key, method, this.namespace);
  }

  readonly content: ContentApi = new ContentApi(this);
  readonly images: ImagesApi = new ImagesApi(this);
  readonly snapshots: SnapshotsApi = new SnapshotsApi(this);
  readonly tasks: TasksApi = new TasksApi(this);

  // --- version and health ---
  version(): Promise<VersionInfo> {
    return this.call('version', 'Version', {}, false);
  }

  async health(service = ''): Promise<string> {
    return (await this.call<{ status: string }>('health', 'Check', { service }, false)).status;
  }

  // --- namespaces (not themselves namespaced) ---
  readonly namespaces = {
    list: async (filter = ''): Promise<Namespace[]> => (await this.call<{ namespaces: Namespace[] }>('namespaces', 'List', { filter }, false)).namespaces,
    get: async (name: string): Promise<Namespace> => (await this.call<{ namespace: Namespace }>('namespaces', 'Get', { name }, false)).namespace,
    create: async (name: string, labels: Labels = {}): Promise<Namespace> => (await this.call<{ namespace: Namespace }>('namespaces', 'Create', { namespace: { name, labels } }, false)).namespace,
    /** Replaces the labels; with paths ("labels.<key>"), only those keys. */
    update: async (name: string, labels: Labels, paths?: string[]): Promise<Namespace> =>
      (await this.call<{ namespace: Namespace }>('namespaces', 'Update', { namespace: { name, labels }, updateMask: paths ? { paths } : null }, false)).namespace,
    delete: async (name: string): Promise<void> => { await this.call('namespaces', 'Delete', { name }, false); },
  };

  // --- containers ---
  readonly containers = {
    list: async (...filters: string[]): Promise<Container[]> => (await this.call<{ containers: Container[] }>('containers', 'List', { filters })).containers,
    get: async (id: string): Promise<Container> => (await this.call<{ container: Container }>('containers', 'Get', { id })).container,
    create: async (c: ContainerCreate): Promise<Container> => (await this.call<{ container: Container }>('containers', 'Create', { container: {
      ...c,
      runtime: { name: c.runtime.name, options: jsonBytes(c.runtime.options) },
      spec: jsonBytes(c.spec),
    } })).container,
    /** Updates the fields in paths (snake_case: labels, labels.<key>, image, spec, snapshot_key, extensions); none: all mutable ones. */
    update: async (c: Partial<ContainerCreate> & { id: string }, paths?: string[]): Promise<Container> => (await this.call<{ container: Container }>('containers', 'Update', {
      container: { ...c, runtime: c.runtime ? { name: c.runtime.name, options: jsonBytes(c.runtime.options) } : null, spec: c.spec ? jsonBytes(c.spec) : Buffer.alloc(0) },
      updateMask: paths ? { paths } : null,
    })).container,
    delete: async (id: string): Promise<void> => { await this.call('containers', 'Delete', { id }); },
  };

  // --- leases ---
  readonly leases = {
    create: async (id = '', labels: Labels = {}): Promise<Lease> => (await this.call<{ lease: Lease }>('leases', 'Create', { id, labels })).lease,
    delete: async (id: string): Promise<void> => { await this.call('leases', 'Delete', { id }); },
    list: async (...filters: string[]): Promise<Lease[]> => (await this.call<{ leases: Lease[] }>('leases', 'List', { filters })).leases,
    addResource: async (id: string, resource: LeaseResource): Promise<void> => { await this.call('leases', 'AddResource', { id, resource }); },
    deleteResource: async (id: string, resource: LeaseResource): Promise<void> => { await this.call('leases', 'DeleteResource', { id, resource }); },
    listResources: async (id: string): Promise<LeaseResource[]> => (await this.call<{ resources: LeaseResource[] }>('leases', 'ListResources', { id })).resources,
  };

  // --- events ---
  readonly events = {
    /** Publishes a dray.events.v1 payload (type: the message name, e.g. "TaskExit"), or any Any, in this namespace. */
    publish: async (topic: string, event: AnyMessage | { type: string; payload: Record<string, unknown> }): Promise<void> => {
      const ev = 'type' in event && 'payload' in event ? { '@type': eventTypeUrl(event.type as string), ...(event.payload as object) } : event;
      await this.call('events', 'Publish', { topic, event: ev });
    },
    forward: async (envelope: Envelope): Promise<void> => { await this.call('events', 'Forward', { envelope }, false); },
    /** Streams events matching any of filters (all events if none), from every namespace unless a filter says "namespace==…". */
    subscribe: (...filters: string[]): EventStream => {
      const stream = this.connection.stream('events', 'Subscribe', { filters }) as ClientReadableStream<Envelope>;
      let cancelled = false;
      // Errors reach an iterating caller through the iterator; this keeps a stream nobody iterates from crashing the process.
      stream.on('error', () => {});
      const ready = new Promise<void>((resolve, reject) => {
        stream.once('metadata', () => resolve());
        stream.once('error', (err: Error) => reject(fromServiceError(err)));
        stream.once('end', () => resolve());
      });
      ready.catch(() => {});
      return {
        ready,
        cancel: () => { cancelled = true; stream.cancel(); },
        [Symbol.asyncIterator]: () => iterate<Envelope>(stream, () => cancelled),
      };
    },
  };

  /** The raw grpc-js client of a service (for calls not wrapped here). */
  raw(key: ServiceKey): ReturnType<Connection['service']> {
    return this.connection.service(key);
  }
}
