// dray network prune: remove all unused networks.
import type { Command } from '../command.ts';
import { filtersJson } from '../filters.ts';
import { confirm } from '../prompt.ts';
import { printDeleted, PRUNE_FLAGS } from '../prune.ts';

export const command: Command = {
  use: 'prune [OPTIONS]',
  short: 'Remove all unused networks',
  flags: [
    ...PRUNE_FLAGS,
  ],
  maxArgs: 0,
  async run(cli, f) {
    if (!f.bool('force') && !(await confirm(cli, 'WARNING! This will remove all custom networks not used by at least one container.'))) return;
    const r = await cli.client().json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', { query: { filters: filtersJson(f.list('filter')) } });
    printDeleted(cli.out, 'Deleted Networks', r.NetworksDeleted);
  },
};
