// Glue between grpc-js handlers and the services: promise-returning
// handlers, the namespace of each request, and every thrown error turned
// into a gRPC status with a clear message.
import { status, type Metadata, type MethodDefinition, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type ServiceDefinition, type UntypedServiceImplementation, type ServerErrorResponse } from '@grpc/grpc-js';
import type { Logger } from '../common/log.ts';
import { ApiError, failedPrecondition, invalidArgument, statusOf } from './errors.ts';
import { validateIdentifier } from './identifiers.ts';
import { NAMESPACE_KEY } from './api/types.ts';

export interface RpcContext {
  log: Logger;
  /** Whether a namespace exists (the namespace store's check). */
  namespaceExists(name: string): boolean;
  /** Notes a request (the idle memory trim waits for a quiet period). */
  touch?: () => void;
}

/** What a handler sees of its call. */
export interface Call {
  metadata: Metadata;
  /** The request's namespace: required, valid and existing, else an error. */
  namespace(): string;
  /** Aborted when the client cancels or disconnects. */
  signal: AbortSignal;
}

export function namespaceFrom(ctx: RpcContext, md: Metadata): string {
  const values = md.get(NAMESPACE_KEY);
  if (values.length === 0 || values[0] === '') throw invalidArgument(`namespace is required: set the "${NAMESPACE_KEY}" request metadata`);
  if (values.length > 1) throw invalidArgument(`more than one "${NAMESPACE_KEY}" in the request metadata`);
  const ns = validateIdentifier('namespace', String(values[0]));
  if (!ctx.namespaceExists(ns)) throw failedPrecondition(`namespace ${JSON.stringify(ns)} does not exist (create it first)`);
  return ns;
}

function toServiceError(err: unknown): Partial<ServerErrorResponse> {
  const code = statusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  return { code, details: message, message };
}

function makeCall(ctx: RpcContext, md: Metadata, signal: AbortSignal): Call {
  let ns: string | undefined;
  return { metadata: md, signal, namespace: () => (ns ??= namespaceFrom(ctx, md)) };
}

function logFailure(ctx: RpcContext, method: string, err: unknown): void {
  const code = statusOf(err);
  if (code === status.INTERNAL || code === status.UNKNOWN) ctx.log.error('request failed', { method, error: String((err as Error)?.stack ?? err) });
  else ctx.log.debug('request refused', { method, code: status[code], error: (err as Error)?.message });
}

export type UnaryFn = (req: never, call: Call) => unknown;
/** write resolves at once, or once the stream drains when the client reads slower than the handler writes. */
export type StreamFn = (req: never, call: Call, write: (msg: unknown) => Promise<void>) => Promise<void> | void;

/** A unary handler from an (async) function. */
export function unary(ctx: RpcContext, method: string, fn: UnaryFn) {
  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>): void => {
    const ac = new AbortController();
    call.on('cancelled', () => { ac.abort(); });
    ctx.touch?.();
    ctx.log.debug('request', { method });
    Promise.resolve()
      .then(() => fn(call.request as never, makeCall(ctx, call.metadata, ac.signal)))
      .then((res) => { callback(null, res ?? {}); }, (err: unknown) => {
        logFailure(ctx, method, err);
        callback(toServiceError(err));
      });
  };
}

/**
 * A server-streaming handler: fn writes messages and resolves when the
 * stream is complete; it must watch call.signal to stop early when the
 * client goes away.
 */
export function serverStream(ctx: RpcContext, method: string, fn: StreamFn) {
  return (call: ServerWritableStream<unknown, unknown>): void => {
    const ac = new AbortController();
    const abort = (): void => { ac.abort(); };
    call.on('cancelled', abort);
    call.on('close', abort);
    call.on('error', abort);
    ctx.touch?.();
    ctx.log.debug('stream', { method });
    const write = (msg: unknown): Promise<void> => {
      if (ac.signal.aborted || call.write(msg)) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = (): void => { call.off('drain', done); ac.signal.removeEventListener('abort', done); resolve(); };
        call.once('drain', done);
        ac.signal.addEventListener('abort', done);
      });
    };
    Promise.resolve()
      .then(() => fn(call.request as never, makeCall(ctx, call.metadata, ac.signal), write))
      .then(() => { if (!ac.signal.aborted) call.end(); }, (err: unknown) => {
        logFailure(ctx, method, err);
        if (!ac.signal.aborted) call.emit('error', toServiceError(err));
      });
  };
}

/**
 * Every method of a service answers UNIMPLEMENTED with why: used for the
 * services whose library is not wired in yet, so clients get a clear
 * status, never a silent no-op.
 */
export function unimplementedService(service: ServiceDefinition, why: string): UntypedServiceImplementation {
  const impl: UntypedServiceImplementation = {};
  for (const [name, def] of Object.entries(service) as [string, MethodDefinition<unknown, unknown>][]) {
    const err = toServiceError(new ApiError(status.UNIMPLEMENTED, `${def.path.slice(1)}: ${why}`));
    if (!def.requestStream && !def.responseStream) {
      impl[name] = (_call: unknown, cb: sendUnaryData<unknown>) => { cb(err); };
    } else {
      impl[name] = (call: { emit(ev: 'error', e: unknown): void }) => { call.emit('error', err); };
    }
  }
  return impl;
}
