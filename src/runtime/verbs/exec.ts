// exec: runs another process in a running container: it joins the
// container's namespaces (setns in the executor) and cgroup, gets the
// container's seccomp filter, and by default the container's process
// settings (args, env, cwd, user, caps overridable), as runc exec does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { containerCgroup } from '../cgroup.ts';
import { capName } from '../plan/capabilities.ts';
import type { Process } from '../config/types.ts';
import { validateProcessJson } from '../config/validate.ts';
import type { RuntimeContext } from '../context.ts';
import { RuntimeError } from '../errors.ts';
import { buildExecPlan } from '../plan/exec.ts';
import { listenerPayload, seccompPlan } from '../plan/seccomp.ts';
import { listenConsole, proxyConsole } from '../process/console.ts';
import { launchExecutor, type ExecutorSpawner } from '../process/launch.ts';
import { liveStatus, ociState } from '../state/status.ts';
import { writePidFile } from './create.ts';

export interface ExecOptions {
  id: string;
  /** --process FILE: a process.json replaces the container's process entirely. */
  processFile?: string;
  args?: string[];
  tty?: boolean;
  consoleSocket?: string;
  detach?: boolean;
  pidFile?: string;
  env?: string[];
  cwd?: string;
  /** "uid[:gid]" */
  user?: string;
  additionalGids?: number[];
  caps?: string[];
  noNewPrivs?: boolean;
  preserveFds?: number;
  ignorePaused?: boolean;
  stdio?: [number | 'inherit' | 'ignore', number | 'inherit' | 'ignore', number | 'inherit' | 'ignore'];
  /** Who starts the executor (default: a child of this process; the warm server has its caller start it). */
  spawnExecutor?: ExecutorSpawner;
}

function processFor(base: Process | undefined, o: ExecOptions): Process {
  if (o.processFile) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(o.processFile === '-' ? 0 : o.processFile, 'utf8'));
    } catch (err) {
      throw new RuntimeError(`process file ${o.processFile}: ${(err as Error).message}`);
    }
    return validateProcessJson(raw);
  }
  if (!o.args?.length) throw new RuntimeError('exec needs a command (or --process)');
  const p: Process = structuredClone(base ?? { user: { uid: 0, gid: 0 }, cwd: '/' });
  p.args = o.args;
  p.terminal = o.tty === true;
  if (o.env?.length) p.env = [...(p.env ?? []), ...o.env];
  if (o.cwd) p.cwd = o.cwd;
  if (o.user) {
    const m = /^([0-9]+)(?::([0-9]+))?$/.exec(o.user);
    if (!m) throw new RuntimeError(`invalid --user ${JSON.stringify(o.user)}: want uid[:gid]`);
    p.user = { ...p.user, uid: Number(m[1]), gid: m[2] !== undefined ? Number(m[2]) : p.user.gid };
  }
  if (o.additionalGids?.length) p.user = { ...p.user, additionalGids: o.additionalGids };
  if (o.caps?.length) {
    const c = p.capabilities ?? {};
    const add = o.caps.map(capName);
    for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const) {
      if (set === 'inheritable' || set === 'ambient') continue;
      c[set] = [...new Set([...(c[set] ?? []), ...add])];
    }
    p.capabilities = c;
  }
  if (o.noNewPrivs) p.noNewPrivileges = true;
  return validateProcessJson(p);
}

/** Returns the process's exit status (foreground) or 0 once it runs (detach). */
export async function exec(ctx: RuntimeContext, o: ExecOptions): Promise<number> {
  const rec = ctx.store.read(o.id);
  const cg = containerCgroup(rec);
  const status = liveStatus(ctx.store, rec, cg);
  if (status === 'stopped') throw new RuntimeError('cannot exec in a stopped container');
  if (status === 'paused' && !o.ignorePaused) throw new RuntimeError('cannot exec in a paused container (use --ignore-paused)');
  const proc = processFor(rec.config.process, o);
  if (proc.terminal && !o.consoleSocket && o.detach) throw new RuntimeError('cannot allocate tty if runc will detach without setting console socket');
  if (!proc.terminal && o.consoleSocket) throw new RuntimeError('cannot use console socket if runc will not detach or allocate tty');
  const seccomp = seccompPlan(rec.config, ctx.warn);
  // In the foreground with a terminal and no --console-socket we take the pty and proxy it, as run does.
  const own = proc.terminal && !o.consoleSocket ? await listenConsole(join(ctx.store.dir(o.id), `exec-${process.pid}.sock`)) : undefined;
  const plan = buildExecPlan({
    config: rec.config, initPid: rec.pid, process: proc, rootfs: rec.rootfs, consoleSocket: own?.path ?? o.consoleSocket,
    preserveFds: o.preserveFds ?? 0, monitor: !o.detach, seccomp,
  });
  const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];
  let pid = 0;
  const forward = (sig: NodeJS.Signals): void => { if (pid) try { process.kill(pid, sig); } catch { /* gone */ } };
  if (!o.detach) for (const s of FORWARDED) process.on(s, forward);
  try {
    const launched = await launchExecutor({
      plan, preserveFds: o.preserveFds ?? 0, stdio: o.stdio, until: 'exec', ...(o.spawnExecutor ? { spawn: o.spawnExecutor } : {}),
      onPid: (p) => { pid = p; cg?.apply(p); return ''; },
      listenerPayload: (p) => listenerPayload(seccomp, p, JSON.stringify(ociState(rec, 'running'))),
    });
    if (o.pidFile) writePidFile(o.pidFile, launched.pid);
    if (o.detach) return 0;
    if (own) await proxyConsole(await own.master(), launched.exited);
    return await launched.exited;
  } finally {
    own?.close();
    if (!o.detach) for (const s of FORWARDED) process.off(s, forward);
  }
}
