// dray-ctr tasks: ls, start (create + start), kill, wait, rm.
import { UsageError, parseCommandLine } from '../../common/command-line.ts';
import type { SupervisorClient } from '../client/client.ts';
import { table, listArgs } from './output.ts';
import { constants } from 'node:os';

export const tasksHelp = `Usage: dray-ctr tasks COMMAND

Commands:
  ls [-q]                      list tasks
  start [--log URI] [-d] ID    create and start the container's task; without -d, wait and exit with its status
  kill [-s SIGNAL] [-a] ID     signal the task (default SIGTERM; -a: every process)
  wait ID                      wait for the task's exit and print its status
  rm ID…                       delete stopped tasks
`;

function signalNumber(s: string): number {
  if (/^[0-9]+$/.test(s)) return Number(s);
  const name = (s.startsWith('SIG') ? s : `SIG${s}`).toUpperCase() as keyof typeof constants.signals;
  const n = constants.signals[name];
  if (n === undefined) throw new UsageError(`unknown signal ${JSON.stringify(s)}`);
  return n;
}

export async function tasksCommand(client: SupervisorClient, args: string[], out: NodeJS.WritableStream): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'ls': case 'list': {
      const { quiet } = listArgs(rest);
      const all = await client.tasks.list();
      if (quiet) { for (const t of all) out.write(t.id + '\n'); return 0; }
      table(out, ['TASK', 'PID', 'STATUS'], all.map((t) => [t.id, String(t.pid), t.status]));
      return 0;
    }
    case 'start': {
      const { values, positionals } = parseCommandLine({ usage: '', description: '', flags: [
        { name: 'log', type: 'string', default: '', description: '' },
        { name: 'detach', short: 'd', type: 'boolean', description: '' },
      ] }, rest);
      const [id] = positionals;
      if (!id || positionals.length > 1) throw new UsageError('tasks start: exactly one ID is required');
      await client.tasks.create(id, { stdout: values['log'] as string });
      await client.tasks.start(id);
      if (values['detach']) return 0;
      return (await client.tasks.wait(id)).exitStatus;
    }
    case 'kill': {
      const { values, positionals } = parseCommandLine({ usage: '', description: '', flags: [
        { name: 'signal', short: 's', type: 'string', default: 'SIGTERM', description: '' },
        { name: 'all', short: 'a', type: 'boolean', description: '' },
      ] }, rest);
      const [id] = positionals;
      if (!id) throw new UsageError('tasks kill: ID is required');
      await client.tasks.kill(id, signalNumber(values['signal'] as string), { all: values['all'] === true });
      return 0;
    }
    case 'wait': {
      const [id] = rest;
      if (!id) throw new UsageError('tasks wait: ID is required');
      out.write(`${(await client.tasks.wait(id)).exitStatus}\n`);
      return 0;
    }
    case 'rm': case 'delete': case 'del': {
      if (rest.length === 0) throw new UsageError('tasks rm: ID is required');
      for (const id of rest) out.write(`${id} ${(await client.tasks.delete(id)).exitStatus}\n`);
      return 0;
    }
    default:
      out.write(tasksHelp);
      return sub === undefined || sub === 'help' ? 0 : 1;
  }
}
