// Synchronous clean-up primitives for the harness. Synchronous on purpose:
// the same code runs from a test's `after` hook and from the process 'exit'
// handler, where nothing asynchronous can run any more.
import { existsSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { MNT, native } from '../../src/common/native.ts';

export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie counts as gone: it holds nothing but its pid.
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** SIGTERM (or `signal`), wait up to `graceMs`, then SIGKILL and wait again. True when gone. */
export function terminate(pid: number, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): boolean {
  const deadline = (ms: number): number => Date.now() + ms;
  try { process.kill(pid, signal); } catch { return true; }
  for (let end = deadline(graceMs); Date.now() < end;) {
    if (!alive(pid)) return true;
    sleepSync(50);
  }
  try { process.kill(pid, 'SIGKILL'); } catch { return true; }
  for (let end = deadline(5000); Date.now() < end;) {
    if (!alive(pid)) return true;
    sleepSync(20);
  }
  return !alive(pid);
}

/** Pids of processes whose command line contains any of `needles` (never this process). */
export function processesMentioning(needles: string[]): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (needles.some((n) => cmd.includes(n)) && alive(pid)) out.push(pid);
  }
  return out;
}

/** Kills (SIGKILL) every process that mentions one of `needles` in its command line or has its cwd under one. */
export function killProcessesMentioning(needles: string[]): void {
  for (let round = 0; round < 5; round++) {
    const pids = new Set(processesMentioning(needles));
    for (const e of readdirSync('/proc')) {
      if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
      try {
        const cwd = readlinkSync(`/proc/${e}/cwd`);
        if (needles.some((n) => n.startsWith('/') && (cwd === n || cwd.startsWith(`${n}/`)))) pids.add(Number(e));
      } catch { /* gone, or a kernel thread */ }
    }
    if (pids.size === 0) return;
    for (const pid of pids) terminate(pid, 0, 'SIGKILL');
  }
}

/** Mount points at or under `dir` (from this process's mount table), deepest first. */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(prefix)))
    .sort((a, b) => b.length - a.length);
}

/** Lazily unmounts every mount point at or under `dir`, deepest first (repeats for stacked mounts). */
export function unmountUnder(dir: string): void {
  for (let round = 0; round < 10; round++) {
    const points = mountsUnder(dir);
    if (points.length === 0) return;
    for (const p of points) {
      try { native().umount2(p, MNT.DETACH); } catch { /* already gone */ }
    }
  }
}

/** Unmounts what is under `dir`, then removes it. */
export function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  unmountUnder(dir);
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** The last `lines` lines of a log file, for error messages. */
export function logTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Ends every container a containerd started and removes what it keeps outside
 * its own folders, from <stateDir>/io.containerd.runtime.v2.task/<ns>/<id>:
 * kills the container's init (which ends its pid namespace), removes its
 * cgroup (ctr's default path /<ns>/<id>), its runc state under the shared
 * /run/containerd/runc/<ns>, and its shim socket /run/containerd/s/<sha256 of
 * "<address>/<ns>/<id>">. Works after containerd and the shims are dead.
 */
export function cleanContainerdTasks(stateDir: string, address: string): void {
  const tasks = join(stateDir, 'io.containerd.runtime.v2.task');
  if (!existsSync(tasks)) return;
  const namespaces = new Set<string>();
  for (const ns of readdirSync(tasks)) {
    let ids: string[] = [];
    try { ids = readdirSync(join(tasks, ns)); } catch { continue; }
    namespaces.add(ns);
    for (const id of ids) {
      let pid = 0;
      try { pid = Number(readFileSync(join(tasks, ns, id, 'init.pid'), 'utf8').trim()); } catch { /* never started */ }
      if (pid > 1 && alive(pid)) terminate(pid, 0, 'SIGKILL');
      removeCgroups(`/${ns}/${id}`);
      rmSync(join('/run/containerd/runc', ns, id), { recursive: true, force: true });
      rmSync(join('/run/containerd/s', createHash('sha256').update(join(address, ns, id)).digest('hex')), { force: true });
    }
  }
  // Shared by name with other containerds: removed only when empty.
  for (const ns of namespaces) {
    for (const d of cgroupDirs(`/${ns}`)) rmdirQuiet(d);
    rmdirQuiet(join('/run/containerd/runc', ns));
  }
}

/** The cgroup folders of `parent` in every hierarchy (v1 controllers, and v2). */
export function cgroupDirs(parent: string): string[] {
  const roots = ['/sys/fs/cgroup', ...readdirSync('/sys/fs/cgroup').map((e) => join('/sys/fs/cgroup', e))];
  return roots.map((r) => join(r, parent)).filter((p) => existsSync(join(p, 'cgroup.procs')));
}

/**
 * Kills what still runs in cgroup `parent` and below (container processes
 * outlive a killed daemon and shim, and their command lines name none of our
 * folders), then removes the cgroups, children first, in every hierarchy.
 */
export function removeCgroups(parent: string): void {
  const walk = (p: string, visit: (dir: string) => void): void => {
    let entries: string[] = [];
    try { entries = readdirSync(p, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name); } catch { /* gone */ }
    for (const c of entries) walk(join(p, c), visit);
    visit(p);
  };
  for (let round = 0; round < 5; round++) {
    const pids = new Set<number>();
    for (const dir of cgroupDirs(parent)) {
      walk(dir, (d) => {
        try {
          for (const l of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l) pids.add(Number(l));
        } catch { /* gone */ }
      });
    }
    if (pids.size === 0) break;
    for (const pid of pids) terminate(pid, 0, 'SIGKILL');
  }
  for (const dir of cgroupDirs(parent)) walk(dir, (d) => rmdirQuiet(d));
}

/** Removes an empty cgroup folder; one still in use (or shared and not empty) stays. */
export function rmdirQuiet(dir: string): void {
  try { rmdirSync(dir); } catch { /* busy, not empty, or gone */ }
}
