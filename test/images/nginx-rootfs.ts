// The nginx test rootfs: a Debian bookworm minbase made by debootstrap with
// the nginx package, trimmed the way slim images are (no apt lists, caches,
// logs, docs, man pages, locales, device nodes). Needs root (debootstrap).
// Downloaded .debs are kept in a cache folder, so a rebuild fetches nothing new.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unmountUnder } from '../harness/cleanup.ts';

export const NGINX_SUITE = 'bookworm';
export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
export const DEBOOTSTRAP_ARGS = ['--variant=minbase', '--include=nginx'];

/** Runs debootstrap into `root` (which must not exist yet); `debCache` keeps the downloaded packages. */
export async function debootstrapNginx(root: string, debCache: string, logFile: string): Promise<void> {
  mkdirSync(debCache, { recursive: true });
  const log = openSync(logFile, 'a');
  try {
    const args = [...DEBOOTSTRAP_ARGS, `--cache-dir=${debCache}`, NGINX_SUITE, root, DEBIAN_MIRROR];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('debootstrap', args, { stdio: ['ignore', log, log], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' } });
      child.on('error', reject);
      child.on('exit', (c) => resolve(c));
    });
    if (code !== 0) {
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
      throw new Error(`debootstrap ${args.join(' ')} failed (exit ${code}):\n${tail}`);
    }
  } finally {
    closeSync(log);
    unmountUnder(root); // debootstrap mounts /proc and /sys in the target; a failed run may leave them
  }
}

/** Removes what a slim image does not carry, and makes the remaining variable files deterministic. */
export function trimRootfs(root: string, epoch: Date): void {
  const clear = (dir: string, keep: (name: string) => boolean = () => false): void => {
    const p = join(root, dir);
    if (!existsSync(p)) return;
    for (const e of readdirSync(p)) if (!keep(e)) rmSync(join(p, e), { recursive: true, force: true });
  };
  clear('var/lib/apt/lists');
  clear('var/cache/apt', (e) => e === 'archives');
  clear('var/cache/apt/archives', (e) => e === 'partial');
  clear('var/log', (e) => ['btmp', 'wtmp', 'lastlog', 'faillog', 'nginx', 'apt'].includes(e));
  clear('var/log/apt');
  clear('var/cache/debconf', (e) => !e.endsWith('-old'));
  clear('var/lib/dpkg', (e) => !e.endsWith('-old'));
  clear('var/cache/ldconfig');
  clear('usr/share/man');
  clear('usr/share/info');
  clear('usr/share/locale', (e) => e === 'locale.alias');
  // Keep each package's copyright file; drop the rest of the docs.
  for (const pkg of readdirSync(join(root, 'usr/share/doc'))) {
    const d = join(root, 'usr/share/doc', pkg);
    if (!statSync(d).isDirectory()) continue;
    for (const e of readdirSync(d)) if (e !== 'copyright') rmSync(join(d, e), { recursive: true, force: true });
  }
  clear('dev'); // the runtime makes /dev; images carry no device nodes
  clear('run');
  clear('tmp');
  // Host-specific files debootstrap copies in; the engine bind-mounts its own.
  writeFileSync(join(root, 'etc/resolv.conf'), '');
  rmSync(join(root, 'etc/hostname'), { force: true });
  // /etc/shadow's "last password change" is the build day: pin it to the epoch's day.
  const day = String(Math.floor(epoch.getTime() / 86_400_000));
  for (const f of ['etc/shadow', 'etc/shadow-']) {
    const p = join(root, f);
    if (!existsSync(p)) continue;
    const lines = readFileSync(p, 'utf8').split('\n').map((l) => {
      const fields = l.split(':');
      if (fields.length > 2 && fields[2] !== '') fields[2] = day;
      return fields.join(':');
    });
    writeFileSync(p, lines.join('\n'));
  }
}

/** Packages installed in a rootfs: name -> version. */
export function installedPackages(root: string): Record<string, string> {
  const status = readFileSync(join(root, 'var/lib/dpkg/status'), 'utf8');
  const out: Record<string, string> = {};
  for (const para of status.split('\n\n')) {
    const name = /^Package: (.+)$/m.exec(para)?.[1];
    const version = /^Version: (.+)$/m.exec(para)?.[1];
    if (name && version && /^Status: .* installed$/m.test(para)) out[name] = version;
  }
  return out;
}
