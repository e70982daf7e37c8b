// dray-ctr events [FILTER…]: one line per event until interrupted.
import type { Envelope } from '../api/types.ts';
import type { SupervisorClient } from '../client/client.ts';
import { time } from './output.ts';

export function eventLine(e: Envelope): string {
  const { ['@type']: _type, ...fields } = (e.event ?? {}) as Record<string, unknown>;
  return `${time(e.timestamp)} ${e.namespace} ${e.topic} ${JSON.stringify(fields)}\n`;
}

export async function eventsCommand(client: SupervisorClient, filters: string[], out: NodeJS.WritableStream): Promise<number> {
  const stream = client.events.subscribe(...filters);
  const stop = (): void => { stream.cancel(); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for await (const e of stream) out.write(eventLine(e));
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}
