// dray system prune: stopped containers, dangling (or all unused) images, unused networks (and volumes with --volumes).
import type { Command } from '../command.ts';
import { filtersJson } from '../filters.ts';
import { humanSize } from '../format/units.ts';
import { confirm } from '../prompt.ts';
import { printDeleted, printDeletedImages, type DeletedImage, PRUNE_FLAGS } from '../prune.ts';

export const command: Command = {
  use: 'prune [OPTIONS]',
  short: 'Remove unused data',
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused images not just dangling ones' },
    ...PRUNE_FLAGS,
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
    printDeleted(cli.out, 'Deleted Containers', c.ContainersDeleted);
    const n = await api.json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', { query: { filters } });
    printDeleted(cli.out, 'Deleted Networks', n.NetworksDeleted);
    if (f.bool('volumes')) {
      const v = await api.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', { query: { filters } });
      total += v.SpaceReclaimed ?? 0;
      printDeleted(cli.out, 'Deleted Volumes', v.VolumesDeleted);
    }
    const imgFilters = filtersJson([...f.list('filter'), `dangling=${all ? 'false' : 'true'}`]);
    const i = await api.json<{ ImagesDeleted: DeletedImage[] | null; SpaceReclaimed: number }>('POST', '/images/prune', { query: { filters: imgFilters } });
    total += i.SpaceReclaimed ?? 0;
    printDeletedImages(cli.out, i.ImagesDeleted);
    cli.out.write(`Total reclaimed space: ${humanSize(total)}\n`);
  },
};
