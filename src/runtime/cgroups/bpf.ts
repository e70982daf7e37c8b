// Loads the v2 device filter (devices-bpf.ts) and attaches it to a cgroup,
// replacing the one attached before, through the addon's bpf(2) wrappers.
import { closeSync, constants, openSync } from 'node:fs';
import { native } from '../../common/native.ts';
import { CgroupError } from './errors.ts';
import type { DeviceState } from './devices.ts';
import { deviceProgram } from './devices-bpf.ts';

/** native/addon/bpf.c: thin bpf(2) commands; errors carry .code like node:fs. */
interface BpfAddon {
  /** BPF_PROG_LOAD; the verifier's log is in the error message. Returns the program fd. */
  bpfProgLoad(progType: number, insns: Buffer, license: string): number;
  bpfProgAttach(targetFd: number, progFd: number, attachType: number, flags: number): void;
  bpfProgDetach(targetFd: number, progFd: number, attachType: number): void;
  /** ids of the programs attached directly to the cgroup for attachType. */
  bpfProgQuery(targetFd: number, attachType: number): number[];
  bpfProgGetFdById(id: number): number;
}

const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
const BPF_F_ALLOW_MULTI = 2;

function bpf(): BpfAddon {
  return native() as unknown as BpfAddon;
}

/** Compiles the rules, attaches the program, then detaches whatever program it replaces. */
export function attachDeviceFilter(dir: string, st: DeviceState): void {
  const insns = deviceProgram(st);
  const b = bpf();
  const cg = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    const old = b.bpfProgQuery(cg, BPF_CGROUP_DEVICE);
    const prog = b.bpfProgLoad(BPF_PROG_TYPE_CGROUP_DEVICE, insns, 'Apache');
    try {
      // ALLOW_MULTI: the new program runs beside the old until the old is
      // detached, so the container is never without a filter.
      b.bpfProgAttach(cg, prog, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI);
    } finally {
      closeSync(prog);
    }
    for (const id of old) {
      const fd = b.bpfProgGetFdById(id);
      try {
        b.bpfProgDetach(cg, fd, BPF_CGROUP_DEVICE);
      } finally {
        closeSync(fd);
      }
    }
  } catch (err) {
    throw new CgroupError(`cannot attach the device filter to ${dir}: ${(err as Error).message}`);
  } finally {
    closeSync(cg);
  }
}

/** The ids of the device programs attached to a cgroup (for tests and `dray-runc` diagnostics). */
export function attachedDevicePrograms(dir: string): number[] {
  const cg = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    return bpf().bpfProgQuery(cg, BPF_CGROUP_DEVICE);
  } finally {
    closeSync(cg);
  }
}
