// dray network connect / disconnect.
import type { Command } from '../command.ts';
import { enc } from '../each.ts';

export const command: Command = {
  use: 'connect [OPTIONS] NETWORK CONTAINER',
  short: 'Connect a container to a network',
  flags: [
    { name: 'alias', type: 'list', valueName: 'strings', usage: 'Add network-scoped alias for the container' },
    { name: 'ip', type: 'string', usage: 'IPv4 address (e.g., "172.30.100.104")' },
    { name: 'ip6', type: 'string', usage: 'IPv6 address (e.g., "2001:db8::33")' },
  ],
  minArgs: 2,
  maxArgs: 2,
  async run(cli, f, args) {
    const ipam = f.str('ip') || f.str('ip6') ? { IPv4Address: f.str('ip') || undefined, IPv6Address: f.str('ip6') || undefined } : undefined;
    await cli.client().call('POST', `/networks/${enc(args[0]!)}/connect`, {
      body: { Container: args[1], EndpointConfig: { Aliases: f.list('alias').length ? f.list('alias') : undefined, IPAMConfig: ipam } },
    });
  },
};
