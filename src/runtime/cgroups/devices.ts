// Device access rules. The OCI list is an ordered list of v1-style writes;
// we replay it the way the v1 kernel does (an "a" rule resets to allow-all or
// deny-all, other rules add or remove exceptions), then render the result as
// v1 devices.allow/deny lines, or (devices-bpf.ts) as a v2 eBPF program.
import type { LinuxDeviceCgroup } from './resources.ts';
import type { CgroupWrite } from './fsio.ts';

/** BPF_DEVCG_ACC_* bits, also used for v1 access strings. */
export const ACC = { m: 1, r: 2, w: 4 } as const;
export const ACC_ALL = 7;

export interface DeviceException {
  type: 'b' | 'c';
  /** -1: any */
  major: number;
  minor: number;
  access: number;
}

export interface DeviceState {
  defaultAllow: boolean;
  exceptions: DeviceException[];
}

function accessBits(s: string | undefined): number {
  if (s === undefined) return ACC_ALL;
  let bits = 0;
  for (const ch of s) bits |= ACC[ch as keyof typeof ACC] ?? 0;
  return bits;
}

export function accessString(bits: number): string {
  return (bits & ACC.r ? 'r' : '') + (bits & ACC.w ? 'w' : '') + (bits & ACC.m ? 'm' : '');
}

/** Replays the rules (already validated) on top of `initial` (a new cgroup: allow-all). */
export function emulateDeviceRules(rules: readonly LinuxDeviceCgroup[], initial: DeviceState = { defaultAllow: true, exceptions: [] }): DeviceState {
  const st: DeviceState = { defaultAllow: initial.defaultAllow, exceptions: initial.exceptions.map((e) => ({ ...e })) };
  for (const r of rules) {
    const type = r.type ?? 'a';
    if (type === 'a') {
      // As in the kernel: "a" clears every exception whatever its numbers say.
      st.defaultAllow = r.allow;
      st.exceptions = [];
      continue;
    }
    const e: DeviceException = {
      type: type as 'b' | 'c',
      major: r.major === undefined ? -1 : Number(r.major),
      minor: r.minor === undefined ? -1 : Number(r.minor),
      access: accessBits(r.access),
    };
    const same = st.exceptions.find((x) => x.type === e.type && x.major === e.major && x.minor === e.minor);
    if (r.allow !== st.defaultAllow) {
      if (same) same.access |= e.access;
      else if (e.access) st.exceptions.push(e);
    } else if (same) {
      same.access &= ~e.access;
      if (!same.access) st.exceptions.splice(st.exceptions.indexOf(same), 1);
    }
  }
  return st;
}

function line(e: DeviceException): string {
  const n = (x: number): string => (x < 0 ? '*' : String(x));
  return `${e.type} ${n(e.major)}:${n(e.minor)} ${accessString(e.access)}`;
}

/** v1: reset the default, then one line per exception. */
export function v1DeviceWrites(dir: string, st: DeviceState): CgroupWrite[] {
  const allow = `${dir}/devices.allow`;
  const deny = `${dir}/devices.deny`;
  const out: CgroupWrite[] = [{ file: st.defaultAllow ? allow : deny, value: 'a' }];
  for (const e of st.exceptions) out.push({ file: st.defaultAllow ? deny : allow, value: line(e) });
  return out;
}

/** Whether an access is allowed under the state, with the kernel's v1 matching rules. */
export function deviceAllowed(st: DeviceState, type: 'b' | 'c', major: number, minor: number, access: number): boolean {
  const hits = st.exceptions.filter((e) => e.type === type && (e.major < 0 || e.major === major) && (e.minor < 0 || e.minor === minor));
  if (st.defaultAllow) return !hits.some((e) => (e.access & access) !== 0);
  return hits.some((e) => (access & ~e.access) === 0);
}
