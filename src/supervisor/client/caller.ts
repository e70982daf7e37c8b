// What the per-service client wrappers need from SupervisorClient: calls
// made in its namespace, with its deadline.
import type { ClientDuplexStream, ClientReadableStream } from '@grpc/grpc-js';
import type { ServiceKey } from '../api/protos.ts';

export interface Caller {
  readonly namespace: string;
  unary<Res>(key: ServiceKey, method: string, req: unknown, namespaced?: boolean): Promise<Res>;
  stream(key: ServiceKey, method: string, req: unknown): ClientReadableStream<unknown>;
  duplex(key: ServiceKey, method: string): ClientDuplexStream<unknown, unknown>;
}
