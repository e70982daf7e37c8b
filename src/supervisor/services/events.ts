// dray.services.events.v1.Events over the event bus. Subscribe is not
// namespaced: a subscriber sees every namespace unless it filters on
// "namespace".
import type { ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { Metadata, status } from '@grpc/grpc-js';
import type { AnyMessage, Envelope } from '../api/types.ts';
import { toTimestamp } from '../api/types.ts';
import { ApiError, failedPrecondition, invalidArgument } from '../errors.ts';
import { validateTopic } from '../events/bus.ts';
import { parseFilters } from '../filters.ts';
import { validateIdentifier } from '../identifiers.ts';
import { unary } from '../rpc.ts';
import type { ServiceDeps } from './deps.ts';

/** A subscriber further behind than this is cut off rather than buffered without bound. */
const MAX_BUFFERED_EVENTS = 10_000;

function checkEvent(ev: AnyMessage | null | undefined): AnyMessage {
  if (!ev) throw invalidArgument('event must be set');
  const url = '@type' in ev ? ev['@type'] : ev.typeUrl;
  if (!url) throw invalidArgument('event must carry a type URL');
  return ev;
}

export function eventsService(d: ServiceDeps): UntypedServiceImplementation {
  const m = (name: string) => `events.${name}`;
  return {
    Publish: unary(d.rpc, m('Publish'), (req: { topic: string; event: AnyMessage | null }, call) => {
      const ns = call.namespace();
      d.bus.forward({ timestamp: toTimestamp(new Date()), namespace: ns, topic: validateTopic(req.topic), event: checkEvent(req.event) });
      return {};
    }),
    Forward: unary(d.rpc, m('Forward'), (req: { envelope: Envelope | null }) => {
      const env = req.envelope;
      if (!env) throw invalidArgument('envelope must be set');
      const ns = validateIdentifier('namespace', env.namespace);
      if (!d.metadata.namespaces.exists(ns)) throw failedPrecondition(`namespace ${JSON.stringify(ns)} does not exist`);
      d.bus.forward({ timestamp: env.timestamp ?? toTimestamp(new Date()), namespace: ns, topic: validateTopic(env.topic), event: checkEvent(env.event) });
      return {};
    }),
    // Written by hand rather than with serverStream: it lives until the client leaves.
    Subscribe: (call: ServerWritableStream<{ filters: string[] }, Envelope>) => {
      let filters;
      try {
        filters = parseFilters(call.request.filters);
      } catch (err) {
        call.emit('error', { code: (err as ApiError).code ?? status.INVALID_ARGUMENT, details: (err as Error).message });
        return;
      }
      let pending = 0;
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        unsubscribe();
        d.log.debug('event subscriber left', { subscribers: d.bus.subscriberCount });
      };
      const unsubscribe = d.bus.subscribe(filters, (env) => {
        if (done) return;
        if (pending >= MAX_BUFFERED_EVENTS) {
          finish();
          call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: `event subscriber fell more than ${MAX_BUFFERED_EVENTS} events behind` });
          return;
        }
        pending++;
        call.write(env, () => { pending--; });
      }, () => {
        // The daemon is stopping: end the stream cleanly so clients see an end, not an error.
        if (!done) { done = true; call.end(); }
      });
      call.on('cancelled', finish);
      call.on('close', finish);
      call.on('error', finish);
      // Headers now tell the client it is subscribed (EventStream.ready), so it can act knowing no event is missed.
      call.sendMetadata(new Metadata());
      d.log.debug('event subscriber joined', { filters: call.request.filters.join(' | '), subscribers: d.bus.subscriberCount });
    },
  };
}
