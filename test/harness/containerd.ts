// A real containerd (Debian's 1.6) on its own root, state, sockets and
// config, without the CRI plugin (so it needs no CNI). `ctr(...)` runs ctr
// against it. Stopping it kills its shims, unmounts and removes its folders.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanContainerdTasks, killProcessesMentioning, removeTree, terminate } from './cleanup.ts';
import { execCommand, type ExecOptions, type ExecResult } from './exec.ts';
import { awaitReady, launch, PEER_PATH, peerDir, track, untrack, type Peer } from './peers.ts';

export const CONTAINERD = '/usr/bin/containerd';
export const CTR = '/usr/bin/ctr';

export interface ContainerdOptions {
  /** Extra TOML appended to the generated config. */
  extraConfig?: string;
  startTimeoutMs?: number;
}

export interface ContainerdPeer extends Peer {
  readonly pid: number;
  readonly dir: string;
  readonly root: string;
  readonly state: string;
  /** The gRPC socket path (ctr --address). */
  readonly address: string;
  readonly configFile: string;
  readonly logFile: string;
  /** Runs `ctr --address <ours> [-n namespace] args`; throws with stderr on failure; resolves to stdout. */
  ctr(args: string[], opts?: CtrOptions): Promise<string>;
  ctrResult(args: string[], opts?: CtrOptions): Promise<ExecResult>;
}

export interface CtrOptions extends Omit<ExecOptions, 'env'> {
  namespace?: string;
}

export async function startContainerd(opts: ContainerdOptions = {}): Promise<ContainerdPeer> {
  if (process.getuid?.() !== 0) throw new Error('containerd needs root');
  const dir = peerDir('containerd');
  const root = join(dir, 'root');
  const state = join(dir, 'state');
  const address = join(dir, 'containerd.sock');
  const configFile = join(dir, 'config.toml');
  const logFile = join(dir, 'containerd.log');
  mkdirSync(root);
  mkdirSync(state);
  writeFileSync(configFile, [
    'version = 2',
    `root = ${JSON.stringify(root)}`,
    `state = ${JSON.stringify(state)}`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]',
    `  address = ${JSON.stringify(address)}`,
    '[ttrpc]',
    `  address = ${JSON.stringify(`${address}.ttrpc`)}`,
    '[debug]',
    '  level = "info"',
    '[metrics]',
    '  address = ""',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${JSON.stringify(join(dir, 'opt'))}`,
    opts.extraConfig ?? '',
    '',
  ].join('\n'));
  const env: NodeJS.ProcessEnv = { PATH: PEER_PATH, HOME: dir, LANG: 'C.UTF-8' };
  const launched = launch(CONTAINERD, ['--config', configFile], logFile, env);
  const pid = launched.pid;
  let stopped = false;
  const peer: ContainerdPeer = {
    kind: 'containerd', pid, dir, root, state, address, configFile, logFile,
    async ctr(a, o = {}) {
      const r = await this.ctrResult(a, o);
      if (r.code !== 0) throw new Error(`ctr ${a.join(' ')} failed (${r.signal ?? `exit ${r.code}`}): ${r.stderr.trim() || r.stdout.trim()}`);
      return r.stdout;
    },
    ctrResult(a, o = {}) {
      const ns = o.namespace ? ['--namespace', o.namespace] : [];
      return execCommand(CTR, ['--address', address, ...ns, ...a], { ...o, env });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        if (pid > 0) terminate(pid, 15_000);
        cleanContainerdTasks(state, address); // containers outlive containerd and their shims
        killProcessesMentioning([dir]); // shims name our address on their command line
        removeTree(dir);
      } finally {
        untrack(peer);
      }
    },
  };
  track(peer);
  await awaitReady(peer, launched, logFile,
    async () => (await execCommand(CTR, ['--address', address, 'version'], { env, timeoutMs: 5000 })).code === 0, opts.startTimeoutMs ?? 30_000);
  return peer;
}
