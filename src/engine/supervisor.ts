// drayd's dray-containerd, as dockerd has its containerd: the one at
// --containerd when given, else a managed one on drayd's own directories
// (<data-root>/containerd, <exec-root>/containerd), started when none answers
// there. The managed one is its own session: a kill -9 of drayd leaves it
// (and every task) running, and the next drayd finds it by its pidfile.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SupervisorClient, isAlreadyExists } from '../supervisor/client/index.ts';
import { repoPath } from '../common/paths.ts';

/** dockerd's namespace in containerd. */
export const ENGINE_NAMESPACE = 'moby';

const DRAY_CONTAINERD = repoPath('bin/dray-containerd');

export interface EngineSupervisor {
  client: SupervisorClient;
  address: string;
  /** The managed daemon's pid (0 when --containerd named one). */
  pid: number;
  /** Closes the connection; stops the managed daemon (its tasks keep running). */
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

function readPid(path: string): number {
  try { return Number.parseInt(readFileSync(path, 'utf8').trim(), 10) || 0; } catch { return 0; }
}

async function answers(address: string, ms: number): Promise<SupervisorClient | undefined> {
  const c = new SupervisorClient(address, { namespace: ENGINE_NAMESPACE });
  try {
    await c.waitReady(ms);
    await c.version();
    return c;
  } catch {
    c.close();
    return undefined;
  }
}

async function ready(c: SupervisorClient): Promise<void> {
  await c.namespaces.create(ENGINE_NAMESPACE, {}).catch((err: unknown) => { if (!isAlreadyExists(err)) throw err; });
}

export async function connectSupervisor(o: { address?: string; dataRoot: string; execRoot: string; debug?: boolean; log?: (m: string) => void }): Promise<EngineSupervisor> {
  if (o.address) {
    const c = await answers(o.address, 10_000);
    if (!c) throw new Error(`dray-containerd does not answer at ${o.address}`);
    await ready(c);
    return { client: c, address: o.address, pid: 0, stop: async () => { c.close(); } };
  }
  const state = join(o.execRoot, 'containerd');
  const socket = join(state, 'containerd.sock');
  const address = `unix://${socket}`;
  const pidfile = join(state, 'containerd.pid');
  mkdirSync(state, { recursive: true, mode: 0o711 });
  /** Starts dray-containerd; resolves with its pid once it answers (with a client, when asked for one). */
  const launch = async (): Promise<{ pid: number; client: SupervisorClient }> => {
    const log = openSync(join(state, 'containerd.log'), 'a', 0o600);
    try {
      const child = spawn(DRAY_CONTAINERD, [
        '--data-root', join(o.dataRoot, 'containerd'), '--exec-root', state, '-H', address, '--pidfile', pidfile, ...(o.debug ? ['--debug'] : []),
      ], { detached: true, stdio: ['ignore', log, log] });
      child.unref();
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      const c = await Promise.race([answers(address, 30_000), exited.then(() => undefined)]);
      if (!c) {
        const tail = readFileSync(join(state, 'containerd.log'), 'utf8').split('\n').slice(-5).join('\n');
        throw new Error(`dray-containerd did not start: ${tail}`);
      }
      return { pid: child.pid ?? 0, client: c };
    } finally {
      closeSync(log);
    }
  };
  let pid = readPid(pidfile);
  let c = pid && alive(pid) ? await answers(address, 5000) : undefined;
  if (!c) ({ pid, client: c } = await launch());
  await ready(c);
  const client = c;
  // As dockerd watches its containerd: a managed one that died (kill -9, a
  // crash) is started again; it re-adopts the shims, and the engine's Wait
  // calls, retried meanwhile, find every task again.
  let stopping = false;
  let restarting = false;
  const watchdog = setInterval(() => {
    if (stopping || restarting || alive(pid)) return;
    restarting = true;
    o.log?.(`dray-containerd (pid ${pid}) is gone: starting it again`);
    launch().then(async (r) => {
      r.client.close();
      pid = r.pid;
      if (stopping) process.kill(pid, 'SIGTERM');
      else await ready(client);
    }).catch((err: Error) => o.log?.(`dray-containerd restart failed: ${err.message}`)).finally(() => { restarting = false; });
  }, 1000);
  watchdog.unref();
  return {
    client, address, get pid() { return pid; },
    async stop() {
      stopping = true;
      clearInterval(watchdog);
      client.close();
      if (!pid || !alive(pid)) return;
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    },
  };
}
