// The flags of `run` and `create`, and the container create body they make
// (Config + HostConfig + NetworkingConfig), parsed as docker's CLI parses them.
import { readFileSync } from 'node:fs';
import { CliError } from './command.ts';
import type { FlagDef, Flags } from './flags.ts';
import { parseGoDuration } from './times.ts';

export const CONTAINER_FLAGS: FlagDef[] = [
  { name: 'add-host', type: 'list', usage: 'Add a custom host-to-IP mapping (host:ip)' },
  { name: 'attach', short: 'a', type: 'list', usage: 'Attach to STDIN, STDOUT or STDERR' },
  { name: 'cap-add', type: 'list', usage: 'Add Linux capabilities' },
  { name: 'cap-drop', type: 'list', usage: 'Drop Linux capabilities' },
  { name: 'cgroup-parent', type: 'string', usage: 'Optional parent cgroup for the container' },
  { name: 'cidfile', type: 'string', usage: 'Write the container ID to the file' },
  { name: 'cpu-shares', short: 'c', type: 'int', usage: 'CPU shares (relative weight)' },
  { name: 'cpus', type: 'string', valueName: 'decimal', usage: 'Number of CPUs' },
  { name: 'cpuset-cpus', type: 'string', usage: 'CPUs in which to allow execution (0-3, 0,1)' },
  { name: 'device', type: 'list', usage: 'Add a host device to the container' },
  { name: 'dns', type: 'list', usage: 'Set custom DNS servers' },
  { name: 'dns-option', type: 'list', usage: 'Set DNS options' },
  { name: 'dns-search', type: 'list', usage: 'Set custom DNS search domains' },
  { name: 'domainname', type: 'string', usage: 'Container NIS domain name' },
  { name: 'entrypoint', type: 'string', usage: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'env', short: 'e', type: 'list', usage: 'Set environment variables' },
  { name: 'env-file', type: 'list', usage: 'Read in a file of environment variables' },
  { name: 'expose', type: 'list', usage: 'Expose a port or a range of ports' },
  { name: 'group-add', type: 'list', usage: 'Add additional groups to join' },
  { name: 'health-cmd', type: 'string', usage: 'Command to run to check health' },
  { name: 'health-interval', type: 'string', valueName: 'duration', usage: 'Time between running the check (ms|s|m|h) (default 0s)' },
  { name: 'health-retries', type: 'int', usage: 'Consecutive failures needed to report unhealthy' },
  { name: 'health-start-period', type: 'string', valueName: 'duration', usage: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)' },
  { name: 'health-timeout', type: 'string', valueName: 'duration', usage: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)' },
  { name: 'hostname', short: 'h', type: 'string', usage: 'Container host name' },
  { name: 'init', type: 'bool', usage: 'Run an init inside the container that forwards signals and reaps processes' },
  { name: 'interactive', short: 'i', type: 'bool', usage: 'Keep STDIN open even if not attached' },
  { name: 'ipc', type: 'string', usage: 'IPC mode to use' },
  { name: 'label', short: 'l', type: 'list', usage: 'Set meta data on a container' },
  { name: 'label-file', type: 'list', usage: 'Read in a line delimited file of labels' },
  { name: 'log-driver', type: 'string', usage: 'Logging driver for the container' },
  { name: 'log-opt', type: 'list', usage: 'Log driver options' },
  { name: 'memory', short: 'm', type: 'string', valueName: 'bytes', usage: 'Memory limit' },
  { name: 'memory-swap', type: 'string', valueName: 'bytes', usage: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
  { name: 'mount', type: 'list', valueName: 'mount', usage: 'Attach a filesystem mount to the container' },
  { name: 'name', type: 'string', usage: 'Assign a name to the container' },
  { name: 'network', type: 'string', usage: 'Connect a container to a network' },
  { name: 'net', type: 'string', usage: 'Connect a container to a network', hidden: true },
  { name: 'network-alias', type: 'list', usage: 'Add network-scoped alias for the container' },
  { name: 'oom-kill-disable', type: 'bool', usage: 'Disable OOM Killer' },
  { name: 'pid', type: 'string', usage: 'PID namespace to use' },
  { name: 'pids-limit', type: 'int', usage: 'Tune container pids limit (set -1 for unlimited)' },
  { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable' },
  { name: 'privileged', type: 'bool', usage: 'Give extended privileges to this container' },
  { name: 'publish', short: 'p', type: 'list', usage: "Publish a container's port(s) to the host" },
  { name: 'publish-all', short: 'P', type: 'bool', usage: 'Publish all exposed ports to random ports' },
  { name: 'pull', type: 'string', default: 'missing', usage: 'Pull image before running ("always", "missing", "never")' },
  { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress the pull output' },
  { name: 'read-only', type: 'bool', usage: "Mount the container's root filesystem as read only" },
  { name: 'restart', type: 'string', default: 'no', usage: 'Restart policy to apply when a container exits' },
  { name: 'rm', type: 'bool', usage: 'Automatically remove the container and its associated anonymous volumes when it exits' },
  { name: 'runtime', type: 'string', usage: 'Runtime to use for this container' },
  { name: 'security-opt', type: 'list', usage: 'Security Options' },
  { name: 'shm-size', type: 'string', valueName: 'bytes', usage: 'Size of /dev/shm' },
  { name: 'stop-signal', type: 'string', usage: 'Signal to stop the container' },
  { name: 'stop-timeout', type: 'int', usage: 'Timeout (in seconds) to stop a container' },
  { name: 'sysctl', type: 'list', valueName: 'map', usage: 'Sysctl options' },
  { name: 'tmpfs', type: 'list', usage: 'Mount a tmpfs directory' },
  { name: 'tty', short: 't', type: 'bool', usage: 'Allocate a pseudo-TTY' },
  { name: 'ulimit', type: 'list', valueName: 'ulimit', usage: 'Ulimit options' },
  { name: 'user', short: 'u', type: 'string', usage: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'userns', type: 'string', usage: 'User namespace to use' },
  { name: 'uts', type: 'string', usage: 'UTS namespace to use' },
  { name: 'volume', short: 'v', type: 'list', usage: 'Bind mount a volume' },
  { name: 'volumes-from', type: 'list', usage: 'Mount volumes from the specified container(s)' },
  { name: 'workdir', short: 'w', type: 'string', usage: 'Working directory inside the container' },
  { name: 'no-healthcheck', type: 'bool', usage: 'Disable any container-specified HEALTHCHECK' },
];

export interface CreateRequest {
  name: string | undefined;
  platform: string | undefined;
  image: string;
  body: Record<string, unknown>;
}

/** docker's RAMInBytes: "512m", "1.5g", "1024" (bytes), binary units. */
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(s.trim());
  if (!m) throw new CliError(`invalid size: '${s}'`);
  const mult: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.floor(Number(m[1]) * (m[2] ? mult[m[2].toLowerCase()]! : 1));
}

function durationNs(f: Flags, name: string): number | undefined {
  if (!f.changed(name)) return undefined;
  const ms = parseGoDuration(f.str(name));
  if (ms === undefined) throw new CliError(`invalid argument "${f.str(name)}" for "--${name}" flag: time: invalid duration "${f.str(name)}"`, 125);
  return Math.round(ms * 1e6);
}

function readLines(file: string, what: string): string[] {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new CliError(`open ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`, 125); }
  void what;
  return text.split('\n').map((l) => l.replace(/\r$/, '').replace(/^\s+/, '')).filter((l) => l && !l.startsWith('#'));
}

/** -e KEY takes KEY's value from our environment when set there. */
function envEntry(e: string): string {
  if (e.includes('=')) {
    if (e.startsWith('=')) throw new CliError(`invalid environment variable: ${e}`, 125);
    return e;
  }
  const v = process.env[e];
  return v === undefined ? e : `${e}=${v}`;
}

interface PortSpec { ip: string; hostPort: string; containerPort: string; proto: string }

function splitRange(s: string): [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = m[2] ? Number(m[2]) : a;
  if (a > 65535 || b > 65535 || b < a) return undefined;
  return [a, b];
}

/** -p [ip:][hostPort:]containerPort[/proto], with ranges. */
export function parsePublish(spec: string): PortSpec[] {
  let rest = spec;
  let proto = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) { proto = rest.slice(slash + 1).toLowerCase(); rest = rest.slice(0, slash); }
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new CliError(`invalid proto: ${proto}`, 125);
  let ip = '';
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    ip = rest.slice(1, end);
    rest = rest.slice(end + 2);
  }
  const parts = rest.split(':');
  let hostPort = '';
  let containerPort: string;
  if (parts.length === 1) containerPort = parts[0]!;
  else if (parts.length === 2) { hostPort = parts[0]!; containerPort = parts[1]!; }
  else if (parts.length === 3 && !ip) { ip = parts[0]!; hostPort = parts[1]!; containerPort = parts[2]!; }
  else throw new CliError(`invalid publish opts format (should be name=value but got '${spec}')`, 125);
  const cr = splitRange(containerPort);
  if (!cr) throw new CliError(`invalid containerPort: ${containerPort}`, 125);
  const hr = hostPort ? splitRange(hostPort) : undefined;
  if (hostPort && !hr) throw new CliError(`invalid hostPort: ${hostPort}`, 125);
  const n = cr[1] - cr[0];
  if (hr && hr[1] - hr[0] !== n && hr[0] !== hr[1]) throw new CliError(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`, 125);
  const out: PortSpec[] = [];
  for (let i = 0; i <= n; i++) {
    const hp = hr ? (hr[0] === hr[1] && n > 0 ? `${hr[0]}` : hr[1] - hr[0] === n ? String(hr[0] + i) : `${hr[0]}-${hr[1]}`) : '';
    out.push({ ip, hostPort: hp, containerPort: String(cr[0] + i), proto });
  }
  return out;
}

function parseMount(spec: string): Record<string, unknown> {
  const m: Record<string, unknown> = { Type: 'volume' };
  let readOnly = false;
  for (const field of spec.split(',')) {
    const i = field.indexOf('=');
    const k = (i < 0 ? field : field.slice(0, i)).toLowerCase();
    const v = i < 0 ? '' : field.slice(i + 1);
    switch (k) {
      case 'type': m['Type'] = v; break;
      case 'source': case 'src': m['Source'] = v; break;
      case 'target': case 'destination': case 'dst': m['Target'] = v; break;
      case 'readonly': case 'ro': readOnly = i < 0 || v === 'true' || v === '1'; break;
      case 'bind-propagation': m['BindOptions'] = { Propagation: v }; break;
      case 'tmpfs-size': m['TmpfsOptions'] = { ...(m['TmpfsOptions'] as object ?? {}), SizeBytes: ramInBytes(v) }; break;
      case 'tmpfs-mode': m['TmpfsOptions'] = { ...(m['TmpfsOptions'] as object ?? {}), Mode: parseInt(v, 8) }; break;
      default: throw new CliError(`invalid argument "${spec}" for "--mount" flag: unexpected key '${k}' in '${field}'`, 125);
    }
  }
  if (readOnly) m['ReadOnly'] = true;
  if (!m['Target']) throw new CliError(`invalid argument "${spec}" for "--mount" flag: target is required`, 125);
  return m;
}

function keyValues(list: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new CliError(`invalid argument "${kv}" for "--${flag}" flag: expected key=value`, 125);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** Builds the create request from run/create flags and the positional IMAGE [COMMAND] [ARG...]. */
export function buildCreate(f: Flags, args: string[], mode: { detach: boolean }): CreateRequest {
  const image = args[0]!;
  const cmd = args.slice(1);
  const attach = f.list('attach').map((s) => s.toLowerCase());
  for (const a of attach) if (!['stdin', 'stdout', 'stderr'].includes(a)) throw new CliError(`invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`, 125);
  if (mode.detach && attach.length) throw new CliError('Conflicting options: -a and -d', 125);
  const interactive = f.bool('interactive');
  let attachStdin = attach.includes('stdin');
  let attachStdout = attach.includes('stdout');
  let attachStderr = attach.includes('stderr');
  if (!mode.detach && attach.length === 0) { attachStdout = true; attachStderr = true; if (interactive) attachStdin = true; }
  if (mode.detach) { attachStdin = false; attachStdout = false; attachStderr = false; }

  const env: string[] = [];
  for (const file of f.list('env-file')) for (const l of readLines(file, 'env')) env.push(envEntry(l));
  for (const e of f.list('env')) env.push(envEntry(e));
  const labels: Record<string, string> = {};
  for (const file of f.list('label-file')) for (const l of readLines(file, 'label')) { const i = l.indexOf('='); labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1); }
  for (const l of f.list('label')) { const i = l.indexOf('='); labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1); }

  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const e of f.list('expose')) {
    const [port, proto = 'tcp'] = e.split('/');
    const r = splitRange(port ?? '');
    if (!r) throw new CliError(`invalid range format for --expose: ${e}`, 125);
    for (let p = r[0]; p <= r[1]; p++) exposed[`${p}/${proto}`] = {};
  }
  for (const p of f.list('publish')) {
    for (const s of parsePublish(p)) {
      const key = `${s.containerPort}/${s.proto}`;
      exposed[key] = {};
      (bindings[key] ??= []).push({ HostIp: s.ip, HostPort: s.hostPort });
    }
  }

  const binds: string[] = [];
  const volumes: Record<string, object> = {};
  for (const v of f.list('volume')) {
    const parts = v.split(':');
    if (parts.length === 1) { if (!v.startsWith('/')) throw new CliError(`invalid volume specification: '${v}'`, 125); volumes[v] = {}; }
    else if (parts.length <= 3 && parts[0] && parts[1]) binds.push(v);
    else throw new CliError(`invalid volume specification: '${v}'`, 125);
  }
  const tmpfs: Record<string, string> = {};
  for (const t of f.list('tmpfs')) { const i = t.indexOf(':'); tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1); }

  let restart = { Name: 'no', MaximumRetryCount: 0 };
  const rs = f.str('restart');
  if (rs) {
    const [name, count] = rs.split(':');
    if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(name!)) throw new CliError(`invalid restart policy format: ${rs}`, 125);
    if (count !== undefined && (name !== 'on-failure' || !/^\d+$/.test(count))) throw new CliError(`invalid restart policy format: maximum retry count must be an integer`, 125);
    restart = { Name: name!, MaximumRetryCount: count ? Number(count) : 0 };
  }
  if (f.bool('rm') && restart.Name !== 'no') throw new CliError('Conflicting options: --restart and --rm', 125);

  const ulimits = f.list('ulimit').map((u) => {
    const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(u);
    if (!m) throw new CliError(`invalid argument "${u}" for "--ulimit" flag: invalid ulimit argument: ${u}`, 125);
    return { Name: m[1], Soft: Number(m[2]), Hard: Number(m[3] ?? m[2]) };
  });
  const devices = f.list('device').map((d) => {
    const [src, dst, perms] = d.split(':');
    return { PathOnHost: src, PathInContainer: dst || src, CgroupPermissions: perms || 'rwm' };
  });
  const securityOpt = f.list('security-opt').map((o) => {
    const m = /^seccomp[=:](.*)$/.exec(o);
    if (m && m[1] !== 'unconfined') {
      let text: string;
      try { text = readFileSync(m[1]!, 'utf8'); } catch (e) { throw new CliError(`opening seccomp profile (${m[1]}) failed: ${(e as Error).message}`, 125); }
      try { return `seccomp=${JSON.stringify(JSON.parse(text))}`; } catch { throw new CliError(`invalid seccomp profile ${m[1]}: not JSON`, 125); }
    }
    return o;
  });

  let healthcheck: Record<string, unknown> | undefined;
  if (f.bool('no-healthcheck')) healthcheck = { Test: ['NONE'] };
  else if (['health-cmd', 'health-interval', 'health-timeout', 'health-retries', 'health-start-period'].some((n) => f.changed(n))) {
    healthcheck = {
      Test: f.changed('health-cmd') ? ['CMD-SHELL', f.str('health-cmd')] : undefined,
      Interval: durationNs(f, 'health-interval'), Timeout: durationNs(f, 'health-timeout'),
      Retries: f.changed('health-retries') ? f.int('health-retries') : undefined, StartPeriod: durationNs(f, 'health-start-period'),
    };
  }

  let entrypoint: string[] | undefined;
  if (f.str('entrypoint')) entrypoint = [f.str('entrypoint')];
  else if (f.changed('entrypoint')) entrypoint = [''];
  const network = f.str('network') || f.str('net') || 'default';

  let nanoCpus: number | undefined;
  if (f.changed('cpus')) {
    const c = Number(f.str('cpus'));
    if (!Number.isFinite(c) || c < 0) throw new CliError(`invalid argument "${f.str('cpus')}" for "--cpus" flag: failed to parse ${f.str('cpus')} as a rational number`, 125);
    nanoCpus = Math.round(c * 1e9);
  }
  const memSwap = f.str('memory-swap');

  const hostConfig: Record<string, unknown> = {
    Binds: binds.length ? binds : null,
    ContainerIDFile: f.str('cidfile'),
    LogConfig: { Type: f.str('log-driver'), Config: keyValues(f.list('log-opt'), 'log-opt') },
    NetworkMode: network,
    PortBindings: bindings,
    RestartPolicy: restart,
    AutoRemove: f.bool('rm'),
    VolumesFrom: f.list('volumes-from').length ? f.list('volumes-from') : null,
    CapAdd: f.list('cap-add').length ? f.list('cap-add') : null,
    CapDrop: f.list('cap-drop').length ? f.list('cap-drop') : null,
    CgroupParent: f.str('cgroup-parent'),
    Dns: f.list('dns'), DnsOptions: f.list('dns-option'), DnsSearch: f.list('dns-search'),
    ExtraHosts: f.list('add-host').length ? f.list('add-host') : null,
    GroupAdd: f.list('group-add').length ? f.list('group-add') : null,
    IpcMode: f.str('ipc'), PidMode: f.str('pid'), UTSMode: f.str('uts'), UsernsMode: f.str('userns'),
    Privileged: f.bool('privileged'),
    PublishAllPorts: f.bool('publish-all'),
    ReadonlyRootfs: f.bool('read-only'),
    SecurityOpt: securityOpt.length ? securityOpt : null,
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
    ShmSize: f.changed('shm-size') ? ramInBytes(f.str('shm-size')) : undefined,
    Sysctls: f.list('sysctl').length ? keyValues(f.list('sysctl'), 'sysctl') : undefined,
    Runtime: f.str('runtime') || undefined,
    Init: f.changed('init') ? f.bool('init') : undefined,
    Memory: f.changed('memory') ? ramInBytes(f.str('memory')) : 0,
    MemorySwap: memSwap ? (memSwap === '-1' ? -1 : ramInBytes(memSwap)) : 0,
    NanoCpus: nanoCpus ?? 0,
    CpuShares: f.int('cpu-shares'),
    CpusetCpus: f.str('cpuset-cpus'),
    PidsLimit: f.changed('pids-limit') ? f.int('pids-limit') : undefined,
    Ulimits: ulimits.length ? ulimits : null,
    Devices: devices,
    OomKillDisable: f.changed('oom-kill-disable') ? f.bool('oom-kill-disable') : undefined,
    Mounts: f.list('mount').length ? f.list('mount').map(parseMount) : undefined,
  };
  const aliases = f.list('network-alias');
  const body: Record<string, unknown> = {
    Hostname: f.str('hostname'),
    Domainname: f.str('domainname'),
    User: f.str('user'),
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    Tty: f.bool('tty'),
    OpenStdin: interactive,
    StdinOnce: interactive && attachStdin,
    Env: env,
    Cmd: cmd.length ? cmd : null,
    Healthcheck: healthcheck,
    Image: image,
    Volumes: Object.keys(volumes).length ? volumes : undefined,
    WorkingDir: f.str('workdir'),
    Entrypoint: entrypoint ?? null,
    Labels: labels,
    StopSignal: f.str('stop-signal') || undefined,
    StopTimeout: f.changed('stop-timeout') ? f.int('stop-timeout') : undefined,
    HostConfig: hostConfig,
    NetworkingConfig: aliases.length && network !== 'default' ? { EndpointsConfig: { [network]: { Aliases: aliases } } } : { EndpointsConfig: {} },
  };
  return { name: f.str('name') || undefined, platform: f.str('platform') || undefined, image, body };
}
