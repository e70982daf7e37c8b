// One channel to dray-containerd, shared by the typed service wrappers, and
// the promise-returning call helper they use.
import { Channel, Client, credentials, Metadata, type ClientDuplexStream, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { clientConstructor, type ServiceKey } from '../api/protos.ts';
import { NAMESPACE_KEY } from '../api/types.ts';
import { fromServiceError } from './errors.ts';

export const DEFAULT_ADDRESS = 'unix:///run/dray/containerd.sock';

/** "unix:///path", "unix:/path" or "/path" to the channel target grpc-js wants. */
export function channelTarget(address: string): string {
  if (address.startsWith('unix://')) return address;
  if (address.startsWith('unix:')) return 'unix://' + address.slice('unix:'.length);
  if (address.startsWith('/')) return 'unix://' + address;
  throw new Error(`unsupported address ${JSON.stringify(address)}: use unix:///path/to/socket`);
}

type UnaryMethod = (req: unknown, md: Metadata, opts: { deadline?: Date }, cb: (err: ServiceError | null, res: unknown) => void) => void;
type StreamMethod = (req: unknown, md: Metadata, opts: { deadline?: Date }) => ClientReadableStream<unknown>;

export class Connection {
  readonly address: string;
  private readonly channel: Channel;
  private readonly clients = new Map<ServiceKey, Client>();

  constructor(address: string) {
    this.address = address;
    this.channel = new Channel(channelTarget(address), credentials.createInsecure(), { 'grpc.max_receive_message_length': 32 << 20 });
  }

  service(key: ServiceKey): Client {
    let c = this.clients.get(key);
    if (!c) {
      const Ctor = clientConstructor(key);
      c = new Ctor(channelTarget(this.address), credentials.createInsecure(), { channelOverride: this.channel });
      this.clients.set(key, c);
    }
    return c;
  }

  /** Calls a unary method; the namespace (if any) goes in the request metadata. */
  unary<Res>(key: ServiceKey, method: string, req: unknown, namespace?: string, timeoutMs?: number): Promise<Res> {
    const client = this.service(key) as unknown as Record<string, UnaryMethod>;
    const fn = client[method];
    if (!fn) throw new Error(`no method ${method} on ${key}`);
    const md = new Metadata();
    if (namespace !== undefined) md.set(NAMESPACE_KEY, namespace);
    const opts = timeoutMs ? { deadline: new Date(Date.now() + timeoutMs) } : {};
    return new Promise<Res>((resolve, reject) => {
      fn.call(client, req, md, opts, (err, res) => (err ? reject(fromServiceError(err)) : resolve(res as Res)));
    });
  }

  /** Opens a server stream. */
  stream(key: ServiceKey, method: string, req: unknown, namespace?: string): ClientReadableStream<unknown> {
    const client = this.service(key) as unknown as Record<string, StreamMethod>;
    const fn = client[method];
    if (!fn) throw new Error(`no method ${method} on ${key}`);
    const md = new Metadata();
    if (namespace !== undefined) md.set(NAMESPACE_KEY, namespace);
    return fn.call(client, req, md, {});
  }

  /** Opens a bidirectional stream. */
  duplex(key: ServiceKey, method: string, namespace?: string): ClientDuplexStream<unknown, unknown> {
    const client = this.service(key) as unknown as Record<string, (md: Metadata, opts: object) => ClientDuplexStream<unknown, unknown>>;
    const fn = client[method];
    if (!fn) throw new Error(`no method ${method} on ${key}`);
    const md = new Metadata();
    if (namespace !== undefined) md.set(NAMESPACE_KEY, namespace);
    return fn.call(client, md, {});
  }

  /** Resolves once the daemon answers (or rejects after timeoutMs). */
  waitReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.service('version').waitForReady(new Date(Date.now() + timeoutMs), (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.channel.close();
  }
}

/**
 * A server stream as an async iterable that ends cleanly after cancel(),
 * and rejects with a SupervisorError on any other failure.
 */
/** Every message of a server stream, collected (for bounded lists). */
export async function collectStream<T>(stream: ClientReadableStream<unknown>): Promise<T[]> {
  const out: T[] = [];
  for await (const msg of iterate<T>(stream, () => false)) out.push(msg);
  return out;
}

export async function* iterate<T>(stream: ClientReadableStream<unknown>, cancelled: () => boolean): AsyncGenerator<T> {
  try {
    for await (const msg of stream) yield msg as T;
  } catch (err) {
    if (cancelled()) return;
    throw fromServiceError(err as Error);
  }
}
