// Reference parsing and normalization, table-driven from the rules of
// Docker's distribution/reference (reference_test.go, normalize_test.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarString, formatReference, parseExact, parseImageReference, parseNormalized } from '../../src/images/reference/reference.ts';

const H64 = 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff';

test('normalized references get docker.io, library/ and :latest as Docker adds them', () => {
  const cases: [string, string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['user/x', 'docker.io/user/x:latest', 'user/x:latest'],
    ['docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/user/x:t', 'docker.io/user/x:t', 'user/x:t'],
    ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['localhost/x', 'localhost/x:latest', 'localhost/x:latest'],
    ['localhost:5000/x:tag', 'localhost:5000/x:tag', 'localhost:5000/x:tag'],
    ['127.0.0.1:5000/a/b', '127.0.0.1:5000/a/b:latest', '127.0.0.1:5000/a/b:latest'],
    [`host:5000/a/b@sha256:${H64}`, `host:5000/a/b@sha256:${H64}`, `host:5000/a/b@sha256:${H64}`],
    [`busybox:1@sha256:${H64}`, `docker.io/library/busybox:1@sha256:${H64}`, `busybox:1@sha256:${H64}`],
    ['foo_bar.com:8080', 'docker.io/library/foo_bar.com:8080', 'foo_bar.com:8080'],
    ['Foo.com/bar', 'Foo.com/bar:latest', 'Foo.com/bar:latest'],
    ['[2001:db8::1]:5000/repo:t', '[2001:db8::1]:5000/repo:t', '[2001:db8::1]:5000/repo:t'],
    ['xn--n3h.com/myimage:xn--n3h.com', 'xn--n3h.com/myimage:xn--n3h.com', 'xn--n3h.com/myimage:xn--n3h.com'],
    ['a/b/c/d:e', 'docker.io/a/b/c/d:e', 'a/b/c/d:e'],
    ['foo-bar.baz.qux/a__b/c-d', 'foo-bar.baz.qux/a__b/c-d:latest', 'foo-bar.baz.qux/a__b/c-d:latest'],
    ['docker.io/library/a/b', 'docker.io/library/a/b:latest', 'library/a/b:latest'],
    ['test:5000', 'docker.io/library/test:5000', 'test:5000'],
    ['Tag-ok:UPPER_tag', '', ''],
  ];
  for (const [input, full, familiar] of cases) {
    if (full === '') {
      assert.throws(() => parseImageReference(input), /lowercase/, input);
      continue;
    }
    const r = parseImageReference(input);
    assert.equal(formatReference(r), full, input);
    assert.equal(familiarString(r), familiar, input);
  }
});

test('a reference with only a digest gets no default tag', () => {
  const r = parseImageReference(`busybox@sha256:${H64}`);
  assert.equal(r.tag, undefined);
  assert.equal(r.digest, `sha256:${H64}`);
  assert.equal(parseNormalized('busybox').tag, undefined);
});

test('invalid references are refused with Docker-like messages', () => {
  const cases: [string, RegExp][] = [
    ['', /at least one component/],
    [':justtag', /invalid reference format/],
    [`@sha256:${H64}`, /invalid reference format/],
    ['Uppercase:tag', /must be lowercase/],
    ['docker.io/docker/Docker', /must be lowercase/],
    ['docker///docker', /invalid reference format/],
    ['-foo', /invalid reference format/],
    ['foo-', /invalid reference format/],
    ['a/b:-tag', /invalid reference format/],
    [`repo@sha256:${'f'.repeat(63)}`, /invalid checksum digest format/],
    [`repo@md5:${'f'.repeat(32)}`, /unsupported digest algorithm/],
    ['repo:tag with space', /invalid reference format/],
    [`repo:${'a'.repeat(129)}`, /invalid reference format/],
    [`${'a/'.repeat(127)}ab`, /not be more than 255 characters/],
    ['1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', /cannot specify 64-byte hexadecimal strings/],
    ['[fe80::1%eth0]:5000/repo', /invalid reference format/],
    ['host:port/repo', /invalid reference format/],
    ['foo_bar.com:8080/x', /invalid reference format/],
  ];
  for (const [input, re] of cases) assert.throws(() => parseImageReference(input), re, JSON.stringify(input));
});

test('exact parsing keeps the name as written', () => {
  assert.deepEqual(parseExact('test.com:5000/repo:tag'), { name: 'test.com:5000/repo', tag: 'tag' });
  assert.deepEqual(parseExact('test_com'), { name: 'test_com' });
  assert.deepEqual(parseExact(`test:5000/repo:tag@sha256:${H64}`), { name: 'test:5000/repo', tag: 'tag', digest: `sha256:${H64}` });
  const long = 'a'.repeat(255);
  assert.deepEqual(parseExact(long), { name: long });
  assert.throws(() => parseExact('a'.repeat(256)), /255/);
});
