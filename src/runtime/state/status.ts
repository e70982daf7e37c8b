// A container's status is never stored: it is derived live from the init
// process (alive, same start time), the exec fifo (created = the init still
// waits on it) and the cgroup freezer (paused).
import { existsSync } from 'node:fs';
import type { CgroupManager } from '../cgroup.ts';
import { isSameProcess } from './proc.ts';
import type { ContainerRecord, StateStore } from './store.ts';

export type Status = 'created' | 'running' | 'paused' | 'stopped';

export function liveStatus(store: StateStore, rec: ContainerRecord, cg: CgroupManager | null): Status {
  if (!rec.pid || !isSameProcess(rec.pid, rec.initStartTime)) return 'stopped';
  if (existsSync(store.fifo(rec.id))) return 'created';
  try {
    if (cg && cg.state() === 'frozen') return 'paused';
  } catch {
    // a cgroup we cannot read is not frozen by us
  }
  return 'running';
}

/** The OCI state (state-schema.json), plus runc's extra fields. */
export function ociState(rec: ContainerRecord, status: Status | 'creating'): Record<string, unknown> {
  return {
    ociVersion: rec.ociVersion,
    id: rec.id,
    pid: status === 'stopped' ? 0 : rec.pid,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
    annotations: rec.annotations,
  };
}

/** The state JSON hooks get on stdin (exactly the spec's fields). */
export function hookState(rec: ContainerRecord, status: Status | 'creating'): string {
  const s: Record<string, unknown> = { ociVersion: rec.ociVersion, id: rec.id, status, bundle: rec.bundle, annotations: rec.annotations };
  if (status !== 'stopped') s['pid'] = rec.pid;
  return JSON.stringify(s);
}
