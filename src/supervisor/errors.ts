// Errors of the supervisor's stores and services, each carrying the gRPC
// status code a client receives, so every failure reaches the client with
// the right code and a clear message (never a bare INTERNAL).
import { status } from '@grpc/grpc-js';

export class ApiError extends Error {
  readonly code: status;
  constructor(code: status, message: string) {
    super(message);
    this.code = code;
  }
}

export const invalidArgument = (msg: string): ApiError => new ApiError(status.INVALID_ARGUMENT, msg);
export const notFound = (msg: string): ApiError => new ApiError(status.NOT_FOUND, msg);
export const alreadyExists = (msg: string): ApiError => new ApiError(status.ALREADY_EXISTS, msg);
export const failedPrecondition = (msg: string): ApiError => new ApiError(status.FAILED_PRECONDITION, msg);
export const unimplemented = (msg: string): ApiError => new ApiError(status.UNIMPLEMENTED, msg);

/**
 * The status code for any thrown value: ApiError's own; the images
 * library's typed errors (ContentError, SnapshotError: string codes;
 * ManifestError: bad input); the shim client's; common Node error codes;
 * else INTERNAL.
 */
export function statusOf(err: unknown): status {
  if (err instanceof ApiError) return err.code;
  const e = err as { code?: unknown; name?: unknown } | null;
  if (e?.name === 'ManifestError') return status.INVALID_ARGUMENT;
  // dray-shim: it refused (the process's state does not allow it), or it is gone.
  if (e?.name === 'ShimError') return status.FAILED_PRECONDITION;
  if (e?.name === 'ShimConnectionError') return status.UNAVAILABLE;
  const code = e?.code;
  if (typeof code === 'number' && code >= 0 && code <= 16) return code as status;
  switch (code) {
    case 'not-found': case 'ENOENT': return status.NOT_FOUND;
    case 'already-exists': case 'exists': case 'EEXIST': return status.ALREADY_EXISTS;
    case 'invalid-argument': case 'invalid': case 'EINVAL': return status.INVALID_ARGUMENT;
    case 'failed-precondition': case 'has-children': case 'ENOTEMPTY': return status.FAILED_PRECONDITION;
    case 'unavailable': return status.UNAVAILABLE;
    case 'ENOSPC': case 'EDQUOT': return status.RESOURCE_EXHAUSTED;
    default: return status.INTERNAL;
  }
}
