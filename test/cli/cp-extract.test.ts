// dray cp's local extraction: archives from a daemon are untrusted; nothing
// may land outside the destination (.., absolute names, symlinked parents,
// hard links out of the copy), and the normal cases land where docker puts them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { extractTo, packPath, safeRelative } from '../../src/cli/commands/cp.ts';

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; body?: string; linkname?: string; mode?: number };

async function tarOf(entries: Entry[]): Promise<Readable> {
  const pack = tar.pack();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644) }, e.body ?? '', (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Readable.from([Buffer.concat(chunks)]);
}

function scratch(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'dray-cp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a directory lands under the destination, renamed when asked; modes kept', async (t) => {
  const dir = scratch(t);
  const archive = [{ name: 'data/', type: 'directory' as const }, { name: 'data/sub/', type: 'directory' as const }, { name: 'data/sub/f', body: 'hello\n', mode: 0o640 }, { name: 'data/link', type: 'symlink' as const, linkname: 'sub/f' }];
  const n = await extractTo(await tarOf(archive), 'data', join(dir, 'data'));
  assert.equal(n, 6);
  assert.equal(readFileSync(join(dir, 'data/sub/f'), 'utf8'), 'hello\n');
  assert.equal(lstatSync(join(dir, 'data/sub/f')).mode & 0o777, 0o640);
  assert.equal(readlinkSync(join(dir, 'data/link')), 'sub/f');
  await extractTo(await tarOf(archive), 'data', join(dir, 'renamed'));
  assert.equal(readFileSync(join(dir, 'renamed/sub/f'), 'utf8'), 'hello\n');
  // A single file to a new name.
  await extractTo(await tarOf([{ name: 'hostname', body: 'abc\n' }]), 'hostname', join(dir, 'hn'));
  assert.equal(readFileSync(join(dir, 'hn'), 'utf8'), 'abc\n');
});

test('hostile names are refused and nothing lands outside', async (t) => {
  const dir = scratch(t);
  const dest = join(dir, 'dest');
  mkdirSync(dest);
  const outside = join(dir, 'outside');
  mkdirSync(outside);
  const cases: Entry[][] = [
    [{ name: 'x/', type: 'directory' }, { name: 'x/../../escape', body: 'bad' }],
    [{ name: '/etc/dray-cp-escape', body: 'bad' }],
    // A symlink in the archive, then a file written through it.
    [{ name: 'x/', type: 'directory' }, { name: 'x/ln', type: 'symlink', linkname: outside }, { name: 'x/ln/escape', body: 'bad' }],
    // A hard link to a file outside the copy.
    [{ name: 'x/', type: 'directory' }, { name: 'x/hl', type: 'link', linkname: '../etc/passwd' }],
    // An entry that is not under the copied root.
    [{ name: 'x/', type: 'directory' }, { name: 'y/other', body: 'bad' }],
  ];
  for (const entries of cases) {
    await assert.rejects(extractTo(await tarOf(entries), 'x', join(dest, 'x')), /refusing/, JSON.stringify(entries));
  }
  assert.equal(existsSync(join(outside, 'escape')), false);
  assert.equal(existsSync(join(dir, 'escape')), false);
  assert.equal(existsSync('/etc/dray-cp-escape'), false);
  assert.throws(() => safeRelative('a/../../b'), /leaves the destination/);
  assert.equal(safeRelative('./a/b/'), 'a/b');
});

test('packPath: a tree with its root renamed, and a directory\'s contents', async (t) => {
  const dir = scratch(t);
  mkdirSync(join(dir, 'src/sub'), { recursive: true });
  writeFileSync(join(dir, 'src/sub/f'), 'data');
  const names = async (r: Readable): Promise<string[]> => {
    const ex = tar.extract();
    const out: string[] = [];
    ex.on('entry', (h, s, next) => { out.push(h.name); s.resume(); s.on('end', next); });
    const done = new Promise<void>((res) => ex.on('finish', () => res()));
    r.pipe(ex as unknown as NodeJS.WritableStream);
    await done;
    return out;
  };
  assert.deepEqual(await names(packPath(join(dir, 'src'), 'newname', false).stream), ['newname/', 'newname/sub/', 'newname/sub/f']);
  assert.deepEqual(await names(packPath(join(dir, 'src'), '', false).stream), ['sub/', 'sub/f']);
});
