// Starts drayd (src/cmd/drayd.ts) as its own process on private dirs, a
// private socket and a private cgroup parent, for tests driving it with the
// real docker CLI; kill9() and restart() for the live-restore tests; stop()
// removes every container, then the daemon, mounts, cgroups and dirs.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER_CLI, execCommand, ping, waitUntil, type DockerCli, type ExecResult } from '../../harness/index.ts';
import { track, untrack, type Peer } from '../../harness/peers.ts';
import { killProcessesMentioning, terminate } from '../../harness/cleanup.ts';
import { native } from '../../../src/common/native.ts';
import { Firewall } from '../../../src/network/firewall.ts';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';

// bin/drayd (its bundle, as users run it); with nodeFlags, the sources on Node with those flags
const NODE = new URL('../../../node_modules/.bin/node', import.meta.url).pathname;
const DRAYD_SOURCE = new URL('../../../src/cmd/drayd.ts', import.meta.url).pathname;
const DRAYD_BIN = new URL('../../../bin/drayd', import.meta.url).pathname;

export interface DockerRunOptions { cli?: DockerCli; input?: string; timeoutMs?: number }

export interface Drayd {
  dir: string;
  socket: string;
  host: string;
  dataRoot: string;
  execRoot: string;
  cgroupParent: string;
  cliEnv: NodeJS.ProcessEnv;
  /** This daemon's default bridge, user-network bridge prefix and iptables chain prefix. */
  net: { bridge: string; bridgePrefix: string; chainPrefix: string };
  pid(): number;
  docker(args: string[], o?: DockerRunOptions): Promise<string>;
  dockerResult(args: string[], o?: DockerRunOptions): Promise<ExecResult>;
  kill9(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

/** nodeFlags: run src/cmd/drayd.ts on Node with these flags instead of bin/drayd. */
export async function startDrayd(extra: string[] = [], o: { nodeFlags?: string[] } = {}): Promise<Drayd> {
  const dir = mkdtempSync(join(tmpdir(), 'drayd-'));
  const socket = join(dir, 'd.sock');
  const dataRoot = join(dir, 'data');
  const execRoot = join(dir, 'run');
  const cgroupParent = `/${dir.split('/').pop()}`;
  const logFile = join(dir, 'drayd.log');
  // private bridge names and iptables chains, so tests run beside other daemons
  const tag = randomBytes(3).toString('hex');
  const bridge = `drt${tag}`;
  const bridgePrefix = `dru${tag.slice(0, 4)}`;
  const chainPrefix = `DRT${tag.toUpperCase()}`;
  const netArgs = ['--bridge', bridge, '--bridge-prefix', bridgePrefix, '--iptables-chain-prefix', chainPrefix];
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const fd = openSync(logFile, 'a');
    const [cmd, pre] = o.nodeFlags ? [NODE, [...o.nodeFlags, DRAYD_SOURCE]] : [DRAYD_BIN, []];
    child = spawn(cmd, [...pre, '--data-root', dataRoot, '--exec-root', execRoot, '-H', `unix://${socket}`, '--pidfile', join(dir, 'drayd.pid'), '--cgroup-parent', cgroupParent, ...netArgs, ...extra], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const c = child;
    await waitUntil('drayd answers', () => ping(socket), 20_000, () => (c.exitCode !== null ? `drayd exited: ${readFileSync(logFile, 'utf8')}` : undefined));
  };
  await launch();
  const cliEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'cli') };
  // If the test process dies first, the harness's exit handler stops everything this started:
  // drayd, the shims and containers (their processes name the dir), mounts, cgroups, network.
  let stopped = false;
  const emergency: Peer = {
    kind: 'drayd',
    stop() {
      if (stopped) return;
      stopped = true;
      if (child?.pid) terminate(child.pid, 5000, 'SIGKILL');
      killProcessesMentioning([dir]);
      cleanup(dir, cgroupParent);
      cleanupNetwork(bridge, bridgePrefix, chainPrefix);
    },
  };
  track(emergency);
  const d: Drayd = {
    dir, socket, host: `unix://${socket}`, dataRoot, execRoot, cgroupParent, cliEnv,
    net: { bridge, bridgePrefix, chainPrefix },
    pid: () => child?.pid ?? 0,
    dockerResult(args, o = {}) {
      return execCommand(DOCKER_CLI[o.cli ?? 'v28'], args, { env: cliEnv, ...(o.input !== undefined ? { input: o.input } : {}), timeoutMs: o.timeoutMs ?? 60_000 });
    },
    async docker(args, o = {}) {
      const r = await d.dockerResult(args, o);
      if (r.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.signal ?? `exit ${r.code}`}): ${r.stderr.trim() || r.stdout.trim()}`);
      return r.stdout;
    },
    async kill9() {
      const c = child!;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    },
    async restart() {
      await launch();
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    async stop() {
      try {
        if (child && child.exitCode === null && child.signalCode === null) {
          const ids = (await d.dockerResult(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
          if (ids.length) await d.dockerResult(['rm', '-f', ...ids]);
          const c = child;
          const exited = new Promise((r) => c.once('exit', r));
          c.kill('SIGTERM');
          await exited;
        }
      } finally {
        emergency.stop();
        untrack(emergency);
      }
    },
  };
  return d;
}

/** The daemon's bridges and iptables chains (kernel state outlives drayd by design). */
function cleanupNetwork(bridge: string, bridgePrefix: string, chainPrefix: string): void {
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '');
  for (const l of links) {
    if (l === bridge || l.startsWith(bridgePrefix)) {
      try { execFileSync('ip', ['link', 'del', l], { stdio: 'ignore' }); } catch { /* gone */ }
    }
  }
  new Firewall(chainPrefix).remove();
}

/** Whatever a failed test left: mounts under dir, the cgroup parent, the dir. */
function cleanup(dir: string, cgroupParent: string): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(dir)).reverse();
  for (const m of mounts) {
    try { native().umount2(m, 2 /* MNT_DETACH */); } catch { /* gone */ }
  }
  for (const ctl of readdirSync('/sys/fs/cgroup')) {
    const p = join('/sys/fs/cgroup', ctl, cgroupParent);
    if (!existsSync(p)) continue;
    for (const sub of readdirSync(p, { withFileTypes: true })) {
      if (sub.isDirectory()) rmdirWhenFree(join(p, sub.name));
    }
    rmdirWhenFree(p);
  }
  rmSync(dir, { recursive: true, force: true });
}

/**
 * rmdir of a cgroup, retried while it is busy: a killed container's last
 * process may still be a zombie waiting for its reaper (this machine's pid 1
 * reaps slowly). Synchronous, since exit handlers call it; bounded to ~3 s.
 */
function rmdirWhenFree(path: string): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 60; i++) {
    try { rmdirSync(path); return; } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') return; // best effort: cleanup must not throw from an exit handler
    }
    Atomics.wait(pause, 0, 0, 50);
  }
}
