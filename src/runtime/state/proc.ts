// What /proc says about a pid: its start time (field 22 of /proc/PID/stat,
// clock ticks since boot), which tells a live container init from a new
// process that reused its pid, and whether it is only a zombie.
import { readFileSync } from 'node:fs';

export interface ProcInfo {
  startTime: string;
  state: string;
}

export function procInfo(pid: number): ProcInfo | null {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) may hold spaces and parens: split after the last ')'.
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0] ?? '?', startTime: rest[19] ?? '' };
}

/** Alive and the same process that was recorded (not a zombie, not a reused pid). */
export function isSameProcess(pid: number, startTime: string): boolean {
  const p = procInfo(pid);
  return p !== null && p.startTime === startTime && p.state !== 'Z' && p.state !== 'X';
}

export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
