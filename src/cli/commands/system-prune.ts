// dray system prune: stopped containers, dangling (or all unused) images, unused networks (and volumes with --volumes).
import type { Command } from '../command.ts';
import { filtersJson } from '../filters.ts';
import { humanSize } from '../format/units.ts';
import { confirm } from '../prompt.ts';

export const command: Command = {
  use: 'prune [OPTIONS]',
  short: 'Remove unused data',
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused images not just dangling ones' },
    { name: 'filter', type: 'list', valueName: 'filter', usage: 'Provide filter values (e.g. "label=<key>=<value>")' },
    { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
    { name: 'volumes', type: 'bool', usage: 'Prune anonymous volumes' },
  ],
  maxArgs: 0,
  async run(cli, f) {
    const all = f.bool('all');
    const items = ['all stopped containers', 'all networks not used by at least one container',
      ...(f.bool('volumes') ? ['all anonymous volumes not used by at least one container'] : []),
      all ? 'all images without at least one container associated to them' : 'all dangling images'];
    const warning = `WARNING! This will remove:\n${items.map((i) => `  - ${i}\n`).join('')}`;
    if (!f.bool('force') && !(await confirm(cli, warning.trimEnd()))) return;
    const api = cli.client();
    const filters = filtersJson(f.list('filter'));
    let total = 0;
    const c = await api.json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', { query: { filters } });
    total += c.SpaceReclaimed ?? 0;
    if (c.ContainersDeleted?.length) cli.out.write(`Deleted Containers:\n${c.ContainersDeleted.map((x) => `${x}\n`).join('')}\n`);
    const n = await api.json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', { query: { filters } });
    if (n.NetworksDeleted?.length) cli.out.write(`Deleted Networks:\n${n.NetworksDeleted.map((x) => `${x}\n`).join('')}\n`);
    if (f.bool('volumes')) {
      const v = await api.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', { query: { filters } });
      total += v.SpaceReclaimed ?? 0;
      if (v.VolumesDeleted?.length) cli.out.write(`Deleted Volumes:\n${v.VolumesDeleted.map((x) => `${x}\n`).join('')}\n`);
    }
    const imgFilters = filtersJson([...f.list('filter'), `dangling=${all ? 'false' : 'true'}`]);
    const i = await api.json<{ ImagesDeleted: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed: number }>('POST', '/images/prune', { query: { filters: imgFilters } });
    total += i.SpaceReclaimed ?? 0;
    if (i.ImagesDeleted?.length) {
      cli.out.write('Deleted Images:\n');
      for (const d of i.ImagesDeleted) cli.out.write(d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted}\n`);
      cli.out.write('\n');
    }
    cli.out.write(`Total reclaimed space: ${humanSize(total)}\n`);
  },
};
