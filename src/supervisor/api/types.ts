// The JavaScript shapes of the API's messages as the proto loader options in
// protos.ts produce them (camelCase fields, int64 as number, enums as names,
// bytes as Buffer). Shared by the server and the client library.

/** gRPC metadata key that carries the namespace of a namespaced request. */
export const NAMESPACE_KEY = 'dray-namespace';
export const DEFAULT_NAMESPACE = 'default';

export interface Timestamp { seconds: number; nanos: number }
export interface FieldMask { paths: string[] }
export type Labels = Record<string, string>;

/** google.protobuf.Any: expanded ({"@type": url, ...fields}) when its type is one of the API's, raw otherwise. */
export interface RawAny { typeUrl: string; value: Buffer }
export type AnyMessage = RawAny | ({ '@type': string } & Record<string, unknown>);

export interface Namespace {
  name: string;
  labels: Labels;
  createdAt?: Timestamp | null;
  updatedAt?: Timestamp | null;
}

export interface ContainerRuntime { name: string; options?: Buffer }

export interface Container {
  id: string;
  labels: Labels;
  image: string;
  runtime: ContainerRuntime | null;
  /** The OCI runtime spec, as JSON bytes. */
  spec: Buffer;
  snapshotKey: string;
  snapshotter: string;
  createdAt?: Timestamp | null;
  updatedAt?: Timestamp | null;
  extensions: Record<string, RawAny>;
  sandbox: string;
}

export interface Lease {
  id: string;
  createdAt?: Timestamp | null;
  labels: Labels;
}

export interface LeaseResource { id: string; type: string }

export interface Envelope {
  timestamp: Timestamp | null;
  namespace: string;
  topic: string;
  event: AnyMessage | null;
}

export interface VersionInfo { version: string; revision: string; api: string }

export function toTimestamp(d: Date): Timestamp {
  const ms = d.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

export function fromTimestamp(t: Timestamp | null | undefined): Date | undefined {
  if (!t) return undefined;
  return new Date(t.seconds * 1000 + Math.floor(t.nanos / 1e6));
}
