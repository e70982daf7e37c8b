// dray-ctr leases: ls, create, rm, resources.
import { UsageError, parseCommandLine } from '../../common/command-line.ts';
import type { SupervisorClient } from '../client/client.ts';
import { formatLabels, parseLabels, table, time, listArgs } from './output.ts';

export const leasesHelp = `Usage: dray-ctr leases COMMAND

Commands:
  ls [-q] [FILTER…]                 list leases
  create [--id ID] [--label K=V…]   create a lease (prints its id)
  rm ID…                            remove leases
  resources ID                      list what a lease holds
`;

export async function leasesCommand(client: SupervisorClient, args: string[], out: NodeJS.WritableStream): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'ls': case 'list': {
      const { quiet, filters } = listArgs(rest);
      const all = await client.leases.list(...filters);
      if (quiet) { for (const l of all) out.write(l.id + '\n'); return 0; }
      table(out, ['ID', 'CREATED AT', 'LABELS'], all.map((l) => [l.id, time(l.createdAt), formatLabels(l.labels)]));
      return 0;
    }
    case 'create': {
      const { values, positionals } = parseCommandLine({ usage: '', description: '', flags: [
        { name: 'id', type: 'string', default: '', description: '' },
        { name: 'label', type: 'string', multiple: true, description: '' },
      ] }, rest);
      if (positionals.length > 0) throw new UsageError('leases create: unexpected arguments');
      const l = await client.leases.create(values['id'] as string, parseLabels((values['label'] as string[] | undefined) ?? []));
      out.write(l.id + '\n');
      return 0;
    }
    case 'rm': case 'remove': case 'delete': {
      if (rest.length === 0) throw new UsageError('leases rm: ID is required');
      for (const id of rest) { await client.leases.delete(id); out.write(id + '\n'); }
      return 0;
    }
    case 'resources': {
      const [id] = rest;
      if (!id) throw new UsageError('leases resources: ID is required');
      table(out, ['TYPE', 'ID'], (await client.leases.listResources(id)).map((r) => [r.type, r.id]));
      return 0;
    }
    default:
      out.write(leasesHelp);
      return sub === undefined || sub === 'help' ? 0 : 1;
  }
}
