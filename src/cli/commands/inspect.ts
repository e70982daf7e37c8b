// dray inspect: containers or images (--type narrows), as JSON or through --format.
import { DaemonError } from '../client/client.ts';
import type { Command } from '../command.ts';
import { CliError, StatusError } from '../command.ts';
import { enc } from '../each.ts';
import { writeInspect } from '../output.ts';
import type { Cli } from '../command.ts';

export const FORMAT_FLAG = { name: 'format', short: 'f', type: 'string', usage: "Format output using a custom template: 'json' or a Go template" } as const;

export type Kind = 'container' | 'image' | 'network' | 'volume';

async function fetchOne(cli: Cli, kind: Kind, name: string, size: boolean): Promise<unknown> {
  if (kind === 'container') return cli.client().json('GET', `/containers/${enc(name)}/json`, { query: { size: size || undefined } });
  if (kind === 'network') return cli.client().json('GET', `/networks/${enc(name)}`);
  if (kind === 'volume') return cli.client().json('GET', `/volumes/${enc(name)}`);
  return cli.client().json('GET', `/images/${encodeURIComponent(name)}/json`);
}

/** Inspects each name as one of kinds (first that exists); prints them together, errors after. */
export async function inspectAll(cli: Cli, kinds: Kind[], names: string[], format: string, size: boolean): Promise<number> {
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const n of names) {
    let got: unknown;
    for (const k of kinds) {
      try { got = await fetchOne(cli, k, n, size); break; } catch (e) {
        if (!(e instanceof DaemonError) || e.status !== 404) throw e;
        // A typed inspect reports the daemon's own message, the generic one docker's "No such object".
        if (kinds.length === 1) errors.push(`Error response from daemon: ${e.message}`);
      }
    }
    if (got !== undefined) found.push(got);
    else if (kinds.length > 1) errors.push(`Error: No such object: ${n}`);
  }
  if (found.length || !format) writeInspect(cli.out, found, format);
  if (errors.length) throw new StatusError(errors.join('\n'), 1);
  return 0;
}

export const command: Command = {
  use: 'inspect [OPTIONS] NAME|ID [NAME|ID...]',
  short: 'Return low-level information on Dray objects',
  flags: [
    FORMAT_FLAG,
    { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes if the type is container' },
    { name: 'type', type: 'string', usage: 'Return JSON for specified type' },
  ],
  minArgs: 1,
  async run(cli, f, args) {
    const t = f.str('type');
    if (t && !['container', 'image', 'network', 'volume'].includes(t)) throw new CliError(`"${t}" is not a valid value for --type`);
    return inspectAll(cli, t ? [t as Kind] : ['container', 'image', 'network', 'volume'], args, f.str('format'), f.bool('size'));
  },
};

/** `dray <kind> inspect`: one kind only, the daemon's own error for a missing one. */
export function typedInspect(kind: Kind, extraFlags: Command['flags'] = []): Command {
  const upper = kind.toUpperCase();
  return {
    use: `inspect [OPTIONS] ${upper} [${upper}...]`,
    short: `Display detailed information on one or more ${kind}s`,
    flags: [FORMAT_FLAG, ...extraFlags],
    minArgs: 1,
    run: (cli, f, args) => inspectAll(cli, [kind], args, f.str('format'), kind === 'container' && f.bool('size')),
  };
}
