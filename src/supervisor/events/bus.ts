// The in-process event bus: services publish envelopes, subscribers (the
// events service's streams, internal watchers) receive the ones their
// filters match. Delivery is synchronous and never blocks a publisher: a
// subscriber that throws is dropped, not the publisher.
import type { Envelope } from '../api/types.ts';
import { toTimestamp } from '../api/types.ts';
import { eventTypeUrl } from '../api/protos.ts';
import { invalidArgument } from '../errors.ts';
import { matchAny, objectField, type Filter } from '../filters.ts';

export type Subscriber = (env: Envelope) => void;

const TOPIC = /^(\/[A-Za-z0-9_.-]+)+$/;

export function validateTopic(topic: string): string {
  if (!TOPIC.test(topic)) throw invalidArgument(`event topic ${JSON.stringify(topic)} must be a path like /tasks/exit`);
  return topic;
}

/** Fields a filter sees: topic, namespace, event.<field>. */
export function envelopeField(env: Envelope, path: readonly string[]): string | undefined {
  const [head, ...rest] = path;
  if (rest.length === 0 && (head === 'topic' || head === 'namespace')) return env[head];
  if (head === 'event' && rest.length > 0) return objectField(env.event, rest);
  return undefined;
}

export class EventBus {
  private readonly subscribers = new Set<{ filters: Filter[]; fn: Subscriber; onClose: (() => void) | undefined }>();
  private closed = false;

  /** Publishes a dray.events.v1 payload under topic. */
  publish(namespace: string, topic: string, type: string, payload: Record<string, unknown>): void {
    this.forward({ timestamp: toTimestamp(new Date()), namespace, topic, event: { '@type': eventTypeUrl(type), ...payload } });
  }

  /** Delivers a complete envelope (publish, or one forwarded by a client). */
  forward(env: Envelope): void {
    validateTopic(env.topic);
    for (const sub of [...this.subscribers]) {
      if (!matchAny(sub.filters, (p) => envelopeField(env, p))) continue;
      try {
        sub.fn(env);
      } catch {
        this.subscribers.delete(sub);
      }
    }
  }

  /** Returns the function that ends the subscription; onClose runs if the bus closes first. */
  subscribe(filters: Filter[], fn: Subscriber, onClose?: () => void): () => void {
    const sub = { filters, fn, onClose };
    if (this.closed) { onClose?.(); return () => {}; }
    this.subscribers.add(sub);
    return () => { this.subscribers.delete(sub); };
  }

  /** Ends every subscription (the daemon is stopping). */
  close(): void {
    this.closed = true;
    const subs = [...this.subscribers];
    this.subscribers.clear();
    for (const s of subs) s.onClose?.();
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }
}
