// Image references normalized as docker's distribution/reference does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarString, fullString, parseRef, withDefaultTag, authKey } from '../../src/cli/reference.ts';

test('normalization and familiar forms', () => {
  const cases: [string, string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['user/app:1.0', 'docker.io/user/app:1.0', 'user/app:1.0'],
    ['127.0.0.1:5000/x/y:tag', '127.0.0.1:5000/x/y:tag', '127.0.0.1:5000/x/y:tag'],
    ['localhost/img', 'localhost/img:latest', 'localhost/img:latest'],
    ['docker.io/library/nginx', 'docker.io/library/nginx:latest', 'nginx:latest'],
  ];
  for (const [input, full, familiar] of cases) {
    const r = withDefaultTag(parseRef(input));
    assert.equal(fullString(r), full, input);
    assert.equal(familiarString(r), familiar, input);
  }
  const d = parseRef(`busybox@sha256:${'a'.repeat(64)}`);
  assert.equal(d.tag, undefined);
  assert.equal(withDefaultTag(d).tag, undefined);
  assert.equal(authKey(parseRef('busybox')), 'https://index.docker.io/v1/');
  assert.equal(authKey(parseRef('127.0.0.1:5000/a')), '127.0.0.1:5000');
});

test('bad references are refused', () => {
  for (const bad of ['UPPER', 'a//b', 'x:', 'bad tag!', `a@sha256:short`, '']) assert.throws(() => parseRef(bad), /invalid reference format/, bad);
});
