// Where the real OCI runtimes are.
import { accessSync, constants } from 'node:fs';

function find(name: string, candidates: string[]): string {
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch { /* next */ }
  }
  throw new Error(`${name} not found (looked at ${candidates.join(', ')}); run scripts/setup.sh`);
}

export function runcPath(): string {
  return find('runc', ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc', '/usr/local/bin/runc']);
}

export function crunPath(): string {
  return find('crun', ['/usr/bin/crun', '/usr/local/bin/crun']);
}
