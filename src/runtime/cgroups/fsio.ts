// Small file helpers for cgroupfs: each write is one write(2) of the whole
// value (the kernel parses per write), and errors name the file and value.
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync, statfsSync, writeSync, constants } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CgroupError } from './errors.ts';

/** One planned write: the whole plan is built (and checked) before the first write. */
export interface CgroupWrite {
  file: string;
  value: string;
}

export function writeValue(file: string, value: string): void {
  let fd: number;
  try {
    // O_TRUNC matters only for fake trees in tests; cgroupfs ignores it.
    fd = openSync(file, constants.O_WRONLY | constants.O_TRUNC);
  } catch (err) {
    throw new CgroupError(`cannot open ${file}: ${(err as Error).message}`);
  }
  try {
    writeSync(fd, value);
  } catch (err) {
    throw new CgroupError(`writing "${value}" to ${file}: ${(err as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

export function applyWrites(writes: readonly CgroupWrite[]): void {
  for (const w of writes) writeValue(w.file, w.value);
}

/** The file's content trimmed, or undefined when it does not exist. */
export function readOpt(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** A single-number file; "max" reads as null (no limit). undefined when absent. */
export function readNumber(file: string): number | null | undefined {
  const s = readOpt(file);
  if (s === undefined || s === '') return undefined;
  if (s === 'max') return null;
  return Number(s.split(/\s+/)[0]);
}

/** A flat keyed file ("key value" per line), as memory.stat, cpu.stat, memory.events. */
export function readKeyed(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  const s = readOpt(file);
  if (s === undefined) return out;
  for (const line of s.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** By stat, not by reading: some cgroup files (cgroup.kill, devices.allow) are write-only. */
export function exists(file: string): boolean {
  return existsSync(file);
}

export function isDir(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** Every cgroup directory under (and including) dir, deepest first. */
export function subtreeDeepestFirst(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 64) throw new CgroupError(`cgroup tree under ${dir} is deeper than 64 levels`);
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) if (e.isDirectory()) walk(join(d, e.name), depth + 1);
    out.push(d);
  };
  walk(dir, 0);
  return out;
}

/**
 * rmdir with bounded retries (as runc: 5 tries, 10 ms doubling, ~150 ms in
 * all): the kernel answers EBUSY while the last tasks of a cgroup are still
 * exiting. On a fake tree (tests), the directory holds plain files, so those
 * are removed first: only when `fake` is set.
 */
export async function removeCgroupDir(dir: string, opts: { retries?: number; fake?: boolean } = {}): Promise<void> {
  const retries = opts.retries ?? 4;
  for (let attempt = 0; ; attempt++) {
    try {
      if (opts.fake) {
        for (const e of readdirSync(dir, { withFileTypes: true })) if (!e.isDirectory()) rmSync(join(dir, e.name));
      }
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= retries) {
        throw new CgroupError(`cannot remove cgroup ${dir}: ${(err as Error).message}`);
      }
      await sleep(10 * 2 ** attempt);
    }
  }
}

const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Whether path lies on a real cgroup filesystem (v1 or v2), not a fake tree. */
export function onCgroupFs(path: string): boolean {
  try {
    const t = statfsSync(path).type;
    return t === CGROUP_SUPER_MAGIC || t === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}
