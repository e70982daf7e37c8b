// dray volume prune: remove unused anonymous volumes (-a: all unused).
import { compareApiVersions } from '../../engine/api/api-version.ts';
import type { Command } from '../command.ts';
import { filtersJson } from '../filters.ts';
import { humanSize } from '../format/units.ts';
import { confirm } from '../prompt.ts';
import { printDeleted, PRUNE_FLAGS } from '../prune.ts';

export const command: Command = {
  use: 'prune [OPTIONS]',
  short: 'Remove unused local volumes',
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused volumes, not just anonymous ones' },
    ...PRUNE_FLAGS,
  ],
  maxArgs: 0,
  async run(cli, f) {
    if (!f.bool('force') && !(await confirm(cli, 'WARNING! This will remove anonymous local volumes not used by at least one container.'))) return;
    const filters = [...f.list('filter')];
    // API 1.42 made prune spare named volumes unless all=true.
    if (f.bool('all') && compareApiVersions(await cli.client().version(), '1.42') >= 0) filters.push('all=true');
    const r = await cli.client().json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', { query: { filters: filtersJson(filters) } });
    printDeleted(cli.out, 'Deleted Volumes', r.VolumesDeleted);
    cli.out.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`);
  },
};
