// The warm runtime server: one Node process per --root, started on demand
// by bin/dray-runc (native/launcher/warm.c) and gone after IDLE_MS without
// a caller, that does create's, run's and detached exec's policy work
// (validation, cgroup, plan, state) for a launcher that has no Node start
// to pay (a shim's `exec --detach`, as containerd's shim calls runc, too). The process
// tree stays runc's: the executor (so the container's init) is forked by
// the calling launcher, never by this server; the plan and the sync
// protocol go over a pipe and a socket pair the launcher made and sent here
// (SCM_RIGHTS).
//
// Trust: the socket is 0600 in the root directory and each peer must be
// uid 0 (SO_PEERCRED) in this server's namespaces and cgroups with its
// umask; anything this server does not do exactly as the CLI would (a
// terminal to proxy, --preserve-fds, usage errors, any other verb) gets
// "fallback" before anything is touched, and the launcher then runs the
// Node CLI as usual. Hooks run here with the caller's stdout, stderr and
// cwd (their parent is this server, not the launcher: as with the CLI,
// nothing waits for them but the verb).

//
// Wire (a stream; launcher -> server first, with four fds: the plan pipe's
// write end, the sync socket's end, its stdout and stderr for the hooks):
//   u32 LE length, then NUL-separated: "DRAYWARM2", umask (octal), cwd,
//   root, log file ("" = none), log format ("" = text), verb, its args...
// then lines. server -> launcher: "fallback", "spawn", "pid N" (run: the
// container, for signal forwarding), "kill", "stderr LEN\n<bytes>",
// "exit CODE". launcher -> server: "spawned PID", "spawnerr MSG",
// "exited CODE" (the executor's status, 128+signal if killed).
import { chmodSync, closeSync, mkdirSync, readFileSync, readlinkSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../../common/command-line.ts';
import { native } from '../../common/native.ts';
import { createFlags, createOpts, runFlags } from '../cli/create-flags.ts';
import { execFlags, execOpts } from '../cli/exec-flags.ts';
import { parseGoFlags } from '../cli/go-flags.ts';
import { runtimeContext, type RuntimeContext } from '../context.ts';
import { RuntimeLog } from '../log.ts';
import type { ExecutorSpawner, SpawnedExecutor } from '../process/launch.ts';
import { create } from '../verbs/create.ts';
import { run } from '../verbs/run.ts';
import { exec, type ExecOptions } from '../verbs/exec.ts';

const IDLE_MS = 5000;
const MAGIC = 'DRAYWARM2';
const SAME = ['ns/mnt', 'ns/pid', 'ns/net', 'ns/user', 'ns/ipc', 'ns/uts', 'ns/cgroup', 'cgroup'];

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function procView(pid: number | 'self'): string[] {
  return SAME.map((p) => {
    try { return p.startsWith('ns/') ? readlinkSync(`/proc/${pid}/${p}`) : readFileSync(`/proc/${pid}/${p}`, 'utf8'); } catch { return `?${p}`; }
  });
}

/** Runs until idle; returns the exit code. */
export async function serve(sockPath: string): Promise<number> {
  if (!sockPath.startsWith('/') || !sockPath.endsWith('.sock') || !sockPath.includes('/dray-runc@warm-')) return 1;
  const root = dirname(sockPath);
  mkdirSync(root, { recursive: true, mode: 0o711 });
  // process.umask() reads by setting: once, before any request.
  const myUmask = process.umask(0o077);
  const myView = procView('self');
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(sockPath, ok);
  }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EADDRINUSE') throw err;
    // A live server answers; a dead one left its socket file behind.
    const alive = await new Promise<boolean>((r) => {
      const c = net.connect(sockPath, () => { c.destroy(); r(true); });
      c.on('error', () => r(false));
    });
    if (alive) throw err;
    unlinkSync(sockPath);
    await new Promise<void>((ok, fail) => { server.once('error', fail); server.listen(sockPath, ok); });
  }).finally(() => process.umask(myUmask));
  chmodSync(sockPath, 0o600);
  const ino = statSync(sockPath).ino;

  let active = 0;
  let idle: NodeJS.Timeout | undefined;
  const done = new Promise<number>((resolveDone) => {
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        if (active) return;
        server.close();
        try { if (statSync(sockPath).ino === ino) unlinkSync(sockPath); } catch { /* removed with the root */ }
        resolveDone(0);
      }, IDLE_MS);
    };
    server.on('connection', (c: net.Socket) => {
      active++;
      clearTimeout(idle);
      c.on('error', () => {});
      c.once('close', () => { active--; if (!active) arm(); });
      serveOne(c, { root, umask: myUmask, view: myView }).catch(() => c.destroy());
    });
    arm();
  });
  return done;
}

interface ServerEnv { root: string; umask: number; view: string[] }

async function receive(fd: number): Promise<{ data: Buffer; fds: number[] } | null> {
  // The launcher writes right after connecting: usually here already.
  for (let i = 0; i < 2000; i++) {
    try {
      const got = native().recvFds(fd, 65536);
      let data = got.data;
      if (data.length === 0) return null;
      for (let j = 0; data.length < 4 || data.length < 4 + data.readUInt32LE(0); j++) {
        if (j > 2000) return null;
        try {
          const more = native().recvFds(fd, 65536);
          for (const f of more.fds) closeFd(f);
          if (more.data.length === 0) return null;
          data = Buffer.concat([data, more.data]);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          await tick(1);
        }
      }
      return { data: data.subarray(4, 4 + data.readUInt32LE(0)), fds: got.fds };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      await tick(i < 10 ? 0 : 1);
    }
  }
  return null;
}

function closeFd(fd: number): void {
  try { closeSync(fd); } catch { /* already closed */ }
}

async function serveOne(c: net.Socket, env: ServerEnv): Promise<void> {
  const fd = (c as unknown as { _handle: { fd: number } })._handle.fd;
  const cred = native().peerCred(fd);
  if (cred.uid !== 0) { c.destroy(); return; }
  const req = await receive(fd);
  if (!req) { c.destroy(); return; }
  let fds = req.fds;
  try {
    await answer(c, req.data, cred.pid, env, { take: () => { const t = fds; fds = []; return t; }, count: () => fds.length });
  } finally {
    for (const f of fds) closeFd(f); // not handed to a verb: ours to close
  }
}

interface HeldFds {
  /** Hands the fds over (to the executor's spawner, or to be closed): the caller no longer closes them. */
  take(): number[];
  count(): number;
}

type VerbFn = (ctx: RuntimeContext, spawnExecutor: ExecutorSpawner, onCreated: (pid: number) => void) => Promise<number>;

/**
 * The verb as the CLI would run it, or undefined when this server must
 * decline it (the launcher then runs the CLI): usage errors, --help,
 * --preserve-fds, a terminal to proxy through the caller's stdio, an exec
 * that is not detached (its output and exit belong to the CLI) or reads its
 * process from stdin. Paths are the caller's, resolved against its cwd.
 */
function prepare(verb: string, args: string[], cwd: string): VerbFn | undefined {
  let values;
  let rest: string[];
  try {
    ({ values, rest } = parseGoFlags(args, [...(verb === 'run' ? runFlags : verb === 'exec' ? execFlags : createFlags), { name: 'help', short: 'h', kind: 'bool' }]));
  } catch (err) {
    if (err instanceof UsageError) return undefined;
    throw err;
  }
  if (values['help'] || rest.length < 1 || values['preserve-fds'] !== undefined) return undefined;
  const detach = values['detach'] === true;
  if (verb === 'exec') {
    let o: ExecOptions;
    try { o = execOpts(values, rest); } catch { return undefined; }
    if (!detach || o.processFile === '-' || values['pidfd-socket'] !== undefined) return undefined;
    if (o.processFile !== undefined) o.processFile = resolve(cwd, o.processFile);
    if (o.pidFile !== undefined) o.pidFile = resolve(cwd, o.pidFile);
    if (o.consoleSocket !== undefined) o.consoleSocket = resolve(cwd, o.consoleSocket);
    return (ctx, spawnExecutor) => exec(ctx, { ...o, spawnExecutor });
  }
  let opts;
  try { opts = createOpts(values, rest[0]!); } catch { return undefined; }
  opts.bundle = resolve(cwd, opts.bundle);
  if (opts.pidFile !== undefined) opts.pidFile = resolve(cwd, opts.pidFile);
  if (opts.consoleSocket !== undefined) opts.consoleSocket = resolve(cwd, opts.consoleSocket);
  // A terminal without --console-socket is proxied through the CLI's own stdio: the CLI's to do.
  let peek: { process?: { terminal?: boolean } };
  try { peek = JSON.parse(readFileSync(resolve(opts.bundle, 'config.json'), 'utf8')) as typeof peek; } catch { return undefined; }
  if (typeof peek !== 'object' || peek === null) return undefined;
  if (verb === 'run' && !detach && peek.process?.terminal === true && opts.consoleSocket === undefined) return undefined;
  const o = opts;
  if (verb === 'create') return async (ctx, spawnExecutor) => { await create(ctx, { ...o, spawnExecutor }); return 0; };
  return (ctx, spawnExecutor, onCreated) => run(ctx, { ...o, detach, spawnExecutor, onCreated });
}

async function answer(c: net.Socket, data: Buffer, peerPid: number, env: ServerEnv, held: HeldFds): Promise<void> {
  const send = (s: string): void => { if (!c.destroyed) c.write(s); };
  const decline = (): void => {
    for (const f of held.take()) closeFd(f);
    send('fallback\n');
    c.resume(); // paused since accept: read the launcher's end, or 'close' never comes
    c.end();
  };
  const parts = data.toString('utf8').split('\0');
  const [magic, umask, cwd, root, logFile, logFormat, verb, ...args] = parts;
  if (magic !== MAGIC || held.count() !== 4 || root !== env.root || cwd === undefined || !cwd.startsWith('/') ||
      Number.parseInt(umask ?? '', 8) !== env.umask || (verb !== 'create' && verb !== 'run' && verb !== 'exec')) return decline();
  const view = procView(peerPid);
  if (view.some((v, i) => v !== env.view[i])) return decline();

  const verbFn = prepare(verb, args, cwd);
  if (!verbFn) return decline();

  // From here on this server answers for the verb.
  const [planFd, syncFd, outFd, errFd] = held.take() as [number, number, number, number];
  let executorFds = [planFd, syncFd];
  try {
    const stderr = (text: string): void => send(`stderr ${Buffer.byteLength(text)}\n${text}`);
    const log = new RuntimeLog({ file: logFile ? resolve(cwd, logFile) : undefined, format: logFormat || undefined, sink: stderr });
    const ctx = runtimeContext({ root: env.root, warn: (m) => log.warn(m), debug: (m) => log.debug(m), hookIo: { stdout: outFd, stderr: errFd, cwd } });

    let onSpawned: ((line: string) => void) | undefined;
    let onExited: ((code: number) => void) | undefined;
    const exited = new Promise<number>((r) => { onExited = r; });
    let buf = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      buf += d;
      for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
        const line = buf.slice(0, i);
        if (line.startsWith('exited ')) onExited?.(Number(line.slice(7)));
        else if (line.startsWith('spawned ') || line.startsWith('spawnerr ')) onSpawned?.(line);
      }
    });
    // The launcher gone (killed, as a CLI can be): as with the CLI's death, the
    // executor then sees its sync socket close and gives up, and create cleans up.
    let syncSock: net.Socket | undefined;
    let finished = false;
    c.once('close', () => {
      if (!finished) syncSock?.destroy();
      onExited?.(137);
      onSpawned?.('spawnerr the launcher went away');
    });
    c.resume();

    const spawnExecutor: ExecutorSpawner = (o): SpawnedExecutor => {
      const ok = o.planFd === 3 && o.syncFd === 4 && Array.isArray(o.stdio) && o.stdio.length === 5 &&
        o.stdio.slice(0, 3).every((s) => s === 'inherit') && o.stdio.slice(3).every((s) => s === 'pipe');
      const failed = new Promise<never>((_, reject) => {
        if (!ok) { reject(new Error('warm server: unexpected executor stdio')); return; }
        onSpawned = (line) => { if (line.startsWith('spawnerr ')) reject(new Error(`start executor: ${line.slice(9)}`)); };
      });
      failed.catch(() => {});
      executorFds = [];
      const plan = new net.Socket({ fd: planFd, readable: false, writable: true });
      plan.on('finish', () => plan.destroy());
      const sync = new net.Socket({ fd: syncFd, readable: true, writable: true });
      syncSock = sync;
      if (c.destroyed) sync.destroy();
      if (ok) send('spawn\n');
      return { plan, sync, exited, failed, kill: () => send('kill\n') };
    };

    let code = 1;
    try {
      code = await verbFn(ctx, spawnExecutor, (pid) => send(`pid ${pid}\n`));
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      log.error(msg);
      stderr(`dray-runc: ${msg}\n`);
    }
    finished = true;
    send(`exit ${code}\n`);
    c.end();
  } finally {
    for (const f of [...executorFds, outFd, errFd]) closeFd(f);
  }
}
