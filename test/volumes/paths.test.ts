// Path rules: cleaning as Go's path.Clean, locality as filepath.IsLocal,
// and resolution inside a root that never leaves it whatever the links say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPath, hasDotDot, isLocalPath, isWithin, resolveInRoot } from '../../src/volumes/paths.ts';
import { tempDir } from './support.ts';

test('cleanPath, isLocalPath, isWithin, hasDotDot', () => {
  assert.deepEqual(['', '/', '/a/', '/a/./b/../c', '//a//b', 'a/../..', '/../x'].map(cleanPath), ['.', '/', '/a', '/a/c', '/a/b', '..', '/x']);
  assert.deepEqual(['a', 'a/b', 'a/../b', '..', '../a', 'a/../../b', '/a', '', 'a\0b'].map(isLocalPath), [true, true, true, false, false, false, false, false, false]);
  assert.equal(isWithin('/a/b', '/a'), true);
  assert.equal(isWithin('/a', '/a'), true);
  assert.equal(isWithin('/ab', '/a'), false);
  assert.equal(isWithin('/x', '/'), true);
  assert.equal(hasDotDot('/a/../b'), true);
  assert.equal(hasDotDot('/a/..b'), false);
});

test('resolveInRoot follows links as if the root were /, and never leaves it', (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'etc'));
  mkdirSync(join(root, 'real/dir'), { recursive: true });
  writeFileSync(join(root, 'etc/file'), '');
  symlinkSync('/etc', join(root, 'abs'));                // absolute: the root's /etc, not the host's
  symlinkSync('../../../../../etc', join(root, 'up'));   // climbs: clamped at the root
  symlinkSync('real/dir', join(root, 'rel'));
  symlinkSync('rel/../../proc', join(root, 'tricky'));   // rel -> real/dir, ../.. -> /, then /proc
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  symlinkSync('/etc/file/deeper', join(root, 'through-file'));
  const r = (p: string) => resolveInRoot(root, p);
  assert.equal(r('/abs/x'), join(root, 'etc/x'));
  assert.equal(r('/up'), join(root, 'etc'));
  assert.equal(r('/rel/sub'), join(root, 'real/dir/sub'));
  assert.equal(r('/tricky'), join(root, 'proc'));
  assert.equal(r('/../../..'), root);
  assert.equal(r('missing/../../x'), join(root, 'x'));
  assert.equal(r('/through-file'), join(root, 'etc/file/deeper'));
  assert.throws(() => r('/loop1'), { code: 'ELOOP' });
});
