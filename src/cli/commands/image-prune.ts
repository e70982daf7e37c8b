// dray image prune: remove dangling (with -a: all unused) images.
import type { Command } from '../command.ts';
import { filtersJson } from '../filters.ts';
import { humanSize } from '../format/units.ts';
import { confirm } from '../prompt.ts';
import { printDeletedImages, type DeletedImage, PRUNE_FLAGS } from '../prune.ts';

export const command: Command = {
  use: 'prune [OPTIONS]',
  short: 'Remove unused images',
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused images, not just dangling ones' },
    ...PRUNE_FLAGS,
  ],
  maxArgs: 0,
  async run(cli, f) {
    const all = f.bool('all');
    const warning = all ? 'WARNING! This will remove all images without at least one container associated to them.' : 'WARNING! This will remove all dangling images.';
    if (!f.bool('force') && !(await confirm(cli, warning))) return;
    const filters = [...f.list('filter'), `dangling=${all ? 'false' : 'true'}`];
    const r = await cli.client().json<{ ImagesDeleted: DeletedImage[] | null; SpaceReclaimed: number }>('POST', '/images/prune', { query: { filters: filtersJson(filters) } });
    printDeletedImages(cli.out, r.ImagesDeleted);
    cli.out.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
  },
};
