// The flag parser against pflag's semantics as docker users rely on them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError, Flags, parseFlags, type FlagDef } from '../../src/cli/flags.ts';

const RUN: FlagDef[] = [
  { name: 'interactive', short: 'i', type: 'bool', usage: '' },
  { name: 'tty', short: 't', type: 'bool', usage: '' },
  { name: 'detach', short: 'd', type: 'bool', usage: '' },
  { name: 'rm', type: 'bool', usage: '' },
  { name: 'env', short: 'e', type: 'list', usage: '' },
  { name: 'name', type: 'string', usage: '' },
  { name: 'publish', short: 'p', type: 'list', usage: '' },
  { name: 'time', short: 't2', type: 'int', usage: '' },
  { name: 'sig-proxy', type: 'bool', default: true, usage: '' },
];

test('combined short bools, attached values, repeated lists in order', () => {
  const p = parseFlags(RUN, ['-itd', '-eA=1', '-e', 'B=2', '--env=C=3', '-p8080:80', '--name', 'x', 'busybox'], { interspersed: false });
  const f = new Flags(p);
  assert.equal(f.bool('interactive'), true);
  assert.equal(f.bool('tty'), true);
  assert.equal(f.bool('detach'), true);
  assert.deepEqual(f.list('env'), ['A=1', 'B=2', 'C=3']);
  assert.deepEqual(f.list('publish'), ['8080:80']);
  assert.equal(f.str('name'), 'x');
  assert.deepEqual(p.args, ['busybox']);
});

test('non-interspersed: options after the image belong to the command', () => {
  const p = parseFlags(RUN, ['--rm', 'busybox', 'ls', '-l', '--rm'], { interspersed: false });
  assert.deepEqual(p.args, ['busybox', 'ls', '-l', '--rm']);
  assert.equal(new Flags(p).bool('rm'), true);
});

test('interspersed: options anywhere; -- ends them', () => {
  const p = parseFlags(RUN, ['a', '--rm', 'b', '--', '-d', '--name']);
  assert.deepEqual(p.args, ['a', 'b', '-d', '--name']);
  assert.equal(new Flags(p).bool('detach'), false);
});

test('bool flags take only the = form; defaults and changed', () => {
  const p = parseFlags(RUN, ['--sig-proxy=false', '--rm=true', '-d=false', 'x']);
  const f = new Flags(p);
  assert.equal(f.bool('sig-proxy'), false);
  assert.equal(f.bool('rm'), true);
  assert.equal(f.bool('detach'), false);
  assert.equal(f.changed('detach'), true);
  assert.equal(f.changed('name'), false);
  assert.equal(new Flags(parseFlags(RUN, [])).bool('sig-proxy'), true);
  assert.throws(() => parseFlags(RUN, ['--rm=maybe']), /invalid argument "maybe" for "--rm" flag: strconv.ParseBool/);
});

test("docker's messages for unknown and incomplete flags", () => {
  assert.throws(() => parseFlags(RUN, ['--foo']), (e: Error) => e instanceof FlagError && e.message === 'unknown flag: --foo');
  assert.throws(() => parseFlags(RUN, ['-x']), (e: Error) => e.message === "unknown shorthand flag: 'x' in -x");
  assert.throws(() => parseFlags(RUN, ['-ix']), (e: Error) => e.message === "unknown shorthand flag: 'x' in -ix");
  assert.throws(() => parseFlags(RUN, ['-e']), (e: Error) => e.message === "flag needs an argument: 'e' in -e");
  assert.throws(() => parseFlags(RUN, ['--name']), (e: Error) => e.message === 'flag needs an argument: --name');
  assert.throws(() => parseFlags([{ name: 'time', type: 'int', usage: '' }], ['--time', 'soon']), /invalid argument "soon" for "--time" flag: strconv.ParseInt/);
});

test('--help is always known; "-" alone is a positional', () => {
  const p = parseFlags(RUN, ['--help', '-']);
  assert.equal(new Flags(p).bool('help'), true);
  assert.deepEqual(p.args, ['-']);
});
