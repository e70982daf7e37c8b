// grpc.health.v1.Health: SERVING while the daemon serves, NOT_SERVING once
// it shuts down; Watch streams the changes.
import type { ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { unary } from '../rpc.ts';
import { notFound } from '../errors.ts';
import type { ServiceDeps } from './deps.ts';

export type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export class HealthState {
  private serving = true;
  private readonly watchers = new Set<(s: ServingStatus) => void>();
  /** Full names of the services ("" is the whole server). */
  readonly services: Set<string>;

  constructor(services: Iterable<string>) {
    this.services = new Set(['', ...services]);
  }

  statusOf(service: string): ServingStatus | undefined {
    if (!this.services.has(service)) return undefined;
    return this.serving ? 'SERVING' : 'NOT_SERVING';
  }

  shutdown(): void {
    this.serving = false;
    for (const w of this.watchers) w('NOT_SERVING');
  }

  watch(fn: (s: ServingStatus) => void): () => void {
    this.watchers.add(fn);
    return () => { this.watchers.delete(fn); };
  }
}

export function healthService(d: ServiceDeps, state: HealthState): UntypedServiceImplementation {
  return {
    Check: unary(d.rpc, 'health.Check', (req: { service: string }) => {
      const s = state.statusOf(req.service);
      if (!s) throw notFound(`unknown service ${JSON.stringify(req.service)}`);
      return { status: s };
    }),
    Watch: (call: ServerWritableStream<{ service: string }, { status: ServingStatus }>) => {
      call.write({ status: state.statusOf(call.request.service) ?? 'SERVICE_UNKNOWN' });
      if (!state.services.has(call.request.service)) return;
      const stop = state.watch((s) => {
        call.write({ status: s });
        if (s === 'NOT_SERVING') call.end();
      });
      call.on('cancelled', stop);
      call.on('close', stop);
    },
  };
}
