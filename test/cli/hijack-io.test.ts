// Detach keys: parsing docker's key names and scanning input for the sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detachKeyBytes, EscapeProxy } from '../../src/cli/hijack-io.ts';

test('detach key names to bytes', () => {
  assert.deepEqual([...detachKeyBytes('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...detachKeyBytes('ctrl-@,ctrl-[,a')], [0, 27, 97]);
  assert.throws(() => detachKeyBytes('ctrl-pp'), /Invalid detach keys/);
  assert.throws(() => detachKeyBytes('alt-x'), /Invalid detach keys/);
});

test('escape proxy: passes input on, holds a partial match, detaches on the whole sequence', () => {
  const p = new EscapeProxy(detachKeyBytes('ctrl-p,ctrl-q'));
  assert.deepEqual(p.feed(Buffer.from('ls\r')), { data: Buffer.from('ls\r'), detach: false });
  // ctrl-p alone is held back; the next byte that is not ctrl-q releases it.
  assert.deepEqual(p.feed(Buffer.from([16])), { data: Buffer.alloc(0), detach: false });
  assert.deepEqual(p.feed(Buffer.from('x')), { data: Buffer.from([16, 120]), detach: false });
  // ctrl-p ctrl-p ctrl-q: the first ctrl-p is sent, the pair detaches.
  const r = p.feed(Buffer.from([97, 16, 16, 17, 98]));
  assert.equal(r.detach, true);
  assert.deepEqual([...r.data], [97, 16]);
});
