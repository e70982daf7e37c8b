// The busybox test rootfs, made offline from Debian's busybox-static:
// /bin/busybox, a link per applet (as the busybox image has them), and the
// few files a real image carries (/etc/passwd, /etc/group, empty mount points).
// Deterministic: same package version, same tree, same mtimes.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync, chmodSync, utimesSync, lstatSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export const BUSYBOX_BINARY = '/bin/busybox';
/** Fixed mtime for every entry, so layers built from this tree are reproducible. */
export const EPOCH = new Date('2024-01-01T00:00:00Z');

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;
const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
tty:x:5:
nogroup:x:65534:
`;

export function buildBusyboxRootfs(root: string): void {
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'tmp', 'home', 'var', 'dev', 'proc', 'sys']) {
    mkdirSync(join(root, d), { recursive: true });
  }
  chmodSync(join(root, 'tmp'), 0o1777);
  chmodSync(join(root, 'root'), 0o700);
  copyFileSync(BUSYBOX_BINARY, join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  const applets = execFileSync(BUSYBOX_BINARY, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) {
    const p = join(root, a);
    if (p === join(root, 'bin/busybox')) continue;
    mkdirSync(dirname(p), { recursive: true });
    symlinkSync(relative(dirname(p), join(root, 'bin/busybox')), p);
  }
  writeFileSync(join(root, 'etc/passwd'), PASSWD);
  writeFileSync(join(root, 'etc/group'), GROUP);
  setTimes(root);
}

function setTimes(path: string): void {
  const st = lstatSync(path);
  if (st.isDirectory()) for (const e of readdirSync(path)) setTimes(join(path, e));
  if (!st.isSymbolicLink()) utimesSync(path, EPOCH, EPOCH);
}
