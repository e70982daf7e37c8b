// dray container prune: remove all stopped containers.
import type { Command } from '../command.ts';
import { filtersJson } from '../filters.ts';
import { humanSize } from '../format/units.ts';
import { confirm } from '../prompt.ts';
import { printDeleted, PRUNE_FLAGS } from '../prune.ts';

export const command: Command = {
  use: 'prune [OPTIONS]',
  short: 'Remove all stopped containers',
  flags: [
    ...PRUNE_FLAGS,
  ],
  maxArgs: 0,
  async run(cli, f) {
    if (!f.bool('force') && !(await confirm(cli, 'WARNING! This will remove all stopped containers.'))) return;
    const r = await cli.client().json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', { query: { filters: filtersJson(f.list('filter')) } });
    printDeleted(cli.out, 'Deleted Containers', r.ContainersDeleted);
    cli.out.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
  },
};
