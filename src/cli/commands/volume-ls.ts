// dray volume ls: volumes sorted by name, docker's columns.
import type { Command } from '../command.ts';
import { filtersJson } from '../filters.ts';
import { humanSize } from '../format/units.ts';
import { writeFormatted } from '../output.ts';

export interface Volume { Name: string; Driver?: string; Mountpoint?: string; Labels?: Record<string, string> | null; Scope?: string; UsageData?: { Size: number; RefCount: number } | null }

const DEFAULT = 'table {{.Driver}}\t{{.Name}}';
const HEADERS = { Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE', Availability: 'AVAILABILITY', Group: 'GROUP', Status: 'STATUS' };

export const command: Command = {
  use: 'ls [OPTIONS]',
  short: 'List volumes',
  aliases: ['dray volume ls', 'dray volume list'],
  flags: [
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', usage: 'Provide filter values (e.g. "dangling=true")' },
    { name: 'format', type: 'string', usage: 'Format output using a custom template' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display volume names' },
  ],
  maxArgs: 0,
  async run(cli, f) {
    const r = await cli.client().json<{ Volumes: Volume[] | null; Warnings?: string[] | null }>('GET', '/volumes', { query: { filters: filtersJson(f.list('filter')) } });
    const list = [...(r.Volumes ?? [])].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
    const rows = list.map((v) => {
      const labels = v.Labels ?? {};
      return {
        Availability: 'N/A', Driver: v.Driver ?? '', Group: 'N/A', Labels: Object.keys(labels).map((k) => `${k}=${labels[k]}`).join(','),
        Links: v.UsageData ? String(v.UsageData.RefCount) : 'N/A', Mountpoint: v.Mountpoint ?? '', Name: v.Name, Scope: v.Scope ?? '',
        Size: v.UsageData && v.UsageData.Size >= 0 ? humanSize(v.UsageData.Size) : 'N/A', Status: 'N/A',
        Label: (k: unknown) => labels[String(k)] ?? '',
      };
    });
    writeFormatted(cli.out, { format: f.str('format'), defaultFormat: DEFAULT, headers: HEADERS, quiet: f.bool('quiet'), quietFormat: '{{.Name}}', rows });
    for (const w of r.Warnings ?? []) cli.err.write(`${w}\n`);
  },
};
