// The dray CLI's entry: global options, the command table (each command is
// imported only when it runs, for start-up time), help, and how errors turn
// into messages and exit codes as docker's CLI does.
import { EngineClient, ConnectError, DaemonError } from './client/client.ts';
import { configDir, HostError, resolveEndpoint, type Endpoint } from './client/host.ts';
import { CliError, StatusError, type Cli, type Command } from './command.ts';
import { FlagError, Flags, flagUsages, parseFlags, type FlagDef } from './flags.ts';

type Loader = () => Promise<{ command: Command }>;

// Top-level commands; the management forms below map onto the same modules.
const COMMANDS: Record<string, Loader> = {
  attach: () => import('./commands/attach.ts'),
  commit: () => import('./commands/commit.ts'),
  cp: () => import('./commands/cp.ts'),
  create: () => import('./commands/create.ts'),
  diff: () => import('./commands/diff.ts'),
  events: () => import('./commands/events.ts'),
  exec: () => import('./commands/exec.ts'),
  export: () => import('./commands/export.ts'),
  history: () => import('./commands/history.ts'),
  images: () => import('./commands/images.ts'),
  import: () => import('./commands/import.ts'),
  info: () => import('./commands/info.ts'),
  inspect: () => import('./commands/inspect.ts'),
  kill: () => import('./commands/kill.ts'),
  load: () => import('./commands/load.ts'),
  login: () => import('./commands/login.ts'),
  logout: () => import('./commands/logout.ts'),
  logs: () => import('./commands/logs.ts'),
  pause: () => import('./commands/pause.ts'),
  port: () => import('./commands/port.ts'),
  ps: () => import('./commands/ps.ts'),
  pull: () => import('./commands/pull.ts'),
  push: () => import('./commands/push.ts'),
  rename: () => import('./commands/rename.ts'),
  restart: () => import('./commands/restart.ts'),
  rm: () => import('./commands/rm.ts'),
  rmi: () => import('./commands/rmi.ts'),
  run: () => import('./commands/run.ts'),
  save: () => import('./commands/save.ts'),
  start: () => import('./commands/start.ts'),
  stats: () => import('./commands/stats.ts'),
  stop: () => import('./commands/stop.ts'),
  tag: () => import('./commands/tag.ts'),
  top: () => import('./commands/top.ts'),
  unpause: () => import('./commands/unpause.ts'),
  update: () => import('./commands/update.ts'),
  version: () => import('./commands/version.ts'),
  wait: () => import('./commands/wait.ts'),
};

const MANAGEMENT: Record<string, { short: string; subs: Record<string, Loader> }> = {
  container: {
    short: 'Manage containers',
    subs: {
      attach: COMMANDS.attach!, commit: COMMANDS.commit!, cp: COMMANDS.cp!, create: COMMANDS.create!, diff: COMMANDS.diff!,
      exec: COMMANDS.exec!, export: COMMANDS.export!, inspect: () => import('./commands/container-inspect.ts'), kill: COMMANDS.kill!,
      logs: COMMANDS.logs!, ls: COMMANDS.ps!, list: COMMANDS.ps!, ps: COMMANDS.ps!, pause: COMMANDS.pause!, port: COMMANDS.port!,
      prune: () => import('./commands/container-prune.ts'), rename: COMMANDS.rename!, restart: COMMANDS.restart!, rm: COMMANDS.rm!,
      remove: COMMANDS.rm!, run: COMMANDS.run!, start: COMMANDS.start!, stats: COMMANDS.stats!, stop: COMMANDS.stop!, top: COMMANDS.top!,
      unpause: COMMANDS.unpause!, update: COMMANDS.update!, wait: COMMANDS.wait!,
    },
  },
  image: {
    short: 'Manage images',
    subs: {
      history: COMMANDS.history!, import: COMMANDS.import!, inspect: () => import('./commands/image-inspect.ts'), load: COMMANDS.load!,
      ls: COMMANDS.images!, list: COMMANDS.images!, prune: () => import('./commands/image-prune.ts'), pull: COMMANDS.pull!,
      push: COMMANDS.push!, rm: COMMANDS.rmi!, remove: COMMANDS.rmi!, save: COMMANDS.save!, tag: COMMANDS.tag!,
    },
  },
  network: {
    short: 'Manage networks',
    subs: {
      connect: () => import('./commands/network-connect.ts'), create: () => import('./commands/network-create.ts'),
      disconnect: () => import('./commands/network-disconnect.ts'), inspect: () => import('./commands/network-inspect.ts'),
      ls: () => import('./commands/network-ls.ts'), list: () => import('./commands/network-ls.ts'),
      prune: () => import('./commands/network-prune.ts'), rm: () => import('./commands/network-rm.ts'), remove: () => import('./commands/network-rm.ts'),
    },
  },
  volume: {
    short: 'Manage volumes',
    subs: {
      create: () => import('./commands/volume-create.ts'), inspect: () => import('./commands/volume-inspect.ts'),
      ls: () => import('./commands/volume-ls.ts'), list: () => import('./commands/volume-ls.ts'),
      prune: () => import('./commands/volume-prune.ts'), rm: () => import('./commands/volume-rm.ts'), remove: () => import('./commands/volume-rm.ts'),
    },
  },
  system: {
    short: 'Manage Dray',
    subs: {
      df: () => import('./commands/system-df.ts'), events: COMMANDS.events!, info: COMMANDS.info!,
      prune: () => import('./commands/system-prune.ts'),
    },
  },
};

const GLOBAL_FLAGS: FlagDef[] = [
  { name: 'config', type: 'string', usage: 'Location of client config files', default: '' },
  { name: 'context', short: 'c', type: 'string', usage: 'Name of the context to use (only "default" is supported)' },
  { name: 'debug', short: 'D', type: 'bool', usage: 'Enable debug mode' },
  { name: 'host', short: 'H', type: 'list', usage: 'Daemon socket to connect to (default unix:///run/dray/dray.sock)' },
  { name: 'log-level', short: 'l', type: 'string', usage: 'Set the logging level ("debug", "info", "warn", "error", "fatal")', default: 'info' },
  { name: 'tls', type: 'bool', usage: 'Use TLS; implied by --tlsverify' },
  { name: 'tlscacert', type: 'string', usage: 'Trust certs signed only by this CA', valueName: 'string' },
  { name: 'tlscert', type: 'string', usage: 'Path to TLS certificate file' },
  { name: 'tlskey', type: 'string', usage: 'Path to TLS key file' },
  { name: 'tlsverify', type: 'bool', usage: 'Use TLS and verify the remote' },
  { name: 'version', short: 'v', type: 'bool', usage: 'Print version information and quit' },
];

const PROG = 'dray';

const COMMAND_LIST: [string, string][] = [
  ['run', 'Create and run a new container from an image'], ['exec', 'Execute a command in a running container'],
  ['ps', 'List containers'], ['pull', 'Download an image from a registry'], ['push', 'Upload an image to a registry'],
  ['images', 'List images'], ['login', 'Authenticate to a registry'], ['logout', 'Log out from a registry'],
  ['version', 'Show the Dray version information'], ['info', 'Display system-wide information'],
  ['attach', 'Attach local standard input, output, and error streams to a running container'],
  ['commit', "Create a new image from a container's changes"], ['cp', 'Copy files/folders between a container and the local filesystem'],
  ['create', 'Create a new container'], ['diff', "Inspect changes to files or directories on a container's filesystem"],
  ['events', 'Get real time events from the server'], ['export', "Export a container's filesystem as a tar archive"],
  ['history', 'Show the history of an image'], ['import', 'Import the contents from a tarball to create a filesystem image'],
  ['inspect', 'Return low-level information on Dray objects'], ['kill', 'Kill one or more running containers'],
  ['load', 'Load an image from a tar archive or STDIN'], ['logs', 'Fetch the logs of a container'],
  ['pause', 'Pause all processes within one or more containers'], ['port', 'List port mappings or a specific mapping for the container'],
  ['rename', 'Rename a container'], ['restart', 'Restart one or more containers'], ['rm', 'Remove one or more containers'],
  ['rmi', 'Remove one or more images'], ['save', 'Save one or more images to a tar archive (streamed to STDOUT by default)'],
  ['start', 'Start one or more stopped containers'], ['stats', 'Display a live stream of container(s) resource usage statistics'],
  ['stop', 'Stop one or more running containers'], ['tag', 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE'],
  ['top', 'Display the running processes of a container'], ['unpause', 'Unpause all processes within one or more containers'],
  ['update', 'Update configuration of one or more containers'], ['wait', 'Block until one or more containers stop, then print their exit codes'],
];

function mainHelp(): string {
  const w = 10;
  return [
    `Usage:  ${PROG} [OPTIONS] COMMAND`,
    '',
    'A self-sufficient runtime for containers (Dray: the docker CLI, speaking the Docker Engine API)',
    '',
    'Management Commands:',
    ...Object.entries(MANAGEMENT).map(([n, m]) => `  ${n.padEnd(w)}  ${m.short}`),
    '',
    'Commands:',
    ...COMMAND_LIST.map(([n, s]) => `  ${n.padEnd(w)}  ${s}`),
    '',
    'Global Options:',
    flagUsages(GLOBAL_FLAGS),
    '',
    `The daemon is -H, else $DOCKER_HOST, else unix:///run/dray/dray.sock (drayd's socket).`,
    `Run '${PROG} COMMAND --help' for more information on a command.`,
    '',
  ].join('\n');
}

function commandHelp(path: string, c: Command): string {
  const lines = [`Usage:  ${path} ${c.use.replace(/^\S+\s*/, '')}`.trimEnd(), '', c.short, ''];
  if (c.aliases?.length) lines.push('Aliases:', `  ${c.aliases.join(', ')}`, '');
  lines.push('Options:', flagUsages(c.flags), '');
  return lines.join('\n');
}

function managementHelp(name: string): string {
  const m = MANAGEMENT[name]!;
  return [`Usage:  ${PROG} ${name} COMMAND`, '', m.short, '', 'Commands:', ...Object.keys(m.subs).map((s) => `  ${s}`), '',
    `Run '${PROG} ${name} COMMAND --help' for more information on a command.`, ''].join('\n');
}

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const err = process.stderr;
  let global;
  try {
    global = parseFlags(GLOBAL_FLAGS, argv, { interspersed: false });
  } catch (e) {
    if (e instanceof FlagError) { err.write(`${e.message}\nSee '${PROG} --help'.\n`); return 125; }
    throw e;
  }
  const g = new Flags(global);
  const rest = global.args;
  if (g.bool('version')) {
    const { clientVersionLine } = await import('./commands/version.ts');
    process.stdout.write(`${clientVersionLine()}\n`);
    return 0;
  }
  if (g.bool('help') || rest.length === 0 || rest[0] === 'help' && rest.length === 1) { process.stdout.write(mainHelp()); return rest.length === 0 && !g.bool('help') ? 0 : 0; }
  const ctxName = g.str('context') || process.env['DOCKER_CONTEXT'];
  if (ctxName && ctxName !== 'default') { err.write(`${PROG}: context "${ctxName}" does not exist (only "default" is supported)\n`); return 1; }

  let name = rest[0]!;
  let cmdArgs = rest.slice(1);
  let path = `${PROG} ${name}`;
  if (name === 'help') { name = rest[1]!; cmdArgs = ['--help']; path = `${PROG} ${name}`; }
  let loader = COMMANDS[name];
  const mgmt = MANAGEMENT[name];
  if (mgmt) {
    const sub = cmdArgs[0];
    if (sub === undefined || sub === '--help' || sub === '-h') { process.stdout.write(managementHelp(name)); return 0; }
    loader = mgmt.subs[sub];
    if (!loader) {
      err.write(`${PROG}: '${sub}' is not a ${PROG} ${name} command.\nSee '${PROG} ${name} --help'\n`);
      return 125;
    }
    path = `${PROG} ${name} ${sub}`;
    cmdArgs = cmdArgs.slice(1);
  }
  if (!loader) {
    err.write(`${PROG}: '${name}' is not a ${PROG} command.\nSee '${PROG} --help'\n`);
    return 125;
  }
  const { command } = await loader();

  let parsed;
  try {
    parsed = parseFlags(command.flags, cmdArgs, { interspersed: command.interspersed ?? true });
  } catch (e) {
    if (e instanceof FlagError) { err.write(`${e.message}\nSee '${path} --help'.\n`); return 125; }
    throw e;
  }
  const f = new Flags(parsed);
  if (f.bool('help')) { process.stdout.write(commandHelp(path, command)); return 0; }
  const n = parsed.args.length;
  const argError = (what: string): number => {
    err.write(`${PROG}: '${path}' ${what}\n\nUsage:  ${path} ${command.use.replace(/^\S+\s*/, '')}\n\nSee '${path} --help' for more information\n`);
    return 1;
  };
  if (command.minArgs !== undefined && n < command.minArgs) {
    if (command.maxArgs === command.minArgs) return argError(`requires ${plural(command.minArgs, 'argument')}`);
    return argError(`requires at least ${plural(command.minArgs, 'argument')}`);
  }
  if (command.maxArgs !== undefined && n > command.maxArgs) {
    if (command.maxArgs === 0) return argError('accepts no arguments');
    if (command.maxArgs === command.minArgs) return argError(`requires ${plural(command.maxArgs, 'argument')}`);
    return argError(`requires at most ${plural(command.maxArgs, 'argument')}`);
  }

  let endpoint: Endpoint;
  try {
    const hosts = g.list('host');
    if (hosts.length > 1) throw new HostError('specify only one -H');
    endpoint = resolveEndpoint({
      host: hosts[0], tls: g.bool('tls'), tlsverify: g.bool('tlsverify'),
      tlscacert: g.str('tlscacert') || undefined, tlscert: g.str('tlscert') || undefined, tlskey: g.str('tlskey') || undefined,
    });
  } catch (e) {
    if (e instanceof HostError) { err.write(`${e.message}\n`); return 1; }
    throw e;
  }
  let client: EngineClient | undefined;
  const cli: Cli = {
    prog: PROG, commandPath: path, endpoint,
    configDir: g.str('config') || configDir(),
    out: process.stdout, err: process.stderr,
    client: () => (client ??= new EngineClient(endpoint, { apiVersion: process.env['DOCKER_API_VERSION'] || undefined })),
  };
  try {
    const code = await command.run(cli, f, parsed.args);
    return code ?? 0;
  } catch (e) {
    return report(e, g.bool('debug'));
  }
}

function plural(n: number, w: string): string { return `${n} ${w}${n === 1 ? '' : 's'}`; }

/** Prints an error as docker's CLI does and gives its exit status. */
export function report(e: unknown, debug: boolean): number {
  const err = process.stderr;
  if (e instanceof StatusError) { if (e.message) err.write(`${e.message}\n`); return e.status; }
  if (e instanceof DaemonError) { err.write(`Error response from daemon: ${e.message}\n`); return 1; }
  if (e instanceof ConnectError) {
    err.write(`${e.message}\n`);
    if (/Cannot connect to the Dray daemon/.test(e.message)) {
      err.write(`Start it with 'drayd' (as root), or point -H/DOCKER_HOST at a running daemon.\n`);
    }
    return 1;
  }
  if (e instanceof CliError) { err.write(`${e.message}\n`); return e.status; }
  if (e instanceof FlagError) { err.write(`${e.message}\n`); return 125; }
  const msg = e instanceof Error ? e.message : String(e);
  err.write(`${msg}\n`);
  if (debug && e instanceof Error && e.stack) err.write(`${e.stack}\n`);
  return 1;
}
