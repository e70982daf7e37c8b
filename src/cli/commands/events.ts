// dray events / system events: the daemon's event stream, with --since/--until/--filter/--format.
import { jsonStream } from '../client/streams.ts';
import type { EventMessage } from '../client/types.ts';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { filtersJson } from '../filters.ts';
import { execute, template } from '../output.ts';
import { timestampArg } from '../times.ts';

/** Go's RFC3339NanoFixed in the local zone, from nanoseconds. */
export function rfc3339NanoFixed(timeNano: bigint): string {
  const ms = Number(timeNano / 1_000_000n);
  const off = -new Date(ms).getTimezoneOffset();
  const local = new Date(ms + off * 60_000).toISOString().slice(0, 19);
  const frac = String(timeNano % 1_000_000_000n).padStart(9, '0');
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`;
  return `${local}.${frac}${zone}`;
}

export const command: Command = {
  use: 'events [OPTIONS]',
  short: 'Get real time events from the server',
  aliases: ['dray system events', 'dray events'],
  flags: [
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', usage: 'Filter output based on conditions provided' },
    { name: 'format', type: 'string', usage: "Format output using a custom template: 'json' or a Go template" },
    { name: 'since', type: 'string', usage: 'Show all events created since timestamp' },
    { name: 'until', type: 'string', usage: 'Stream events until this timestamp' },
  ],
  maxArgs: 0,
  async run(cli, f) {
    const ts = (n: string): string | undefined => {
      const v = f.str(n);
      if (!v) return undefined;
      try { return timestampArg(v); } catch { throw new CliError(`invalid value for "${n}": ${v}`); }
    };
    const res = await cli.client().request('GET', '/events', { query: { since: ts('since'), until: ts('until'), filters: filtersJson(f.list('filter')) } });
    const fmt = f.str('format');
    const t = fmt ? template(fmt === 'json' ? '{{json .}}' : fmt) : undefined;
    for await (const e of jsonStream<EventMessage>(res)) {
      // timeNano was kept as a string for exactness; JSON output shows it as the number it is.
      if (t) { cli.out.write(`${execute(t, e).replace(/"timeNano":"(\d+)"/g, '"timeNano":$1')}\n`); continue; }
      const nano = e.timeNano ? BigInt(e.timeNano) : BigInt(e.time) * 1_000_000_000n;
      const attrs = e.Actor?.Attributes ?? {};
      const keys = Object.keys(attrs).sort();
      const tail = keys.length ? ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})` : '';
      cli.out.write(`${rfc3339NanoFixed(nano)} ${e.Type} ${e.Action} ${e.Actor?.ID ?? ''}${tail}\n`);
    }
  },
};
