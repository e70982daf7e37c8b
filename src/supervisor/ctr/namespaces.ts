// dray-ctr namespaces: ls, create, rm, label.
import { UsageError } from '../../common/command-line.ts';
import type { SupervisorClient } from '../client/client.ts';
import { formatLabels, parseLabels, table, listArgs, labelUpdate } from './output.ts';

export const namespacesHelp = `Usage: dray-ctr namespaces COMMAND

Commands:
  ls [-q]                  list namespaces
  create NAME [KEY=VALUE…] create a namespace with labels
  rm NAME…                 remove empty namespaces
  label NAME [KEY=VALUE…]  set labels (KEY= removes one)
`;

export async function namespacesCommand(client: SupervisorClient, args: string[], out: NodeJS.WritableStream): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'ls': case 'list': {
      const { quiet } = listArgs(rest);
      const all = await client.namespaces.list();
      if (quiet) { for (const n of all) out.write(n.name + '\n'); return 0; }
      table(out, ['NAME', 'LABELS'], all.map((n) => [n.name, formatLabels(n.labels)]));
      return 0;
    }
    case 'create': case 'c': {
      const [name, ...labels] = rest;
      if (!name) throw new UsageError('namespaces create: NAME is required');
      await client.namespaces.create(name, parseLabels(labels));
      return 0;
    }
    case 'rm': case 'remove': case 'delete': {
      if (rest.length === 0) throw new UsageError('namespaces rm: NAME is required');
      for (const name of rest) { await client.namespaces.delete(name); out.write(name + '\n'); }
      return 0;
    }
    case 'label': {
      const [name, ...labels] = rest;
      if (!name || labels.length === 0) throw new UsageError('namespaces label: NAME and at least one KEY=VALUE are required');
      const { set, paths } = labelUpdate(labels);
      const n = await client.namespaces.update(name, set, paths);
      out.write(formatLabels(n.labels) + '\n');
      return 0;
    }
    default:
      out.write(namespacesHelp);
      return sub === undefined || sub === 'help' ? 0 : 1;
  }
}
