// create: sets up the container and leaves its process waiting on the exec
// fifo. Validates first; on any failure removes everything it made (process,
// cgroup, state directory) before rethrowing.
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { native } from '../../common/native.ts';
import { cgroupMountRecords, newCgroup, removeCgroup } from '../cgroup.ts';
import type { RuntimeContext } from '../context.ts';
import { RuntimeError } from '../errors.ts';
import { runHooks } from '../hooks.ts';
import { buildCreatePlan } from '../plan/build.ts';
import { listenerPayload, seccompPlan } from '../plan/seccomp.ts';
import { withDefaultDeviceRules } from '../plan/devices.ts';
import { listenConsole, type ConsoleSocket } from '../process/console.ts';
import { launchExecutor, type ExecutorSpawner, type Launched } from '../process/launch.ts';
import { procInfo } from '../state/proc.ts';
import { hookState } from '../state/status.ts';
import { validateId, type ContainerRecord } from '../state/store.ts';
import { loadBundle } from './load-bundle.ts';

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  preserveFds?: number;
  /** Who starts the executor (default: our child); dray-containerd's built-in runtime: the shim. */
  spawnExecutor?: ExecutorSpawner;
  /** Internal (run in the foreground): the executor stays and exits with the container's status. */
  monitor?: boolean;
  stdio?: [number | 'inherit' | 'ignore', number | 'inherit' | 'ignore', number | 'inherit' | 'ignore'];
}

export interface Created {
  record: ContainerRecord;
  launched: Launched;
  /** Foreground with a terminal and no --console-socket: the pty master, for run to proxy. */
  consoleMaster?: number;
}

export function writePidFile(path: string, pid: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, String(pid));
  renameSync(tmp, path);
}

const S_IFIFO = 0o010000;

export async function create(ctx: RuntimeContext, o: CreateOptions): Promise<Created> {
  const id = validateId(o.id);
  const b = loadBundle(o.bundle);
  const proc = b.spec.process!;
  if (proc.terminal && !o.consoleSocket && !o.monitor) throw new RuntimeError('cannot allocate tty if runc will detach without setting console socket');
  if (!proc.terminal && o.consoleSocket) throw new RuntimeError('cannot use console socket if runc will not detach or allocate tty');
  const preserveFds = o.preserveFds ?? 0;
  if (!Number.isInteger(preserveFds) || preserveFds < 0 || preserveFds > 1000) throw new RuntimeError(`invalid --preserve-fds ${preserveFds}`);
  const seccomp = seccompPlan(b.spec, ctx.warn);
  const cg = newCgroup(b.spec.linux?.cgroupsPath, id);
  const { store } = ctx;
  store.claim(id);
  let ownConsole: ConsoleSocket | undefined;
  const unlock = store.lock(id);
  let cgMade = false;
  let pid = 0;
  try {
    const fifo = store.fifo(id);
    native().mknod(fifo, S_IFIFO | 0o622, 0, 0);
    chmodSync(fifo, 0o622); // mknod's mode went through the umask
    cg.create();
    cgMade = true;
    for (const w of cg.set(withDefaultDeviceRules(b.spec.linux?.resources) ?? {}).warnings) ctx.warn(w);
    const saved = cg.saved();
    const record: ContainerRecord = {
      ociVersion: b.spec.ociVersion, id, pid: 0, bundle: b.dir, rootfs: b.rootfs, created: new Date().toISOString(),
      owner: safeUser(), annotations: b.spec.annotations ?? {}, initStartTime: '', config: b.spec, cgroup: saved,
    };
    let consoleSocket = o.consoleSocket;
    let spec = b.spec;
    if (proc.terminal && !consoleSocket) {
      ownConsole = await listenConsole(join(store.dir(id), 'console.sock'));
      consoleSocket = ownConsole.path;
      const out = process.stdout;
      if (!proc.consoleSize && out.isTTY) spec = { ...spec, process: { ...proc, consoleSize: { height: out.rows, width: out.columns } } };
    }
    const plan = buildCreatePlan({
      spec, bundle: b.dir, rootfs: b.rootfs, execFifo: fifo, consoleSocket,
      noPivot: o.noPivot, noNewKeyring: o.noNewKeyring, id, preserveFds, monitor: o.monitor, seccomp,
      cgroupMounts: (dest, flags) => cgroupMountRecords(saved, dest, flags),
    });
    const launched = await launchExecutor({
      plan, preserveFds, stdio: o.stdio, until: 'ready', spawn: o.spawnExecutor,
      onPid: (p) => {
        pid = p;
        record.pid = p;
        cg.apply(p);
        // before the executor may finish: a shim that started it reads the pid once it has exited
        if (o.pidFile) writePidFile(o.pidFile, p);
        return hookState(record, 'creating');
      },
      listenerPayload: (p) => listenerPayload(seccomp, p, hookState(record, 'creating')),
      onHooks: async () => {
        const state = hookState(record, 'creating');
        await runHooks('prestart', b.spec.hooks?.prestart, state, ctx.hookIo);
        await runHooks('createRuntime', b.spec.hooks?.createRuntime, state, ctx.hookIo);
      },
    });
    const info = procInfo(pid);
    if (!info) throw new RuntimeError('container init exited during create');
    record.initStartTime = info.startTime;
    store.write(record);
    const consoleMaster = ownConsole ? await ownConsole.master() : undefined;
    return { record, launched, consoleMaster };
  } catch (err) {
    if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    if (pid && o.pidFile) rmSync(o.pidFile, { force: true });
    if (cgMade) await removeCgroup(cg).catch((e: Error) => ctx.warn(`remove cgroup: ${e.message}`));
    store.remove(id);
    throw err;
  } finally {
    ownConsole?.close();
    unlock();
  }
}

/**
 * The caller's user name for the state's owner. /etc/passwd first: os.userInfo()
 * goes through NSS (nsswitch.conf, its modules), milliseconds a CLI verb pays.
 */
function safeUser(): string {
  const uid = process.getuid?.();
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && f[2] === String(uid) && f[0]) return f[0];
    }
  } catch { /* no /etc/passwd: ask NSS */ }
  try { return userInfo().username; } catch { return String(uid ?? ''); }
}

