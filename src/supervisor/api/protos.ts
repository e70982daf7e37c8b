// Loads Dray's supervisor API (api/*.proto) once per process, for the
// server and for clients alike, with one set of conversion options so both
// sides see the same JavaScript shapes (camelCase fields, enums as names,
// int64 as numbers, Any expanded to {"@type": ...} when its type is known).
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';
import { repoPath } from '../../common/paths.ts';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';

const apiDir = repoPath('api/');

export const PROTO_FILES = [
  'dray/types/v1/types.proto',
  'dray/events/v1/events.proto',
  'dray/services/namespaces/v1/namespaces.proto',
  'dray/services/containers/v1/containers.proto',
  'dray/services/content/v1/content.proto',
  'dray/services/images/v1/images.proto',
  'dray/services/snapshots/v1/snapshots.proto',
  'dray/services/tasks/v1/tasks.proto',
  'dray/services/events/v1/events.proto',
  'dray/services/leases/v1/leases.proto',
  'dray/services/version/v1/version.proto',
  'grpc/health/v1/health.proto',
] as const;

export const LOADER_OPTIONS: Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
  json: true,
  includeDirs: [apiDir],
};

/** Full names of the services, as registered on the server. */
export const SERVICES = {
  namespaces: 'dray.services.namespaces.v1.Namespaces',
  containers: 'dray.services.containers.v1.Containers',
  content: 'dray.services.content.v1.Content',
  images: 'dray.services.images.v1.Images',
  snapshots: 'dray.services.snapshots.v1.Snapshots',
  tasks: 'dray.services.tasks.v1.Tasks',
  events: 'dray.services.events.v1.Events',
  leases: 'dray.services.leases.v1.Leases',
  version: 'dray.services.version.v1.Version',
  health: 'grpc.health.v1.Health',
} as const;
export type ServiceKey = keyof typeof SERVICES;

let definition: PackageDefinition | undefined;
let grpcObject: GrpcObject | undefined;

export function packageDefinition(): PackageDefinition {
  definition ??= loadSync([...PROTO_FILES], LOADER_OPTIONS);
  return definition;
}

function lookup(fullName: string): ServiceClientConstructor {
  grpcObject ??= loadPackageDefinition(packageDefinition());
  let node: unknown = grpcObject;
  for (const part of fullName.split('.')) node = (node as Record<string, unknown>)[part];
  if (typeof node !== 'function') throw new Error(`no service ${fullName} in the API definitions`);
  return node as ServiceClientConstructor;
}

export function serviceDefinition(key: ServiceKey): ServiceDefinition {
  return lookup(SERVICES[key]).service;
}

export function clientConstructor(key: ServiceKey): ServiceClientConstructor {
  return lookup(SERVICES[key]);
}

/** The type URL under which an event payload of dray.events.v1 travels in an Any. */
export function eventTypeUrl(message: string): string {
  return `type.googleapis.com/dray.events.v1.${message}`;
}
