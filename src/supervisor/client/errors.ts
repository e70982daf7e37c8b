// Errors a client of dray-containerd sees: the gRPC status code by name and
// number, and the server's message without grpc-js's "N CODE: " prefix.
import { status, type ServiceError } from '@grpc/grpc-js';

export class SupervisorError extends Error {
  readonly code: status;
  readonly codeName: string;
  constructor(code: status, message: string) {
    super(message);
    this.code = code;
    this.codeName = status[code] ?? String(code);
  }
}

export function fromServiceError(err: ServiceError | Error): SupervisorError {
  const se = err as Partial<ServiceError>;
  if (typeof se.code === 'number') return new SupervisorError(se.code, se.details || err.message);
  return new SupervisorError(status.UNKNOWN, err.message);
}

const is = (code: status) => (err: unknown): boolean => (err as { code?: unknown } | null)?.code === code;
export const isNotFound = is(status.NOT_FOUND);
export const isAlreadyExists = is(status.ALREADY_EXISTS);
export const isInvalidArgument = is(status.INVALID_ARGUMENT);
export const isFailedPrecondition = is(status.FAILED_PRECONDITION);
export const isUnimplemented = is(status.UNIMPLEMENTED);
export const isUnavailable = is(status.UNAVAILABLE);

export { status };
