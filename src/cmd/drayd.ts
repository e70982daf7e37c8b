// drayd: the engine daemon (dockerd's role). Thin main over src/engine.
import { enableCompileCache } from 'node:module';
import { join } from 'node:path';
import { helpText, parseCommandLine, type CommandSpec } from '../common/command-line.ts';
import { daemonFlags, daemonOptions } from '../common/daemon-options.ts';
import { runMain } from '../common/run-main.ts';
import { DRAY_VERSION } from '../common/version.ts';

const defaults = { dataRoot: '/var/lib/dray', execRoot: '/run/dray', host: 'unix:///run/dray/dray.sock', pidfile: '/run/dray/drayd.pid' };
const spec: CommandSpec = {
  usage: 'drayd [OPTIONS]',
  description: 'Dray engine daemon: serves the Docker Engine API.',
  flags: [
    ...daemonFlags(defaults),
    { name: 'containerd', type: 'string', value: 'addr', description: 'dray-containerd socket to use (default: start one on drayd\'s own directories)' },
    { name: 'runtime', type: 'string', value: 'name', default: 'dray', description: 'OCI runtime of the containers: dray (built-in), runc, crun or a runc-compatible binary\'s path' },
    { name: 'cgroup-parent', type: 'string', value: 'path', default: '/dray', description: 'Parent cgroup for all containers' },
    { name: 'bridge', short: 'b', type: 'string', value: 'name', description: 'Bridge of the default network (default dray0)' },
    { name: 'bip', type: 'string', value: 'cidr', description: 'Subnet of the default network' },
    { name: 'iptables-chain-prefix', type: 'string', value: 'prefix', description: 'Prefix of Dray\'s iptables chains (default DRAY)' },
    { name: 'bridge-prefix', type: 'string', value: 'prefix', description: 'Prefix of user-defined network bridges (default dray-)' },
    { name: 'insecure-registry', type: 'string', multiple: true, value: 'host', description: 'Registry reachable over plain HTTP or with unverified TLS' },
    { name: 'version', short: 'v', type: 'boolean', description: 'Print version information and quit' },
    { name: 'help', short: 'h', type: 'boolean', description: 'Print usage' },
  ],
};

runMain('drayd', async (argv) => {
  const { values } = parseCommandLine(spec, argv);
  if (values['help']) { process.stdout.write(helpText(spec)); return 0; }
  if (values['version']) { process.stdout.write(`Dray version ${DRAY_VERSION}\n`); return 0; }
  const opts = daemonOptions(values, defaults);
  // The engine's modules are loaded after the compile cache is on: cached type
  // stripping and compilation save ~30 MB resident and most of the start-up.
  enableCompileCache(join(opts.dataRoot, 'cache', 'node-compile'));
  const { startEngine } = await import('../engine/daemon.ts');
  const engine = await startEngine({
    ...opts,
    runtime: values['runtime'] as string,
    ...(values['containerd'] ? { containerd: values['containerd'] as string } : {}),
    cgroupParent: values['cgroup-parent'] as string,
    ...(values['bridge'] ? { bridge: values['bridge'] as string } : {}),
    ...(values['bip'] ? { bridgeSubnet: values['bip'] as string } : {}),
    ...(values['iptables-chain-prefix'] ? { iptablesChainPrefix: values['iptables-chain-prefix'] as string } : {}),
    ...(values['bridge-prefix'] ? { bridgePrefix: values['bridge-prefix'] as string } : {}),
    insecureRegistries: (values['insecure-registry'] as string[] | undefined) ?? [],
  });
  process.stderr.write(`drayd: API listening on ${engine.listeners.map((l) => l.address).join(', ')}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => { void engine.stop().then(resolve); };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
});
