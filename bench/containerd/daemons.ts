// Starting dray-containerd and the real containerd 1.6 side by side on their
// own directories and sockets (containerd without its CRI plugin), timed
// from exec to a socket that accepts connections, and a grpc-js client for
// the subset of containerd's API the benches use (hand-written protos here).
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadPackageDefinition, credentials, Metadata, type Client, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const root = new URL('../../', import.meta.url).pathname;

export interface Daemon { address: string; stop(): Promise<void> }

function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export async function startTimed(cmd: string, args: string[], socket: string): Promise<{ ms: number; daemon: Daemon }> {
  const t0 = performance.now();
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  for (let i = 0; ; i++) {
    if (i > 20_000) throw new Error(`${cmd} did not start`);
    if (child.exitCode !== null) throw new Error(`${cmd} exited ${child.exitCode}`);
    if (await socketAccepts(socket)) break;
    await new Promise((r) => setTimeout(r, 1));
  }
  const ms = performance.now() - t0;
  return {
    ms,
    daemon: {
      address: socket,
      stop: () => new Promise<void>((resolve) => {
        if (child.exitCode !== null) { resolve(); return; }
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
    },
  };
}

export function drayStart(dir: string): Promise<{ ms: number; daemon: Daemon }> {
  const sock = join(dir, 'dray.sock');
  return startTimed(join(root, 'bin/dray-containerd'), ['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-H', `unix://${sock}`, '--pidfile', join(dir, 'dray.pid')], sock);
}

export function containerdStart(dir: string): Promise<{ ms: number; daemon: Daemon }> {
  const sock = join(dir, 'containerd.sock');
  mkdirSync(join(dir, 'root'), { recursive: true });
  mkdirSync(join(dir, 'state'), { recursive: true });
  const cfg = join(dir, 'config.toml');
  writeFileSync(cfg, [
    'version = 2', `root = ${JSON.stringify(join(dir, 'root'))}`, `state = ${JSON.stringify(join(dir, 'state'))}`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]', `  address = ${JSON.stringify(sock)}`, '[ttrpc]', `  address = ${JSON.stringify(sock + '.ttrpc')}`,
    '[metrics]', '  address = ""', '[plugins."io.containerd.internal.v1.opt"]', `  path = ${JSON.stringify(join(dir, 'opt'))}`, '',
  ].join('\n'));
  return startTimed('/usr/bin/containerd', ['--config', cfg], sock);
}


/** A client of containerd's containers or tasks service, in namespace "bench". */
export function containerdClient(address: string, service: 'containers' | 'tasks'): { call(method: string, req: object): Promise<unknown>; close(): void } {
  const def = loadSync(join(root, `bench/containerd/containerd-${service}.proto`), { keepCase: false, longs: Number, defaults: true });
  const Svc = (loadPackageDefinition(def) as unknown as Record<string, Record<string, Record<string, Record<string, Record<string, ServiceClientConstructor>>>>>)['containerd']!['services']![service]!['v1']![service === 'tasks' ? 'Tasks' : 'Containers']!;
  const client = new Svc(`unix://${address}`, credentials.createInsecure()) as Client & Record<string, (req: object, md: Metadata, cb: (e: ServiceError | null, r: unknown) => void) => void>;
  const md = new Metadata();
  md.set('containerd-namespace', 'bench');
  return {
    call: (method, req) => new Promise((resolve, reject) => {
      client[method]!.call(client, req, md, (e, r) => (e ? reject(e) : resolve(r)));
    }),
    close: () => client.close(),
  };
}
