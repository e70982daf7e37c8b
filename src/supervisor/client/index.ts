// The client library of dray-containerd's API (used by drayd and dray-ctr).
export { SupervisorClient, type ClientOptions, type ContainerCreate, type EventStream } from './client.ts';
export type { ContentInfo, IngestStatus } from './content.ts';
export type { Image, DescriptorMessage, PullProgress, PullOptions } from './images.ts';
export type { MountMessage, SnapshotInfo } from './snapshots.ts';
export type { TaskProcess, TaskExitInfo, TaskCreate, TaskAttach } from './tasks.ts';
export { Connection, DEFAULT_ADDRESS, channelTarget } from './connection.ts';
export { SupervisorError, isAlreadyExists, isFailedPrecondition, isInvalidArgument, isNotFound, isUnavailable, isUnimplemented, status } from './errors.ts';
export * from '../api/types.ts';
