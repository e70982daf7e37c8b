// docker cp against a container that races it (CVE-2018-15664): paths are
// resolved by openat2(RESOLVE_IN_ROOT), so swapping a directory for a
// symlink to the host never reads a host file nor writes outside the rootfs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, constants as C, mkdirSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import tar from 'tar-stream';
import { native, O_PATH, RESOLVE } from '../../src/common/native.ts';
import { extractInto, openRoot, statPath, tarPath } from '../../src/engine/archive/copy.ts';

const IN_ROOT = RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS;

test('openat2 RESOLVE_IN_ROOT: a symlink to / and ../../.. stay at the root', () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cpsafe-root-')));
  try {
    mkdirSync(join(root, 'etc'));
    symlinkSync('/', join(root, 'up'));
    symlinkSync('../../../../etc', join(root, 'etc-up'));
    const rootFd = openRoot(root);
    try {
      for (const [p, want] of [['up', root], ['../../..', root], ['up/../..', root], ['etc-up', join(root, 'etc')], ['/', root]] as const) {
        const fd = native().openat2(rootFd, p, O_PATH, 0, IN_ROOT);
        try { assert.equal(readlinkSync(`/proc/self/fd/${fd}`), want, p); } finally { closeSync(fd); }
      }
      // magic links are refused inside the root, and O_NOFOLLOW keeps the last symlink itself
      assert.throws(() => native().openat2(rootFd, 'up', O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW, 0, IN_ROOT), { code: 'ENOTDIR' });
      assert.throws(() => native().openat2(rootFd, 'nope/x', O_PATH, 0, IN_ROOT), { code: 'ENOENT' });
    } finally {
      closeSync(rootFd);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

async function tarOf(root: string, path: string): Promise<Buffer> {
  const { handle, stat } = statPath(root, path, 'c');
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  try { await tarPath(handle, stat.name === '/' ? '.' : stat.name, out); } finally { handle.close(); }
  return Buffer.concat(chunks);
}

async function tarStream(entries: { name: string; type?: 'directory' | 'file'; body?: string }[]): Promise<Readable> {
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name, type: e.type ?? 'file', mode: 0o644, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, mtime: new Date(0) }, e.body ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Readable.from([Buffer.concat(chunks)]);
}

test('cp races: a directory swapped for a symlink to the host never leaks nor writes there', async () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'cpsafe-race-')));
  const root = join(base, 'rootfs');
  const host = join(base, 'host');
  mkdirSync(join(root, 'd'), { recursive: true });
  writeFileSync(join(root, 'd', 'x'), 'inside\n');
  mkdirSync(host);
  writeFileSync(join(host, 'secret'), 'TOPSECRET-HOST\n');
  // without a race: the file is read through its fd, and a write lands inside
  assert.ok((await tarOf(root, '/d')).includes('inside\n'));
  assert.ok((await tarOf(root, '/d/x')).includes('inside\n'));
  await extractInto(root, '/d', await tarStream([{ name: 'sub/y', body: 'in\n' }]), false);
  assert.deepEqual(readdirSync(join(root, 'd', 'sub')), ['y']);
  // the container: swaps /d between a real directory and a symlink to the host directory, bounded in time
  const swapper = spawn(process.execPath, ['-e', `
    const fs = require('node:fs'); const root = ${JSON.stringify(root)}, host = ${JSON.stringify(host)};
    const end = Date.now() + 4000; let n = 0;
    while (Date.now() < end && n < 2000000) {
      try { fs.renameSync(root + '/d', root + '/d.real'); fs.symlinkSync(host, root + '/d'); } catch {}
      try { fs.unlinkSync(root + '/d'); fs.renameSync(root + '/d.real', root + '/d'); } catch {}
      n++;
    }
    try { fs.lstatSync(root + '/d.real'); try { fs.unlinkSync(root + '/d'); } catch {} fs.renameSync(root + '/d.real', root + '/d'); } catch {}
  `], { stdio: 'ignore' });
  const done = new Promise<void>((resolve) => swapper.on('exit', () => resolve()));
  let exited = false;
  void done.then(() => { exited = true; });
  let reads = 0;
  let writes = 0;
  try {
    const deadline = Date.now() + 3500;
    for (let i = 0; i < 3000 && Date.now() < deadline && !exited; i++) {
      for (const p of ['/d', '/d/', '/d/secret', '/d/.', '/']) {
        try {
          const t = await tarOf(root, p);
          if (t.includes('inside')) reads++;
          assert.ok(!t.includes('TOPSECRET'), `secret leaked via ${p}`);
        } catch (err) {
          if (err instanceof assert.AssertionError) throw err;
        }
      }
      for (const [dir, name] of [['/d', `f${i}`], ['/', `d/g${i}`], ['/d/', `sub${i}/h`]] as const) {
        try {
          await extractInto(root, dir, await tarStream([{ name, body: 'written\n' }]), false);
          writes++;
        } catch { /* ENOENT and the like while the link is in place */ }
      }
      assert.deepEqual(readdirSync(host), ['secret'], 'a file was created in the host directory');
    }
  } finally {
    swapper.kill();
    await done;
    rmSync(base, { recursive: true, force: true });
  }
  assert.ok(reads > 0 && writes > 0, `reads ${reads}, writes ${writes}`);
});
