// The content store: layout, atomic commit with size and digest checks,
// resumable ingests, locking, labels, walk, delete, and a disk that fills.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { LocalStore, writeBlob } from '../../src/images/content/local-store.ts';
import { isContentError } from '../../src/images/content/errors.ts';
import { needsRoot } from '../support/root.ts';
import { sha256 } from './support/synth.ts';

function tempStore(t: { after(fn: () => void): void }): LocalStore {
  const dir = mkdtempSync(join(tmpdir(), 'dray-content-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return new LocalStore(dir);
}

async function collect(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

test('a committed blob lives at blobs/sha256/<hex>, read-only, readable every way', async (t) => {
  const s = tempStore(t);
  const data = randomBytes(300_000);
  const d = sha256(data);
  const w = await s.writer({ ref: 'r1', total: data.length, expected: d });
  await w.write(data.subarray(0, 1000));
  await w.write(data.subarray(1000));
  assert.equal(w.status().offset, data.length);
  assert.equal(w.digest(), d);
  await w.commit(data.length, d, { labels: { a: 'b' } });
  const path = join(s.root, 'blobs', 'sha256', d.slice(7));
  assert.equal(s.blobPath(d), path);
  assert.equal(statSync(path).mode & 0o777, 0o444);
  assert.equal(readdirSync(join(s.root, 'ingest')).length, 0);
  const info = await s.info(d);
  assert.equal(info.size, data.length);
  assert.deepEqual(info.labels, { a: 'b' });
  assert.deepEqual(await s.readBlob({ digest: d }), data);
  assert.deepEqual(await collect(await s.stream({ digest: d }, 100)), data.subarray(100));
  const ra = await s.readerAt({ digest: d });
  const buf = Buffer.alloc(10);
  assert.equal(await ra.readAt(buf, 5000), 10);
  await ra.close();
  assert.deepEqual(buf, data.subarray(5000, 5010));
  await assert.rejects(s.writer({ ref: 'other', expected: d }), (e) => isContentError(e, 'already-exists'));
});

test('a commit with the wrong digest or size fails and nothing becomes visible', async (t) => {
  const s = tempStore(t);
  const data = randomBytes(1000);
  const w = await s.writer({ ref: 'bad' });
  await w.write(data);
  const wrong = sha256(Buffer.from('other'));
  await assert.rejects(w.commit(1000, wrong), /unexpected digest/);
  await assert.rejects(w.commit(999, sha256(data)), /unexpected size 1000, expected 999/);
  assert.equal(await s.exists(wrong), false);
  assert.equal(await s.exists(sha256(data)), false);
  await w.close();
  const limited = await s.writer({ ref: 'limited', total: 10 });
  await assert.rejects(limited.write(Buffer.alloc(11)), /more than the expected 10/);
  await limited.close();
  await assert.rejects(s.writer({ ref: 'x', expected: 'sha256:abc' }), /invalid digest/);
  await assert.rejects(s.writer({ ref: 'x', expected: `md5:${'a'.repeat(32)}` }), /unsupported digest algorithm/);
});

test('an ingest resumes from its offset, rehashing what is on disk, even in a new process', async (t) => {
  const s = tempStore(t);
  const data = randomBytes(2_000_000);
  const d = sha256(data);
  const w1 = await s.writer({ ref: 'resume', total: data.length, expected: d });
  await w1.write(data.subarray(0, 1_234_567));
  await w1.close();
  const st = await s.status('resume');
  assert.equal(st.offset, 1_234_567);
  assert.equal(st.total, data.length);
  assert.equal(st.expected, d);
  assert.deepEqual((await s.listStatuses()).map((x) => x.ref), ['resume']);
  // A fresh store object over the same root stands for a restarted daemon.
  const s2 = new LocalStore(s.root);
  const w2 = await s2.writer({ ref: 'resume' });
  assert.equal(w2.status().offset, 1_234_567);
  assert.equal(w2.status().expected, d);
  await w2.write(data.subarray(1_234_567));
  await w2.commit(data.length, d);
  assert.deepEqual(await s2.readBlob({ digest: d }), data);
  await assert.rejects(s2.status('resume'), (e) => isContentError(e, 'not-found'));
});

test('one writer per ref: a second fails fast, or waits and then finds the blob there', async (t) => {
  const s = tempStore(t);
  const data = randomBytes(5000);
  const d = sha256(data);
  const w1 = await s.writer({ ref: 'same', expected: d });
  await assert.rejects(s.writer({ ref: 'same', expected: d }), (e) => isContentError(e, 'unavailable'));
  const waiting = assert.rejects(s.writer({ ref: 'same', expected: d, wait: true }), (e) => isContentError(e, 'already-exists'));
  await w1.write(data);
  await w1.commit(data.length, d);
  await waiting;
});

test('two refs racing to commit the same digest: one wins, the other gets already-exists', async (t) => {
  const s = tempStore(t);
  const data = randomBytes(100_000);
  const d = sha256(data);
  const ws = await Promise.all([s.writer({ ref: 'a' }), s.writer({ ref: 'b' })]);
  await Promise.all(ws.map((w) => w.write(data)));
  const results = await Promise.allSettled(ws.map((w) => w.commit(data.length, d)));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.ok(isContentError(rejected.reason, 'already-exists'));
  assert.deepEqual(await s.readBlob({ digest: d }), data);
  assert.equal((await s.listStatuses()).length, 0);
});

test('sha512 digests are accepted', async (t) => {
  const s = tempStore(t);
  const data = Buffer.from('sha512 content');
  const d = `sha512:${createHash('sha512').update(data).digest('hex')}`;
  await writeBlob(s, 'x', data, { digest: d });
  assert.ok(existsSync(join(s.root, 'blobs', 'sha512', d.slice(7))));
  assert.deepEqual(await s.readBlob({ digest: d }), data);
  // A sha512 commit of a writer opened without an expected digest rehashes.
  const w = await s.writer({ ref: 'y' });
  const other = Buffer.from('more');
  await w.write(other);
  await w.commit(other.length, `sha512:${createHash('sha512').update(other).digest('hex')}`);
});

test('labels update by field path; walk lists blobs; delete and abort remove', async (t) => {
  const s = tempStore(t);
  const a = Buffer.from('a');
  const b = Buffer.from('b');
  await writeBlob(s, 'a', a, { digest: sha256(a) });
  await writeBlob(s, 'b', b, { digest: sha256(b) });
  await s.update({ digest: sha256(a), labels: { x: '1', y: '2' } });
  await s.update({ digest: sha256(a), labels: { x: '', z: '3' } }, ['labels.x', 'labels.z']);
  assert.deepEqual((await s.info(sha256(a))).labels, { y: '2', z: '3' });
  await assert.rejects(s.update({ digest: sha256(a), labels: {} }, ['size']), /cannot update/);
  const seen: string[] = [];
  await s.walk((i) => {
    seen.push(i.digest);
  });
  assert.deepEqual(seen.sort(), [sha256(a), sha256(b)].sort());
  await s.delete(sha256(a));
  await assert.rejects(s.info(sha256(a)), (e) => isContentError(e, 'not-found'));
  await assert.rejects(s.delete(sha256(a)), (e) => isContentError(e, 'not-found'));
  const w = await s.writer({ ref: 'gone' });
  await w.write(Buffer.from('partial'));
  await w.close();
  await s.abort('gone');
  assert.equal((await s.listStatuses()).length, 0);
});

test('a disk that fills gives a clear error and leaves no blob visible', needsRoot, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dray-content-full-'));
  mkdirSync(join(dir, 'root'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', join(dir, 'root')]);
  t.after(() => {
    execFileSync('umount', [join(dir, 'root')]);
    rmSync(dir, { recursive: true, force: true });
  });
  const s = new LocalStore(join(dir, 'root'));
  const data = randomBytes(3 << 20);
  const d = sha256(data);
  const w = await s.writer({ ref: 'big', expected: d, total: data.length });
  let err: unknown;
  try {
    for (let i = 0; i < data.length; i += 65536) await w.write(data.subarray(i, i + 65536));
  } catch (e) {
    err = e;
  }
  assert.match(String(err), /no space left on device while writing ingest big/);
  await assert.rejects(w.commit(data.length, d), /unexpected size/);
  await w.close();
  assert.equal(await s.exists(d), false);
  await s.abort('big');
  // The space is back: a small blob commits.
  await writeBlob(s, 'small', Buffer.from('ok'), { digest: sha256(Buffer.from('ok')) });
  assert.equal(await s.exists(sha256(Buffer.from('ok'))), true);
});
