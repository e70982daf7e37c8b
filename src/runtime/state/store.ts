// The runtime's state directory (--root, default /run/dray-runc): one
// directory per container holding state.json (written to a temp name and
// renamed: a reader never sees half of it), the exec fifo while the
// container is "created", and a lock file that serializes verbs on one id.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { SavedCgroup } from '../cgroups/index.ts';
import type { Spec } from '../config/types.ts';
import { RuntimeError } from '../errors.ts';
import { procInfo, sleepSync } from './proc.ts';

export interface ContainerRecord {
  ociVersion: string;
  id: string;
  pid: number;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations: Record<string, string>;
  /** Start time of the init process, from /proc/PID/stat: detects pid reuse. */
  initStartTime: string;
  /** The config the container was created with (exec defaults, hooks at delete). */
  config: Spec;
  /** Where its cgroup is (null if made without one): a relative cgroupsPath depends on the caller's own cgroup. */
  cgroup?: SavedCgroup;
}

const ID_RE = /^[\w+\-.]+$/;
const LOCK_WAIT_MS = 30000;

export function validateId(id: string | undefined): string {
  if (!id) throw new RuntimeError('container id cannot be empty');
  if (!ID_RE.test(id) || id === '.' || id === '..' || id.length > 1024) throw new RuntimeError(`invalid container id format: ${id}`);
  return id;
}

export class StateStore {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }

  dir(id: string): string { return join(this.root, id); }
  fifo(id: string): string { return join(this.root, id, 'exec.fifo'); }

  /** Makes the container's directory; fails if the id is taken. */
  claim(id: string): void {
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      mkdirSync(this.dir(id), { mode: 0o711 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new RuntimeError(`container with id exists: ${id}`);
      throw err;
    }
  }

  exists(id: string): boolean { return existsSync(join(this.dir(id), 'state.json')); }

  read(id: string): ContainerRecord {
    validateId(id);
    try {
      return JSON.parse(readFileSync(join(this.dir(id), 'state.json'), 'utf8')) as ContainerRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new RuntimeError(`container does not exist: ${id}`);
      throw new RuntimeError(`read state of ${id}: ${(err as Error).message}`);
    }
  }

  write(rec: ContainerRecord): void {
    const p = join(this.dir(rec.id), 'state.json');
    const tmp = `${p}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(rec), { mode: 0o600 });
    renameSync(tmp, p);
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  ids(): string[] {
    try {
      return readdirSync(this.root, { withFileTypes: true }).filter((d) => d.isDirectory() && ID_RE.test(d.name)).map((d) => d.name).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** An exclusive lock on one id: a file made with O_EXCL holding the owner's pid; a dead owner's lock is broken. */
  lock(id: string): () => void {
    const p = join(this.dir(id), 'lock');
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(p, 'wx', 0o600);
        writeSync(fd, `${process.pid} ${procInfo(process.pid)?.startTime ?? ''}`);
        closeSync(fd);
        return () => { try { unlinkSync(p); } catch { /* the directory went with delete */ } };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw new RuntimeError(`container does not exist: ${id}`);
        if (code !== 'EEXIST') throw err;
      }
      let holder = '';
      try { holder = readFileSync(p, 'utf8'); } catch { continue; }
      const [pid, start] = holder.split(' ');
      const info = pid ? procInfo(Number(pid)) : null;
      if (holder && (!info || (start && info.startTime !== start))) {
        // The holder died without unlocking: take the lock over by renaming it away first.
        try { renameSync(p, `${p}.stale.${process.pid}`); unlinkSync(`${p}.stale.${process.pid}`); } catch { /* someone else broke it */ }
        continue;
      }
      if (Date.now() > deadline) throw new RuntimeError(`container ${id} is locked by process ${pid}`);
      sleepSync(Math.min(20, 1 + attempt));
    }
  }
}
