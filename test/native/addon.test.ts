import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { MNT, native } from '../../src/common/native.ts';
import { needsRoot } from '../support/root.ts';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'dray-addon-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('mknod makes a fifo and reports errno codes like node:fs', (t) => {
  const d = tempDir(t);
  native().mknod(join(d, 'fifo'), 0o010644, 0, 0);
  assert.ok(statSync(join(d, 'fifo')).isFIFO());
  assert.throws(() => native().mknod(join(d, 'fifo'), 0o010644, 0, 0), { code: 'EEXIST', syscall: 'mknod' });
});

test('mknod makes a character device', needsRoot, (t) => {
  const d = tempDir(t);
  native().mknod(join(d, 'null'), 0o020666, 1, 3);
  const st = statSync(join(d, 'null'));
  assert.ok(st.isCharacterDevice());
  assert.equal(st.rdev, (1 << 8) | 3);
});

test('strings with NUL bytes are refused, not truncated', () => {
  assert.throws(() => native().mknod('/tmp/x\0y', 0o010644, 0, 0), /NUL/);
});

test('xattrs: set, get, list, absent', needsRoot, (t) => {
  const d = tempDir(t);
  const mnt = join(d, 'mnt');
  mkdirSync(mnt);
  native().mount('tmpfs', mnt, 'tmpfs', 0, 'size=1m');
  try {
    checkXattrs(mnt);
  } finally {
    native().umount2(mnt, MNT.DETACH);
  }
});

function checkXattrs(mnt: string): void {
  const f = join(mnt, 'f');
  writeFileSync(f, 'x');
  native().lsetxattr(f, 'user.dray', Buffer.from('value'), 0);
  native().lsetxattr(f, 'trusted.overlay.opaque', Buffer.from('y'), 0);
  assert.equal(native().lgetxattr(f, 'user.dray')?.toString(), 'value');
  assert.equal(native().lgetxattr(f, 'user.absent'), null);
  assert.deepEqual(native().llistxattr(f).sort(), ['trusted.overlay.opaque', 'user.dray']);
  assert.throws(() => native().lgetxattr(join(mnt, 'nope'), 'user.x'), { code: 'ENOENT' });
}

test('mount and umount2 a tmpfs', needsRoot, (t) => {
  const d = tempDir(t);
  const mnt = join(d, 'mnt');
  mkdirSync(mnt);
  native().mount('tmpfs', mnt, 'tmpfs', 0, 'size=1m,mode=700');
  try {
    writeFileSync(join(mnt, 'inside'), 'data');
    assert.ok(readFileSync('/proc/self/mounts', 'utf8').includes(` ${mnt} tmpfs `));
  } finally {
    native().umount2(mnt, 0);
  }
  assert.throws(() => statSync(join(mnt, 'inside')), { code: 'ENOENT' });
});

test('file descriptors travel over a unix socket (SCM_RIGHTS)', async (t) => {
  const d = tempDir(t);
  const path = join(d, 'sock');
  writeFileSync(join(d, 'payload'), 'passed through');
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(path, r));
  t.after(() => server.close());
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect(path);
  await new Promise<void>((r) => client.once('connect', () => r()));
  const peer = await accepted;
  // net.Socket keeps its fd in the private handle; there is no public accessor.
  const fdOf = (s: net.Socket): number => (s as unknown as { _handle: { fd: number } })._handle.fd;
  const { openSync, closeSync, readSync } = await import('node:fs');
  const fd = openSync(join(d, 'payload'), 'r');
  native().sendFds(fdOf(client), [fd], Buffer.from('tag'));
  closeSync(fd);
  peer.pause();
  let got: { data: Buffer; fds: number[] } | undefined;
  for (let i = 0; i < 100 && !got; i++) {
    try { got = native().recvFds(fdOf(peer), 16); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  assert.ok(got);
  assert.equal(got.data.toString(), 'tag');
  assert.equal(got.fds.length, 1);
  const buf = Buffer.alloc(64);
  const n = readSync(got.fds[0]!, buf, 0, 64, 0);
  closeSync(got.fds[0]!);
  assert.equal(buf.subarray(0, n).toString(), 'passed through');
  client.destroy(); peer.destroy();
});
