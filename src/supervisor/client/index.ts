// The client library of dray-containerd's API (used by drayd and dray-ctr).
export { SupervisorClient, type ClientOptions, type ContainerCreate, type EventStream } from './client.ts';
export { Connection, DEFAULT_ADDRESS, channelTarget } from './connection.ts';
export { SupervisorError, isAlreadyExists, isFailedPrecondition, isInvalidArgument, isNotFound, isUnavailable, isUnimplemented, status } from './errors.ts';
export * from '../api/types.ts';
