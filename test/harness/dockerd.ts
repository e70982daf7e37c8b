// A real dockerd (Debian's docker.io 20.10) on its own folders, socket,
// pidfile, config file, cgroup parent and bridge, with its own managed
// containerd under its exec-root. Stopping it removes what it left behind:
// processes (shims, docker-proxy), mounts, cgroups, the bridge and the
// networks it created, and its iptables rules. The shared DOCKER* chains, the
// FORWARD policy and ip_forward are put back as they were before the first
// harness dockerd (recorded in FIRST_STATE) when the last dockerd stops.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { alive, cleanContainerdTasks, killProcessesMentioning, removeCgroups, removeTree, terminate } from './cleanup.ts';
import { execCommand, type ExecOptions, type ExecResult } from './exec.ts';
import { chainPolicy, deleteChain, deleteRule, dumpTable, mentions, TABLES, type Table } from './iptables.ts';
import { awaitReady, launch, PEER_PATH, peerDir, track, untrack, type Peer } from './peers.ts';

export const DOCKERD = '/usr/sbin/dockerd';
/** The docker CLIs: Debian's 20.10 and the newer static one. */
export const DOCKER_CLI = { v20: '/usr/bin/docker', v28: '/usr/local/bin/docker' } as const;
export type DockerCli = keyof typeof DOCKER_CLI;

export interface DockerdOptions {
  /** Extra OCI runtimes: name -> path of the runtime binary (dockerd's --add-runtime). */
  runtimes?: Record<string, string>;
  /** dockerd's --default-runtime (a name from `runtimes`, or runc). */
  defaultRuntime?: string;
  /** More dockerd flags. */
  extraArgs?: string[];
  /** How long to wait for the API to answer; default 60 s. */
  startTimeoutMs?: number;
}

export interface DockerdPeer extends Peer {
  readonly pid: number;
  readonly dir: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  /** The API socket path. */
  readonly socket: string;
  /** DOCKER_HOST value: unix://<socket>. */
  readonly host: string;
  /** The bridge dockerd uses as its default network, and its subnet. */
  readonly bridge: string;
  readonly subnet: string;
  /** The pool `docker network create` draws from. */
  readonly addressPool: string;
  readonly logFile: string;
  /** The environment the CLI runs with: DOCKER_HOST and a private DOCKER_CONFIG, nothing from the user. */
  readonly cliEnv: NodeJS.ProcessEnv;
  /** Runs the docker CLI (20.10 by default) against this daemon; throws with stderr on failure; resolves to stdout. */
  docker(args: string[], opts?: DockerExecOptions): Promise<string>;
  /** Same, but resolves to the whole result (exit code, stdout, stderr) whatever the exit code. */
  dockerResult(args: string[], opts?: DockerExecOptions): Promise<ExecResult>;
}

export interface DockerExecOptions extends Omit<ExecOptions, 'env'> {
  cli?: DockerCli;
}

const BRIDGE_PREFIX = 'drayt';

/** Starts a dockerd. The caller stops it (t.after(() => d.stop())); if it does not, the process exit handler does. */
export async function startDockerd(opts: DockerdOptions = {}): Promise<DockerdPeer> {
  if (process.getuid?.() !== 0) throw new Error('dockerd needs root');
  const dir = peerDir('dockerd');
  const dataRoot = join(dir, 'data');
  const execRoot = join(dir, 'exec');
  const socket = join(dir, 'docker.sock');
  const pidfile = join(dir, 'dockerd.pid');
  const logFile = join(dir, 'dockerd.log');
  const configFile = join(dir, 'daemon.json');
  const dockerConfig = join(dir, 'cli-config');
  for (const d of [dataRoot, execRoot, dockerConfig]) mkdirSync(d, { recursive: true });
  writeFileSync(configFile, '{}\n'); // never the machine's /etc/docker/daemon.json
  writeFileSync(join(dockerConfig, 'config.json'), '{}\n');

  recordFirstState();
  const net = createBridge();
  const cgroupParent = `/${net.bridge}`;
  const args = [
    '--data-root', dataRoot, '--exec-root', execRoot, '-H', `unix://${socket}`, '--pidfile', pidfile,
    '--config-file', configFile, '--bridge', net.bridge,
    '--default-address-pool', `base=${net.pool},size=28`,
    '--cgroup-parent', cgroupParent, '--log-level', 'info',
  ];
  for (const [name, path] of Object.entries(opts.runtimes ?? {})) args.push('--add-runtime', `${name}=${path}`);
  if (opts.defaultRuntime) args.push('--default-runtime', opts.defaultRuntime);
  args.push(...(opts.extraArgs ?? []));

  const env: NodeJS.ProcessEnv = { PATH: PEER_PATH, HOME: dir, LANG: 'C.UTF-8' };
  const launched = launch(DOCKERD, args, logFile, env);
  const pid = launched.pid;

  const cliEnv: NodeJS.ProcessEnv = { PATH: env.PATH, HOME: dir, LANG: 'C.UTF-8', DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: dockerConfig };
  let stopped = false;
  const peer: DockerdPeer = {
    kind: 'dockerd', pid, dir, dataRoot, execRoot, socket, host: `unix://${socket}`,
    bridge: net.bridge, subnet: net.subnet, addressPool: net.pool, logFile, cliEnv,
    async docker(a, o = {}) {
      const r = await this.dockerResult(a, o);
      if (r.code !== 0) throw new Error(`docker ${a.join(' ')} failed (${r.signal ?? `exit ${r.code}`}): ${r.stderr.trim() || r.stdout.trim()}`);
      return r.stdout;
    },
    dockerResult(a, o = {}) {
      return execCommand(DOCKER_CLI[o.cli ?? 'v20'], a, { ...o, env: cliEnv });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        if (pid > 0) terminate(pid, 30_000);
        // Shims, docker-proxy and anything else started on our folders or for our subnets.
        // dockerd's managed containerd keeps its state and socket under our exec-root.
        cleanContainerdTasks(join(execRoot, 'containerd', 'daemon'), join(execRoot, 'containerd', 'containerd.sock'));
        killProcessesMentioning([dir, `-container-ip ${net.prefix}`, `-container-ip ${net.poolPrefix}`]);
        removeTree(dir);
        removeCgroups(cgroupParent);
        cleanFirewall(net);
      } finally {
        untrack(peer);
      }
    },
  };
  track(peer);
  await awaitReady(peer, launched, logFile, () => ping(socket), opts.startTimeoutMs ?? 60_000);
  return peer;
}

/** GET /_ping on a unix socket. */
export function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
    req.end();
  });
}

interface BridgeNet {
  bridge: string;
  /** 10.213.N.0/24 */
  subnet: string;
  /** "10.213.N." — how rules and processes name addresses of this subnet. */
  prefix: string;
  /** 10.214.N.0/24, carved into /28s for user networks. */
  pool: string;
  poolPrefix: string;
}

/** IPv4 routes of every table, as [network, prefix length]. */
function routes(): [number, number][] {
  const out: [number, number][] = [];
  const text = execFileSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' });
  for (const line of text.split('\n')) {
    const words = line.split(' ').filter((w) => !['local', 'broadcast', 'unicast', 'multicast', 'throw', 'unreachable', 'prohibit', 'blackhole'].includes(w));
    const dst = words[0];
    if (!dst) continue;
    if (dst === 'default') continue; // the default route covers everything; it is not a collision
    const [addr, len] = dst.split('/');
    const n = ipv4(addr ?? '');
    if (n !== undefined) out.push([n, len === undefined ? 32 : Number(len)]);
  }
  return out;
}

function ipv4(s: string): number | undefined {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return undefined;
  return (((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!) >>> 0;
}

function overlaps(a: number, alen: number, b: number, blen: number): boolean {
  const len = Math.min(alen, blen);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

/** Creates bridge drayt<N> with 10.213.N.1/24 for the first N whose name is free and whose subnets collide with no route. */
function createBridge(): BridgeNet {
  for (let n = 0; n < 250; n++) {
    const bridge = `${BRIDGE_PREFIX}${n}`;
    if (existsSync(`/sys/class/net/${bridge}`)) continue;
    const prefix = `10.213.${n}.`;
    const poolPrefix = `10.214.${n}.`;
    const rs = routes();
    if (rs.some(([a, l]) => overlaps(a, l, ipv4(`${prefix}0`)!, 24) || overlaps(a, l, ipv4(`${poolPrefix}0`)!, 24))) continue;
    try {
      execFileSync('ip', ['link', 'add', bridge, 'type', 'bridge'], { stdio: 'pipe' });
    } catch {
      continue; // another process took this name first
    }
    execFileSync('ip', ['addr', 'add', `${prefix}1/24`, 'dev', bridge]);
    execFileSync('ip', ['link', 'set', bridge, 'up']);
    return { bridge, subnet: `${prefix}0/24`, prefix, pool: `${poolPrefix}0/24`, poolPrefix };
  }
  throw new Error('no free drayt<N> bridge name and subnet');
}

/** Where the machine's firewall state before the first harness dockerd is kept (shared by concurrent test processes). */
export const FIRST_STATE = '/run/dray-harness/firewall-before-dockerd.json';

interface FirewallState {
  /** DOCKER* chains that existed, per table. */
  chains: Record<Table, string[]>;
  /** `nft list tables` lines: iptables-nft creates `ip filter`/`ip nat` on first use. */
  nftTables: string[];
  ipForward: string;
  forwardPolicy: string | undefined;
}

/** Records the state, unless a dockerd already runs (then it is not the machine's own state) or it is recorded already. */
function recordFirstState(): void {
  if (otherDockerdRunning()) return;
  const state: FirewallState = {
    chains: { filter: [...dumpTable('filter').chains], nat: [...dumpTable('nat').chains] },
    nftTables: nftTables(),
    ipForward: readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(),
    forwardPolicy: chainPolicy('filter', 'FORWARD'),
  };
  mkdirSync(dirname(FIRST_STATE), { recursive: true });
  try {
    writeFileSync(FIRST_STATE, JSON.stringify(state), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // the first one's record stands
  }
}

/** Bridges whose IPv4 address lies in our pool: the user networks this dockerd created. */
function poolBridges(poolPrefix: string): string[] {
  const out: string[] = [];
  const text = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' });
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+(\S+)/.exec(line);
    if (m?.[1] && m[2]?.startsWith(poolPrefix)) out.push(m[1]);
  }
  return out;
}

function otherDockerdRunning(): boolean {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/comm`, 'utf8').trim() === 'dockerd' && alive(Number(e))) return true;
    } catch { /* gone */ }
  }
  return false;
}

/** Removes the rules naming our bridges or subnets, the bridges, and (when we were the last dockerd) the DOCKER* chains and jumps we added. */
function cleanFirewall(net: BridgeNet): void {
  const bridges = [net.bridge, ...poolBridges(net.poolPrefix)];
  const tokens = [...bridges, net.prefix, net.poolPrefix];
  for (const table of TABLES) {
    for (const rule of dumpTable(table).rules) {
      if (mentions(rule, tokens)) tryDo(() => deleteRule(table, rule));
    }
  }
  for (const b of bridges) tryDo(() => execFileSync('ip', ['link', 'del', b], { stdio: 'ignore' }));
  if (otherDockerdRunning() || !existsSync(FIRST_STATE)) return;
  const before = JSON.parse(readFileSync(FIRST_STATE, 'utf8')) as FirewallState;
  rmSync(FIRST_STATE, { force: true });
  for (const table of TABLES) {
    const now = dumpTable(table);
    const ours = [...now.chains].filter((c) => c.startsWith('DOCKER') && !before.chains[table].includes(c));
    if (ours.length === 0) continue;
    // Jumps into our chains from chains that stay (FORWARD, PREROUTING, OUTPUT…).
    for (const rule of now.rules) {
      const words = rule.split(' ');
      const chain = words[1] ?? '';
      const target = words[words.indexOf('-j') + 1] ?? '';
      if (!ours.includes(chain) && ours.includes(target)) tryDo(() => deleteRule(table, rule));
    }
    for (const c of ours) tryDo(() => deleteChain(table, c));
  }
  if (before.forwardPolicy && chainPolicy('filter', 'FORWARD') !== before.forwardPolicy) {
    tryDo(() => execFileSync('iptables', ['-w', '-P', 'FORWARD', before.forwardPolicy!], { stdio: 'ignore' }));
  }
  if (readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() !== before.ipForward) {
    tryDo(() => writeFileSync('/proc/sys/net/ipv4/ip_forward', before.ipForward));
  }
  // Tables iptables-nft created for dockerd, now empty again (only built-in chains, no rules).
  for (const table of TABLES) {
    const line = `table ip ${table}`;
    if (before.nftTables.includes(line) || !nftTables().includes(line)) continue;
    const now = dumpTable(table);
    const builtin = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];
    if (now.rules.length === 0 && [...now.chains].every((c) => builtin.includes(c))) {
      tryDo(() => execFileSync('nft', ['delete', 'table', 'ip', table], { stdio: 'ignore' }));
    }
  }
}

/** The nftables tables, or none where nft is missing or iptables is the legacy one. */
export function nftTables(): string[] {
  try {
    return execFileSync('nft', ['list', 'tables'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

function tryDo(f: () => void): void {
  try { f(); } catch { /* best effort: the clean-up checks report what is left */ }
}
