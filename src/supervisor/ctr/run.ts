// dray-ctr's command dispatch: one client, one command, errors as
// "CODE: message" so scripts and tests can tell them apart.
import { UsageError } from '../../common/command-line.ts';
import { DRAY_VERSION } from '../../common/version.ts';
import { SupervisorClient } from '../client/client.ts';
import { SupervisorError } from '../client/errors.ts';
import { containersCommand } from './containers.ts';
import { eventsCommand } from './events.ts';
import { leasesCommand } from './leases.ts';
import { namespacesCommand } from './namespaces.ts';
import { tasksCommand } from './tasks.ts';

export interface CtrGlobals { address: string; namespace: string; timeoutMs: number }

export async function runCtr(g: CtrGlobals, args: string[]): Promise<number> {
  const client = new SupervisorClient(g.address, { namespace: g.namespace, ...(g.timeoutMs > 0 ? { timeoutMs: g.timeoutMs } : {}) });
  const out = process.stdout;
  const [cmd, ...rest] = args;
  try {
    switch (cmd) {
      case 'namespaces': case 'namespace': case 'ns': return await namespacesCommand(client, rest, out);
      case 'containers': case 'container': case 'c': return await containersCommand(client, rest, out);
      case 'leases': case 'lease': return await leasesCommand(client, rest, out);
      case 'tasks': case 'task': case 't': return await tasksCommand(client, rest, out);
      case 'events': case 'event': return await eventsCommand(client, rest, out);
      case 'version': {
        const v = await client.version();
        out.write(`Client:\n  Version:  ${DRAY_VERSION}\n\nServer:\n  Version:  ${v.version}\n  Revision: ${v.revision || '-'}\n  API:      ${v.api}\n`);
        return 0;
      }
      default: throw new UsageError(`unknown command ${JSON.stringify(cmd)}: see dray-ctr --help`);
    }
  } catch (err) {
    if (err instanceof SupervisorError) throw new Error(`${err.codeName}: ${err.message}`);
    throw err;
  } finally {
    client.close();
  }
}
