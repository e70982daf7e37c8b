import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OverlaySnapshotter } from '../../src/images/snapshots/overlay.ts';
import { NaiveSnapshotter } from '../../src/images/snapshots/naive.ts';
import { compactOverlayData, mountAll, unmount, withMount } from '../../src/images/snapshots/mount.ts';
import type { Snapshotter } from '../../src/images/snapshots/types.ts';
import { needsRoot } from '../support/root.ts';
import { buildBusyboxRootfs } from '../images/busybox-rootfs.ts';
import { tempDir, unmountAfter } from './helpers.ts';
import { processesMentioning } from '../harness/cleanup.ts';
import type { TestContext } from './helpers.ts';

function open(t: TestContext, kind: 'overlay' | 'naive', root: string): Snapshotter {
  const s = kind === 'overlay' ? new OverlaySnapshotter(root) : new NaiveSnapshotter(root);
  t.after(() => s.close());
  return s;
}

for (const kind of ['overlay', 'naive'] as const) {
  test(`${kind}: prepare, commit, view, stat, walk, remove`, (t) => {
    return (async () => {
      const root = tempDir(t);
      const s = open(t, kind, root);
      const m0 = await s.prepare('a-active');
      assert.equal(m0.length, 1);
      assert.equal(m0[0]?.type, 'bind');
      writeFileSync(join(s.dir('a-active'), 'one'), '1');
      await s.commit('a', 'a-active', { labels: { x: 'y' } });
      assert.throws(() => s.stat('a-active'), { code: 'not-found' });
      assert.deepEqual({ ...s.stat('a'), created: 0, updated: 0 }, { key: 'a', kind: 'committed', labels: { x: 'y' }, created: 0, updated: 0 });

      await s.prepare('b-active', 'a');
      assert.equal(s.stat('b-active').parent, 'a');
      assert.equal(s.stat('b-active').kind, 'active');
      await s.commit('b', 'b-active');
      const vm = await s.view('v', 'b');
      assert.equal(s.stat('v').kind, 'view');
      assert.ok(vm[0]?.options.includes('ro') || vm[0]?.options.every((o) => !o.startsWith('upperdir=')));

      const seen: string[] = [];
      s.walk((i) => seen.push(`${i.key}:${i.kind}:${i.parent ?? ''}`));
      assert.deepEqual(seen, ['a:committed:', 'b:committed:a', 'v:view:b']);

      assert.deepEqual(s.update('a', { x: 'z', n: '1' }, ['labels.n']).labels, { x: 'y', n: '1' });
      assert.deepEqual(s.update('a', { n: '' }, ['labels.n']).labels, { x: 'y' });
      assert.deepEqual(s.update('v', { only: 'this' }).labels, { only: 'this' });
      assert.throws(() => s.update('v', {}, ['kind']), { code: 'invalid' });
      await assert.rejects(s.prepare('v'), { code: 'exists' });
      await assert.rejects(s.prepare('x', 'missing'), { code: 'not-found' });
      await assert.rejects(s.prepare('x', 'v'), { code: 'invalid' }); // parents must be committed
      await assert.rejects(s.commit('a', 'v'), { code: 'failed-precondition' });
      await assert.rejects(s.remove('a'), { code: 'has-children' });
      await s.remove('v');
      await s.remove('b');
      await s.remove('a');
      const left: string[] = [];
      s.walk((i) => left.push(i.key));
      assert.deepEqual(left, []);
      assert.deepEqual(readdirSync(join(root, 'snapshots')), []);
    })();
  });

  test(`${kind}: records survive a restart; a crash's leftovers are removed`, async (t) => {
    const root = tempDir(t);
    const s1 = kind === 'overlay' ? new OverlaySnapshotter(root) : new NaiveSnapshotter(root);
    await s1.prepare('keep');
    // What a crash leaves: a half-prepared dir, a numbered dir without a record, a half-removed one.
    mkdirSync(join(root, 'snapshots', 'new-abc', 'fs'), { recursive: true });
    mkdirSync(join(root, 'snapshots', '999', 'fs'), { recursive: true });
    mkdirSync(join(root, 'snapshots', 'rm-7', 'fs'), { recursive: true });
    s1.close();
    const s2 = open(t, kind, root);
    assert.equal(s2.stat('keep').kind, 'active');
    assert.deepEqual(readdirSync(join(root, 'snapshots')), ['1']);
  });

  test(`${kind}: a failed prepare leaves no record and no directory`, async (t) => {
    const root = tempDir(t);
    const s = open(t, kind, root);
    await s.prepare('k');
    await assert.rejects(s.prepare('k'), { code: 'exists' });
    await assert.rejects(s.prepare('', undefined), { code: 'invalid' });
    assert.deepEqual(readdirSync(join(root, 'snapshots')), ['1']);
  });

  test(`${kind}: usage counts blocks and inodes, hardlinks once`, async (t) => {
    const root = tempDir(t);
    const s = open(t, kind, root);
    await s.prepare('u');
    const d = s.dir('u');
    writeFileSync(join(d, 'big'), Buffer.alloc(256 * 1024, 1));
    linkSync(join(d, 'big'), join(d, 'big2'));
    mkdirSync(join(d, 'sub'));
    const u = await s.usage('u');
    assert.equal(u.inodes, 3); // root, big (twice linked), sub
    assert.ok(u.size >= 256 * 1024 && u.size < 2 * 256 * 1024, `size ${u.size}`);
    await s.commit('c', 'u');
    assert.deepEqual(await s.usage('c'), u);
  });
}

test('naive: a child snapshot starts as a full copy of its parent', async (t) => {
  const root = tempDir(t);
  const s = open(t, 'naive', root);
  await s.prepare('p');
  writeFileSync(join(s.dir('p'), 'f'), 'parent');
  await s.commit('P', 'p');
  await s.prepare('c', 'P');
  assert.equal(readFileSync(join(s.dir('c'), 'f'), 'utf8'), 'parent');
  writeFileSync(join(s.dir('c'), 'f'), 'child');
  assert.equal(readFileSync(join(s.dir('P'), 'f'), 'utf8'), 'parent');
});

test('overlay: mounts are an overlay of the parent chain, nearest first', async (t) => {
  const root = tempDir(t);
  const s = open(t, 'overlay', root) as OverlaySnapshotter;
  await s.prepare('1a');
  await s.commit('1', '1a');
  await s.prepare('2a', '1');
  await s.commit('2', '2a');
  const m = await s.prepare('3a', '2');
  assert.equal(m[0]?.type, 'overlay');
  const opts = m[0]?.options ?? [];
  assert.ok(opts.includes(`lowerdir=${s.dir('2')}:${s.dir('1')}`), opts.join(','));
  assert.ok(opts.includes(`upperdir=${s.dir('3a')}`));
  assert.ok(opts.some((o) => o.startsWith('workdir=')));
  const v = await s.view('v', '2');
  assert.deepEqual(v[0]?.options.filter((o) => o.startsWith('lowerdir=')), [`lowerdir=${s.dir('2')}:${s.dir('1')}`]);
  const v1 = await s.view('v1', '1');
  assert.deepEqual(v1, [{ type: 'bind', source: s.dir('1'), options: ['ro', 'rbind'] }]);
  assert.deepEqual(s.parents?.('3a') ?? [], ['2', '1']);
});

test('overlay data longer than a page is made relative to a common directory', () => {
  const lowers = Array.from({ length: 300 }, (_, i) => `/var/lib/dray/snapshots/overlayfs/snapshots/${i + 1}/fs`);
  const data = ['index=off', 'workdir=/var/lib/dray/snapshots/overlayfs/snapshots/301/work', 'upperdir=/var/lib/dray/snapshots/overlayfs/snapshots/301/fs', `lowerdir=${lowers.join(':')}`];
  const c = compactOverlayData(data);
  assert.ok(c);
  assert.equal(c.cwd, '/var/lib/dray/snapshots/overlayfs/snapshots');
  assert.equal(c.data[1], 'workdir=301/work');
  assert.ok(c.data[3]?.startsWith('lowerdir=1/fs:2/fs:'));
  assert.ok(c.data.join(',').length < 4096);
});

test('overlay: a mounted chain merges layers, writes go to the upper dir', needsRoot, async (t) => {
  const root = tempDir(t);
  const s = open(t, 'overlay', root);
  await s.prepare('a');
  writeFileSync(join(s.dir('a'), 'from-a'), 'a');
  writeFileSync(join(s.dir('a'), 'shadowed'), 'a');
  await s.commit('A', 'a');
  await s.prepare('b', 'A');
  writeFileSync(join(s.dir('b'), 'shadowed'), 'b');
  await s.commit('B', 'b');
  const mounts = await s.prepare('c', 'B');
  const mnt = tempDir(t, 'dray-mnt-');
  mountAll(mounts, mnt);
  unmountAfter(t, mnt);
  assert.equal(readFileSync(join(mnt, 'from-a'), 'utf8'), 'a');
  assert.equal(readFileSync(join(mnt, 'shadowed'), 'utf8'), 'b');
  writeFileSync(join(mnt, 'new'), 'c');
  unmount(mnt);
  assert.equal(readFileSync(join(s.dir('c'), 'new'), 'utf8'), 'c');
  assert.ok(!existsSync(join(s.dir('B'), 'new')));
  // A read-only view refuses writes.
  const v = await s.view('v', 'B');
  await withMount(v, (m) => {
    assert.equal(readFileSync(join(m, 'shadowed'), 'utf8'), 'b');
    assert.throws(() => writeFileSync(join(m, 'x'), 'x'), { code: 'EROFS' });
  });
});

test('overlay: a 150-layer chain with a long root mounts (options over a page)', needsRoot, async (t) => {
  const base = tempDir(t);
  const root = join(base, 'a-rather-long-directory-name-to-make-the-overlay-options-long'.repeat(2));
  const s = open(t, 'overlay', root);
  let parent: string | undefined;
  for (let i = 0; i < 150; i++) {
    await s.prepare(`l${i}-a`, parent);
    writeFileSync(join(s.dir(`l${i}-a`), `f${i}`), String(i));
    await s.commit(`l${i}`, `l${i}-a`);
    parent = `l${i}`;
  }
  const m = await s.prepare('top', parent);
  assert.ok(m[0]!.options.join(',').length > 4096);
  const cwd = process.cwd();
  await withMount(m, (mnt) => {
    assert.equal(readFileSync(join(mnt, 'f0'), 'utf8'), '0');
    assert.equal(readFileSync(join(mnt, 'f149'), 'utf8'), '149');
  });
  assert.equal(process.cwd(), cwd);
});

test('overlay: a busybox rootfs chain mounted is a real root (chroot runs busybox)', needsRoot, async (t) => {
  const root = tempDir(t);
  const s = open(t, 'overlay', root);
  await s.prepare('base');
  buildBusyboxRootfs(s.dir('base'));
  await s.commit('busybox', 'base');
  await s.prepare('l2', 'busybox');
  writeFileSync(join(s.dir('l2'), 'hello'), 'from layer 2\n');
  await s.commit('busybox+hello', 'l2');
  const mounts = await s.view('run', 'busybox+hello');
  await withMount(mounts, (mnt) => {
    const out = execFileSync('chroot', [mnt, '/bin/busybox', 'cat', '/hello'], { encoding: 'utf8' });
    assert.equal(out, 'from layer 2\n');
    assert.equal(execFileSync('chroot', [mnt, '/bin/busybox', 'echo', 'ok'], { encoding: 'utf8' }), 'ok\n');
  });
});

for (const kind of ['overlay', 'naive'] as const) {
  test(`${kind}: killed at random points (SIGKILL), the records and directories stay consistent`, async (t) => {
    const root = tempDir(t);
    const { spawn } = await import('node:child_process');
    for (let round = 0; round < 4; round++) {
      const child = spawn(process.execPath, [new URL('./crash-child.ts', import.meta.url).pathname, root, kind], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
      });
      await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 250)));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      // A naive copy (cp) the child had started outlives it: let it finish, or end it.
      for (let i = 0; i < 100 && processesMentioning([root]).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
      for (const pid of processesMentioning([root])) process.kill(pid, 'SIGKILL');
      const s = kind === 'overlay' ? new OverlaySnapshotter(root) : new NaiveSnapshotter(root);
      try {
        const keys: string[] = [];
        s.walk((i) => keys.push(i.key));
        assert.ok(keys.length > 0);
        // Every record has its directory, and (after recovery) every directory a record.
        const dirs = readdirSync(join(root, 'snapshots')).sort();
        const want: string[] = [];
        for (const k of keys) {
          assert.ok(existsSync(s.dir(k)), `record ${k} without its directory`);
          want.push(s.dir(k).split('/').at(-2) as string);
        }
        assert.deepEqual(dirs, want.sort());
        // And the chain still works: a committed child sees its files.
        for (const k of keys) if (s.stat(k).kind === 'committed') await s.usage(k);
      } finally {
        s.close();
      }
    }
  });
}
