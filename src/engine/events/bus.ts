// Docker's event stream: every container/image/... action as a message, kept
// in a bounded history for `since`, fanned out to live subscribers.
import { EventEmitter } from 'node:events';

export interface EngineEvent {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

const HISTORY = 1024;

export class EventBus {
  readonly #history: EngineEvent[] = [];
  readonly #emitter = new EventEmitter<{ event: [EngineEvent] }>();

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  publish(type: string, action: string, id: string, attributes: Record<string, string> = {}): void {
    const nowNs = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
    const ev: EngineEvent = {
      Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local',
      time: Number(nowNs / 1_000_000_000n), timeNano: Number(nowNs),
    };
    if (type === 'container' || type === 'image') {
      // the pre-1.22 fields the CLI still prints
      ev.status = action;
      ev.id = id;
      if (type === 'container' && attributes['image']) ev.from = attributes['image'];
    }
    this.#history.push(ev);
    if (this.#history.length > HISTORY) this.#history.shift();
    this.#emitter.emit('event', ev);
  }

  history(): readonly EngineEvent[] {
    return this.#history;
  }

  subscribe(fn: (ev: EngineEvent) => void): () => void {
    this.#emitter.on('event', fn);
    return () => this.#emitter.off('event', fn);
  }
}
