// Flags every Dray daemon shares, named as dockerd and containerd name them,
// so each daemon can run on its own directories and socket beside others.
import type { FlagSpec, FlagValues } from './command-line.ts';

export interface DaemonOptions {
  dataRoot: string;
  execRoot: string;
  hosts: string[];
  pidfile: string;
  configFile: string | undefined;
  debug: boolean;
}

export interface DaemonDefaults {
  dataRoot: string;
  execRoot: string;
  host: string;
  pidfile: string;
}

export function daemonFlags(d: DaemonDefaults): FlagSpec[] {
  return [
    { name: 'data-root', type: 'string', value: 'path', default: d.dataRoot, description: 'Root directory of persistent state' },
    { name: 'exec-root', type: 'string', value: 'path', default: d.execRoot, description: 'Root directory of runtime state (sockets, shims)' },
    { name: 'host', short: 'H', type: 'string', multiple: true, value: 'addr', description: `Daemon socket to listen on (default "${d.host}")` },
    { name: 'pidfile', short: 'p', type: 'string', value: 'path', default: d.pidfile, description: 'Path of the daemon PID file' },
    { name: 'config-file', type: 'string', value: 'path', description: 'Daemon configuration file (JSON)' },
    { name: 'debug', short: 'D', type: 'boolean', default: false, description: 'Enable debug logging' },
  ];
}

export function daemonOptions(values: FlagValues, d: DaemonDefaults): DaemonOptions {
  const hosts = (values['host'] as string[] | undefined) ?? [d.host];
  return {
    dataRoot: values['data-root'] as string,
    execRoot: values['exec-root'] as string,
    hosts,
    pidfile: values['pidfile'] as string,
    configFile: values['config-file'] as string | undefined,
    debug: values['debug'] === true,
  };
}
