// dray-ctr: the admin client of dray-containerd (ctr's role). Thin main over src/supervisor/ctr.
import { helpText, parseCommandLine, UsageError, type CommandSpec } from '../common/command-line.ts';
import { runMain } from '../common/run-main.ts';
import { DRAY_VERSION } from '../common/version.ts';

const spec: CommandSpec = {
  usage: 'dray-ctr [GLOBAL OPTIONS] COMMAND [ARGS…]',
  description: `Admin client of dray-containerd.

Commands:
  namespaces, ns     manage namespaces
  containers, c      manage container records
  leases             manage leases
  tasks, t           run and manage tasks (ls, start, kill, wait, rm)
  events             stream events (filters: topic==/containers/create, namespace==default, event.id==x)
  version            print client and server versions`,
  flags: [
    { name: 'address', short: 'a', type: 'string', value: 'addr', default: process.env['DRAY_CONTAINERD_ADDRESS'] ?? 'unix:///run/dray/containerd.sock', description: 'Address of dray-containerd (env DRAY_CONTAINERD_ADDRESS)' },
    { name: 'namespace', short: 'n', type: 'string', value: 'name', default: process.env['DRAY_NAMESPACE'] ?? 'default', description: 'Namespace to use (env DRAY_NAMESPACE)' },
    { name: 'timeout', type: 'string', value: 'duration', default: '0', description: 'Deadline of each call in seconds (0: none)' },
    { name: 'version', short: 'v', type: 'boolean', description: 'Print the client version and quit' },
    { name: 'help', short: 'h', type: 'boolean', description: 'Print usage' },
  ],
};

/** Global flags end at the first word that is not a flag (the command). */
function splitGlobal(argv: string[]): [string[], string[]] {
  const valued = new Set(['--address', '-a', '--namespace', '-n', '--timeout']);
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-')) i += valued.has(argv[i]!) ? 2 : 1;
  return [argv.slice(0, i), argv.slice(i)];
}

runMain('dray-ctr', async (argv) => {
  const [globalArgs, rest] = splitGlobal(argv);
  const { values } = parseCommandLine(spec, globalArgs);
  if (values['version']) { process.stdout.write(`dray-ctr ${DRAY_VERSION}\n`); return 0; }
  if (values['help'] || rest.length === 0 || rest[0] === 'help') { process.stdout.write(helpText(spec)); return 0; }
  const timeout = Number(values['timeout']);
  if (!Number.isFinite(timeout) || timeout < 0) throw new UsageError(`bad --timeout ${JSON.stringify(values['timeout'])}`);
  const { runCtr } = await import('../supervisor/ctr/run.ts');
  return runCtr({ address: values['address'] as string, namespace: values['namespace'] as string, timeoutMs: timeout * 1000 }, rest);
});
