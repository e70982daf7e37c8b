// dray images / dray image ls: one row per repository tag, docker's columns.
import type { ImageSummary } from '../client/types.ts';
import type { Command } from '../command.ts';
import { loadConfig } from '../config.ts';
import { filtersJson } from '../filters.ts';
import { humanSize, timeAgo } from '../format/units.ts';
import { humanSize4, truncateId, writeFormatted } from '../output.ts';
import { familiarName, parseRef } from '../reference.ts';
import { goTimeString } from '../times.ts';

const DEFAULT = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
const WITH_DIGESTS = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
const HEADERS: Record<string, string> = {
  Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
  Size: 'SIZE', Containers: 'CONTAINERS', VirtualSize: 'VIRTUAL SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE',
};

export const command: Command = {
  use: 'images [OPTIONS] [REPOSITORY[:TAG]]',
  short: 'List images',
  aliases: ['dray image ls', 'dray image list', 'dray images'],
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Show all images (default hides intermediate images)' },
    { name: 'digests', type: 'bool', usage: 'Show digests' },
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', usage: 'Filter output based on conditions provided' },
    { name: 'format', type: 'string', usage: "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'" },
    { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Only show image IDs' },
  ],
  maxArgs: 1,
  async run(cli, f, args) {
    const filters = [...f.list('filter')];
    if (args[0]) filters.push(`reference=${args[0]}`);
    const list = await cli.client().json<ImageSummary[]>('GET', '/images/json', {
      query: { all: f.bool('all') || undefined, filters: filtersJson(filters) },
    });
    let format = f.str('format');
    if (!format && !f.bool('quiet')) format = loadConfig(cli.configDir).imagesFormat ?? '';
    const digests = f.bool('digests');
    writeFormatted(cli.out, {
      format, defaultFormat: digests ? WITH_DIGESTS : DEFAULT, headers: HEADERS, quiet: f.bool('quiet'),
      rows: imageRows(list, !f.bool('no-trunc'), digests),
    });
  },
};

function familiar(ref: string): { repo: string; tag?: string; digest?: string } | undefined {
  try {
    const r = parseRef(ref);
    return { repo: familiarName(r), tag: r.tag, digest: r.digest };
  } catch {
    return undefined;
  }
}

export function imageRows(list: ImageSummary[], trunc: boolean, showDigests: boolean): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const img of list) {
    const tags = new Map<string, string[]>();
    const digs = new Map<string, string[]>();
    for (const t of img.RepoTags ?? []) {
      const r = familiar(t);
      if (r?.tag !== undefined && t !== '<none>:<none>') (tags.get(r.repo) ?? tags.set(r.repo, []).get(r.repo)!).push(r.tag);
    }
    for (const d of img.RepoDigests ?? []) {
      const r = familiar(d);
      if (r?.digest !== undefined && d !== '<none>@<none>') (digs.get(r.repo) ?? digs.set(r.repo, []).get(r.repo)!).push(r.digest);
    }
    const emptyTags = tags.size === 0 && digs.size === 0;
    for (const [repo, ts] of tags) {
      const ds = showDigests ? digs.get(repo) ?? [] : [];
      digs.delete(repo);
      for (const tag of ts) {
        if (ds.length === 0) rows.push(imageRow(img, trunc, repo, tag, '<none>'));
        else for (const d of ds) rows.push(imageRow(img, trunc, repo, tag, d));
      }
    }
    for (const [repo, ds] of digs) {
      if (showDigests) for (const d of ds) rows.push(imageRow(img, trunc, repo, '<none>', d));
      else rows.push(imageRow(img, trunc, repo, '<none>', '<none>'));
    }
    if (emptyTags) rows.push(imageRow(img, trunc, '<none>', '<none>', '<none>'));
  }
  return rows;
}

function imageRow(img: ImageSummary, trunc: boolean, repo: string, tag: string, digest: string): Record<string, unknown> {
  const created = new Date((img.Created ?? 0) * 1000);
  const shared = img.SharedSize ?? -1;
  const size = img.Size ?? 0;
  return {
    Containers: img.Containers === -1 || img.Containers === undefined ? 'N/A' : String(img.Containers),
    CreatedAt: goTimeString(created),
    CreatedSince: timeAgo(created),
    Digest: digest,
    ID: trunc ? truncateId(img.Id ?? '') : img.Id ?? '',
    Repository: repo,
    SharedSize: shared === -1 ? 'N/A' : humanSize(shared),
    Size: humanSize(size),
    Tag: tag,
    UniqueSize: shared === -1 ? 'N/A' : humanSize(size - shared),
    VirtualSize: humanSize4(img.VirtualSize ?? size),
    Label: (key: unknown) => img.Labels?.[String(key)] ?? '',
  };
}
