// dray network create.
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';

function keyValues(list: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i <= 0 && flag !== 'label') throw new CliError(`invalid argument "${kv}" for "--${flag}" flag: expected key=value`);
    out[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : kv.slice(i + 1);
  }
  return out;
}

export const command: Command = {
  use: 'create [OPTIONS] NETWORK',
  short: 'Create a network',
  flags: [
    { name: 'attachable', type: 'bool', usage: 'Enable manual container attachment' },
    { name: 'driver', short: 'd', type: 'string', default: 'bridge', usage: 'Driver to manage the Network' },
    { name: 'gateway', type: 'list', valueName: 'strings', usage: 'IPv4 or IPv6 Gateway for the master subnet' },
    { name: 'internal', type: 'bool', usage: 'Restrict external access to the network' },
    { name: 'ip-range', type: 'list', valueName: 'strings', usage: 'Allocate container ip from a sub-range' },
    { name: 'ipv6', type: 'bool', usage: 'Enable or disable IPv6 networking' },
    { name: 'label', type: 'list', usage: 'Set metadata on a network' },
    { name: 'opt', short: 'o', type: 'list', valueName: 'map', usage: 'Set driver specific options' },
    { name: 'subnet', type: 'list', valueName: 'strings', usage: 'Subnet in CIDR format that represents a network segment' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(cli, f, args) {
    const subnets = f.list('subnet');
    const gateways = f.list('gateway');
    const ranges = f.list('ip-range');
    if (gateways.length > subnets.length || ranges.length > subnets.length) throw new CliError('every ip-range or gateway must have a corresponding subnet');
    const config = subnets.map((s, i) => ({ Subnet: s, ...(gateways[i] ? { Gateway: gateways[i] } : {}), ...(ranges[i] ? { IPRange: ranges[i] } : {}) }));
    const r = await cli.client().json<{ Id: string; Warning?: string }>('POST', '/networks/create', {
      body: {
        Name: args[0], Driver: f.str('driver'), Internal: f.bool('internal'), Attachable: f.bool('attachable'),
        EnableIPv6: f.changed('ipv6') ? f.bool('ipv6') : undefined,
        IPAM: { Driver: 'default', Config: config, Options: {} }, Options: keyValues(f.list('opt'), 'opt'), Labels: keyValues(f.list('label'), 'label'),
      },
    });
    if (r.Warning) cli.err.write(`${r.Warning}\n`);
    cli.out.write(`${r.Id}\n`);
  },
};
