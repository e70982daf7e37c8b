// dray system df: space used by images, containers, volumes and build cache (-v: per object).
import type { ContainerSummary, ImageSummary } from '../client/types.ts';
import type { Command } from '../command.ts';
import { humanSize } from '../format/units.ts';
import { humanSize4, writeFormatted } from '../output.ts';
import { containerRow } from './ps.ts';
import { imageRows } from './images.ts';

interface Volume { Name: string; Driver?: string; UsageData?: { Size: number; RefCount: number } | null }
interface BuildCache { ID: string; Type?: string; Size: number; CreatedAt?: string; LastUsedAt?: string; UsageCount?: number; InUse: boolean; Shared: boolean }
interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: ContainerSummary[] | null;
  Volumes?: Volume[] | null;
  BuildCache?: BuildCache[] | null;
}

const DEFAULT = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

function pct(reclaimable: number, total: number): string {
  return total > 0 ? `${humanSize4(reclaimable)} (${Math.trunc((reclaimable * 100) / total)}%)` : humanSize4(reclaimable);
}

export function summaryRows(du: DiskUsage): Record<string, string>[] {
  const images = du.Images ?? [];
  const containers = du.Containers ?? [];
  const volumes = du.Volumes ?? [];
  const cache = du.BuildCache ?? [];
  const imgSize = du.LayersSize ?? 0;
  let used = 0;
  for (const i of images) if (i.Containers !== 0 && i.SharedSize !== -1) used += (i.VirtualSize ?? i.Size) - i.SharedSize;
  const active = (c: ContainerSummary): boolean => ['running', 'paused', 'restarting'].includes(c.State);
  const cSize = containers.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const cRecl = containers.filter((c) => !active(c)).reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const vSize = volumes.reduce((a, v) => a + (v.UsageData && v.UsageData.Size !== -1 ? v.UsageData.Size : 0), 0);
  const vRecl = volumes.filter((v) => v.UsageData?.RefCount === 0).reduce((a, v) => a + (v.UsageData!.Size !== -1 ? v.UsageData!.Size : 0), 0);
  const bSize = cache.reduce((a, b) => a + b.Size, 0);
  const bRecl = cache.filter((b) => !b.InUse && !b.Shared).reduce((a, b) => a + b.Size, 0);
  return [
    { Type: 'Images', TotalCount: String(images.length), Active: String(images.filter((i) => i.Containers > 0).length), Size: humanSize4(imgSize), Reclaimable: pct(imgSize - used, imgSize) },
    { Type: 'Containers', TotalCount: String(containers.length), Active: String(containers.filter(active).length), Size: humanSize4(cSize), Reclaimable: pct(cRecl, cSize) },
    { Type: 'Local Volumes', TotalCount: String(volumes.length), Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), Size: humanSize4(vSize), Reclaimable: pct(vRecl, vSize) },
    { Type: 'Build Cache', TotalCount: String(cache.length), Active: String(cache.filter((b) => b.InUse).length), Size: humanSize4(bSize), Reclaimable: humanSize4(bRecl) },
  ];
}

export const command: Command = {
  use: 'df [OPTIONS]',
  short: 'Show docker disk usage',
  flags: [
    { name: 'format', type: 'string', usage: 'Format output using a custom template' },
    { name: 'verbose', short: 'v', type: 'bool', usage: 'Show detailed information on space usage' },
  ],
  maxArgs: 0,
  async run(cli, f) {
    const du = await cli.client().json<DiskUsage>('GET', '/system/df');
    if (!f.bool('verbose')) {
      writeFormatted(cli.out, { format: f.str('format'), defaultFormat: DEFAULT, headers: HEADERS, rows: summaryRows(du) });
      return;
    }
    const out = cli.out;
    out.write('Images space usage:\n\n');
    writeFormatted(out, {
      format: '', defaultFormat: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}',
      headers: { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS' },
      rows: imageRows(du.Images ?? [], true, false).map((r) => ({ ...r, UniqueSize: r['UniqueSize'] === 'N/A' ? 'N/A' : r['UniqueSize'] })),
    });
    out.write('\nContainers space usage:\n\n');
    writeFormatted(out, {
      format: '', defaultFormat: 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}',
      headers: { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE', RunningFor: 'CREATED', Status: 'STATUS', Names: 'NAMES' },
      rows: (du.Containers ?? []).map((c) => ({ ...containerRow(c, true), Size: humanSize(c.SizeRw ?? 0) })),
    });
    out.write('\nLocal Volumes space usage:\n\n');
    writeFormatted(out, {
      format: '', defaultFormat: 'table {{.Name}}\t{{.Links}}\t{{.Size}}', headers: { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' },
      rows: (du.Volumes ?? []).map((v) => ({ Name: v.Name, Links: String(v.UsageData?.RefCount ?? 'N/A'), Size: v.UsageData && v.UsageData.Size !== -1 ? humanSize(v.UsageData.Size) : 'N/A' })),
    });
    const cache = du.BuildCache ?? [];
    out.write(`\nBuild cache usage: ${humanSize(cache.reduce((a, b) => a + b.Size, 0))}\n\n`);
    writeFormatted(out, {
      format: '', defaultFormat: 'table {{.ID}}\t{{.Type}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}',
      headers: { ID: 'CACHE ID', Type: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' },
      rows: cache.map((b) => ({ ID: b.ID.slice(0, 12), Type: b.Type ?? '', Size: humanSize(b.Size), CreatedSince: b.CreatedAt ?? '', LastUsedSince: b.LastUsedAt ?? '', UsageCount: String(b.UsageCount ?? 0), Shared: String(b.Shared) })),
    });
  },
};
