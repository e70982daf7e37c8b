// dray network ls: networks sorted by name, docker's columns.
import type { Command } from '../command.ts';
import { filtersJson } from '../filters.ts';
import { truncateId, writeFormatted } from '../output.ts';
import { goTimeString } from '../times.ts';

interface Network { Name: string; Id: string; Created?: string; Scope?: string; Driver?: string; EnableIPv4?: boolean; EnableIPv6?: boolean; Internal?: boolean; Labels?: Record<string, string> | null }

const DEFAULT = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
const HEADERS = { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' };

/** Go's time.String() with the nanoseconds docker shows for networks. */
function createdAt(s: string | undefined): string {
  if (!s) return '';
  const base = goTimeString(new Date(s));
  const frac = /\.(\d+)/.exec(s)?.[1]?.replace(/0+$/, '');
  return frac ? base.replace(/^(\S+ \S+)/, `$1.${frac}`) : base;
}

export const command: Command = {
  use: 'ls [OPTIONS]',
  short: 'List networks',
  aliases: ['dray network ls', 'dray network list'],
  flags: [
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', usage: 'Provide filter values (e.g. "driver=bridge")' },
    { name: 'format', type: 'string', usage: 'Format output using a custom template' },
    { name: 'no-trunc', type: 'bool', usage: 'Do not truncate the output' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display network IDs' },
  ],
  maxArgs: 0,
  async run(cli, f) {
    const list = await cli.client().json<Network[]>('GET', '/networks', { query: { filters: filtersJson(f.list('filter')) } });
    list.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
    const trunc = !f.bool('no-trunc');
    const rows = list.map((n) => {
      const labels = n.Labels ?? {};
      return {
        CreatedAt: createdAt(n.Created), Driver: n.Driver ?? '', ID: trunc ? truncateId(n.Id) : n.Id,
        IPv4: String(n.EnableIPv4 ?? false), IPv6: String(n.EnableIPv6 ?? false), Internal: String(n.Internal ?? false),
        Labels: Object.keys(labels).map((k) => `${k}=${labels[k]}`).join(','), Name: n.Name, Scope: n.Scope ?? '',
        Label: (k: unknown) => labels[String(k)] ?? '',
      };
    });
    writeFormatted(cli.out, { format: f.str('format'), defaultFormat: DEFAULT, headers: HEADERS, quiet: f.bool('quiet'), rows });
  },
};
