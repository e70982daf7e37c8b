// dray ps / dray container ls: docker's columns, -q, --no-trunc, --format, -s.
import type { ContainerSummary, Port } from '../client/types.ts';
import type { Command } from '../command.ts';
import { loadConfig } from '../config.ts';
import { filtersJson } from '../filters.ts';
import { humanSize, timeAgo } from '../format/units.ts';
import { ellipsis, goQuote, truncateId, writeFormatted } from '../output.ts';
import { familiarString, parseRef } from '../reference.ts';
import { goTimeString } from '../times.ts';

const DEFAULT = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

export const HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
  State: 'STATE', Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS', Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES', Networks: 'NETWORKS', Platform: 'PLATFORM',
};

export const command: Command = {
  use: 'ps [OPTIONS]',
  short: 'List containers',
  aliases: ['dray container ls', 'dray container list', 'dray container ps', 'dray ps'],
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Show all containers (default shows just running)' },
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', usage: 'Filter output based on conditions provided' },
    { name: 'format', type: 'string', usage: "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'" },
    { name: 'last', short: 'n', type: 'int', default: -1, usage: 'Show n last created containers (includes all states)' },
    { name: 'latest', short: 'l', type: 'bool', usage: 'Show the latest created container (includes all states)' },
    { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display container IDs' },
    { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes' },
  ],
  maxArgs: 0,
  async run(cli, f) {
    let format = f.str('format');
    if (!format && !f.bool('quiet')) format = loadConfig(cli.configDir).psFormat ?? '';
    const wantSize = f.bool('size') || /\.Size\b/.test(format);
    if (f.bool('size') && !f.bool('quiet') && (!format || format === 'table')) format = `${DEFAULT}\t{{.Size}}`;
    const last = f.bool('latest') ? 1 : f.int('last');
    const list = await cli.client().json<ContainerSummary[]>('GET', '/containers/json', {
      query: { all: f.bool('all') || undefined, limit: last > 0 ? last : undefined, size: wantSize || undefined, filters: filtersJson(f.list('filter')) },
    });
    const trunc = !f.bool('no-trunc');
    writeFormatted(cli.out, {
      format, defaultFormat: DEFAULT, headers: HEADERS, quiet: f.bool('quiet'), rows: list.map((c) => containerRow(c, trunc)),
    });
  },
};

/** The fields docker's ContainerContext offers to templates. */
export function containerRow(c: ContainerSummary, trunc: boolean): Record<string, unknown> {
  // Fields a daemon leaves out (drayd grows endpoint by endpoint) print empty, never crash.
  const names = (c.Names ?? []).map((n) => n.replace(/^\//, ''));
  const command = c.Command ?? '';
  let shownNames = names;
  if (trunc) { const own = names.find((n) => !n.includes('/')); if (own !== undefined) shownNames = [own]; }
  const mounts = (c.Mounts ?? []).map((m) => { const n = m.Name || m.Source || ''; return trunc ? ellipsis(n, 15) : n; });
  const labels = c.Labels ?? {};
  const created = new Date((c.Created ?? 0) * 1000);
  return {
    Command: goQuote(trunc ? ellipsis(command, 20) : command),
    CreatedAt: goTimeString(created),
    ID: trunc ? truncateId(c.Id ?? '') : c.Id ?? '',
    Image: imageColumn(c, trunc),
    Labels: Object.keys(labels).map((k) => `${k}=${labels[k]}`).join(','),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => (m as { Driver?: string }).Driver === 'local').length),
    Mounts: mounts.join(','),
    Names: shownNames.join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).sort().join(','),
    Platform: null,
    Ports: displayablePorts(c.Ports ?? []),
    RunningFor: timeAgo(created),
    Size: c.SizeRootFs && c.SizeRootFs > 0 ? `${humanSize(c.SizeRw ?? 0)} (virtual ${humanSize(c.SizeRootFs)})` : humanSize(c.SizeRw ?? 0),
    State: c.State ?? '',
    Status: c.Status ?? '',
    // {{.Label "key"}} as docker's ContainerContext has it (JSON leaves functions out).
    Label: (key: unknown) => labels[String(key)] ?? '',
  };
}

function imageColumn(c: ContainerSummary, trunc: boolean): string {
  if (!c.Image) return '<no image>';
  if (!trunc) return c.Image;
  if (truncateId(c.ImageID ?? '') === truncateId(c.Image)) return truncateId(c.Image);
  try {
    const r = parseRef(c.Image);
    return familiarString({ ...r, digest: undefined, tag: r.tag });
  } catch {
    return c.Image;
  }
}

/** docker's DisplayablePorts: consecutive ports grouped into ranges, host mappings after. */
export function displayablePorts(input: Port[]): string {
  const ports = [...input].sort((a, b) =>
    a.PrivatePort - b.PrivatePort || cmp(a.IP ?? '', b.IP ?? '') || (a.PublicPort ?? 0) - (b.PublicPort ?? 0) || cmp(a.Type, b.Type));
  const groups = new Map<string, { first: number; last: number }>();
  const order: string[] = [];
  const result: string[] = [];
  const mappings: string[] = [];
  for (const p of ports) {
    const cur = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== cur) {
        const host = p.IP.includes(':') ? `[${p.IP}]` : p.IP;
        mappings.push(`${host}:${p.PublicPort ?? 0}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) { groups.set(key, { first: cur, last: cur }); order.push(key); continue; }
    if (cur === g.last + 1) { g.last = cur; continue; }
    result.push(formGroup(key, g.first, g.last));
    groups.set(key, { first: cur, last: cur });
  }
  for (const k of order) { const g = groups.get(k)!; result.push(formGroup(k, g.first, g.last)); }
  return [...result, ...mappings].join(', ');
}

function formGroup(key: string, first: number, last: number): string {
  const parts = key.split('/');
  let type = parts[0]!;
  let ip = '';
  if (parts.length > 1) { ip = parts[0]!; type = parts[1]!; }
  let g = String(first);
  if (first !== last) g = `${g}-${last}`;
  if (ip) g = `${ip}:${g}->${g}`;
  return `${g}/${type}`;
}

function cmp(a: string, b: string): number { return a < b ? -1 : a > b ? 1 : 0; }
