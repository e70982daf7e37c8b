// dray-containerd: the container supervisor (containerd's role). Thin main over src/supervisor.
import { enableCompileCache } from 'node:module';
import { join } from 'node:path';
import { helpText, parseCommandLine, type CommandSpec } from '../common/command-line.ts';
import { daemonFlags, daemonOptions } from '../common/daemon-options.ts';
import { runMain } from '../common/run-main.ts';
import { DRAY_VERSION } from '../common/version.ts';

const defaults = { dataRoot: '/var/lib/dray/containerd', execRoot: '/run/dray/containerd', host: 'unix:///run/dray/containerd.sock', pidfile: '/run/dray/containerd.pid' };
const spec: CommandSpec = {
  usage: 'dray-containerd [OPTIONS]',
  description: 'Dray container supervisor: containerd-style gRPC API and Kubernetes CRI.',
  flags: [
    ...daemonFlags(defaults),
    { name: 'version', short: 'v', type: 'boolean', description: 'Print version information and quit' },
    { name: 'help', short: 'h', type: 'boolean', description: 'Print usage' },
  ],
};

runMain('dray-containerd', async (argv) => {
  const { values } = parseCommandLine(spec, argv);
  if (values['help']) { process.stdout.write(helpText(spec)); return 0; }
  if (values['version']) { process.stdout.write(`dray-containerd ${DRAY_VERSION}\n`); return 0; }
  const opts = daemonOptions(values, defaults);
  // Node's compile cache (V8 code and stripped TypeScript) under the data
  // root, owned by the daemon: a restart loads its code several times faster.
  // Never a shared temp dir: a root daemon must not load code others wrote.
  enableCompileCache(join(opts.dataRoot, 'cache', 'node-compile'));
  // Loaded only here, so --help and --version stay fast.
  const { runDaemon } = await import('../supervisor/daemon.ts');
  return runDaemon(opts);
});
