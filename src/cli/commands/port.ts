// dray port: the container's published ports, or where one private port is published.
import type { ContainerInspect } from '../client/types.ts';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { enc } from '../each.ts';

export const command: Command = {
  use: 'port CONTAINER [PRIVATE_PORT[/PROTO]]',
  short: 'List port mappings or a specific mapping for the container',
  aliases: ['dray container port', 'dray port'],
  flags: [],
  minArgs: 1,
  maxArgs: 2,
  async run(cli, _f, args) {
    const c = await cli.client().json<ContainerInspect>('GET', `/containers/${enc(args[0]!)}/json`);
    const ports = c.NetworkSettings.Ports ?? {};
    const hostAddr = (b: { HostIp: string; HostPort: string }): string => `${b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp || '0.0.0.0'}:${b.HostPort}`;
    if (args[1]) {
      let [port, proto = 'tcp'] = args[1].split('/');
      proto = proto.toLowerCase();
      const key = `${port}/${proto}`;
      const bs = ports[key];
      if (!/^\d+$/.test(port ?? '')) throw new CliError(`Error: invalid port (${port}): strconv.ParseUint: parsing "${port}": invalid syntax`);
      if (!bs || bs.length === 0) throw new CliError(`Error: No public port '${key}' published for ${args[0]}`);
      for (const b of bs) cli.out.write(`${hostAddr(b)}\n`);
      return;
    }
    const keys = Object.keys(ports).sort((a, b) => parseInt(a) - parseInt(b) || a.localeCompare(b));
    for (const k of keys) for (const b of ports[k] ?? []) cli.out.write(`${k} -> ${hostAddr(b)}\n`);
  },
};
