// bin/dray-runc's fast paths (native/launcher/fast.c): start, state, kill
// and delete done in C must behave exactly as the Node verbs, and whatever
// the C side does not handle must reach Node. NODE_OPTIONS with an unknown
// flag makes any Node start fail, so a verb that succeeds under it ran
// without Node; DRAY_RUNC_NO_FAST=1 runs the Node verb for comparison.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { needsRoot } from '../support/root.ts';
import { makeBundle, type TestBundle } from './bundle.ts';

const NO_NODE = { ...process.env, NODE_OPTIONS: '--dray-no-such-flag' };
const NODE = { ...process.env, DRAY_RUNC_NO_FAST: '1' };

describe('dray-runc fast paths', needsRoot, () => {
  let b: TestBundle;
  before(() => { b = makeBundle(); });
  after(() => b.cleanup());

  const fast = (args: string[]) => b.runc(args, { env: NO_NODE });
  const node = (args: string[]) => b.runc(args, { env: NODE });
  const ok = (r: { status: number | null; stderr: string }) => assert.equal(r.status, 0, r.stderr);
  const status = (id: string): string => JSON.parse(node(['state', id]).stdout).status as string;
  const waitStopped = (id: string): void => {
    for (let i = 0; i < 500 && status(id) !== 'stopped'; i++) execFileSync('sleep', ['0.01']);
    assert.equal(status(id), 'stopped');
  };
  /** The same state JSON from C and from Node, byte for byte. */
  const sameState = (id: string, want: string): void => {
    const f = fast(['state', id]);
    ok(f);
    assert.equal(f.stdout, node(['state', id]).stdout);
    assert.equal(JSON.parse(f.stdout).status, want);
  };
  const cgroupDirs = (id: string): string[] =>
    Object.values((JSON.parse(readFileSync(join(b.root, id, 'state.json'), 'utf8')) as { cgroup: { paths: Record<string, string> } }).cgroup.paths);

  it('state, start, kill and delete run without Node and print what Node prints', () => {
    b.configure(['sleep', '1000'], (s) => { s.annotations = { 'quote"back\\slash': 'line\nbreak\ttab', 'ünï': '✓ \u2028', empty: '' }; });
    ok(b.runc(['create', 'f1']));
    sameState('f1', 'created');
    ok(fast(['--log', join(b.dir, 'log.json'), '--log-format', 'json', 'start', 'f1']));
    assert.ok(!existsSync(join(b.root, 'f1', 'exec.fifo')));
    sameState('f1', 'running');
    ok(b.runc(['pause', 'f1']));
    sameState('f1', 'paused');
    ok(b.runc(['resume', 'f1']));
    ok(fast(['kill', 'f1', 'sigcont']));
    ok(fast(['kill', '--all', 'f1', 'CONT']));
    sameState('f1', 'running');
    const dirs = cgroupDirs('f1');
    assert.ok(dirs.length > 0 && dirs.every((d) => existsSync(d)));
    ok(fast(['kill', 'f1', '9']));
    waitStopped('f1');
    sameState('f1', 'stopped');
    ok(fast(['-root', b.root, 'delete', 'f1']));
    assert.ok(!existsSync(join(b.root, 'f1')));
    assert.deepEqual(dirs.filter((d) => existsSync(d)), []);
  });

  it('kill --all and delete --force of running containers', () => {
    b.configure(['sh', '-c', 'sleep 1000 & sleep 1000']);
    ok(b.runc(['run', '-d', 'f2']));
    ok(fast(['kill', '-a', 'f2', 'KILL']));
    waitStopped('f2');
    ok(fast(['delete', 'f2']));
    ok(b.runc(['run', '-d', 'f3']));
    const pid = JSON.parse(fast(['state', 'f3']).stdout).pid as number;
    const dirs = cgroupDirs('f3');
    ok(fast(['delete', '--force=true', 'f3']));
    assert.ok(!existsSync(join(b.root, 'f3')));
    assert.deepEqual(dirs.filter((d) => existsSync(d)), []);
    assert.ok(!existsSync(`/proc/${pid}/cmdline`) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'));
  });

  it('falls back to Node for hooks, errors and flags it does not handle, with the same words', () => {
    const mark = join(b.dir, 'poststart');
    b.configure(['sleep', '1000'], (s) => { s.hooks = { poststart: [{ path: '/bin/sh', args: ['sh', '-c', `echo ran > ${mark}`] }] }; });
    ok(b.runc(['create', 'f4']));
    const refused = fast(['start', 'f4']);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /dray-no-such-flag/);
    assert.equal(status('f4'), 'created');
    ok(b.runc(['start', 'f4']));
    assert.equal(readFileSync(mark, 'utf8'), 'ran\n');
    const same = (args: string[]) => {
      const f = b.runc(args), n = node(args);
      assert.deepEqual([f.status, f.stderr, f.stdout], [n.status, n.stderr, n.stdout], args.join(' '));
      assert.notEqual(f.status, 0, args.join(' '));
    };
    same(['start', 'f4']);
    same(['delete', 'f4']);
    same(['kill', 'f4', 'NOSUCH']);
    same(['kill', 'f4', '65']);
    same(['kill', '--all=maybe', 'f4']);
    same(['state', 'nosuch']);
    same(['start', 'nosuch']);
    same(['kill', 'nosuch']);
    same(['delete', 'nosuch']);
    same(['state', '../f4']);
    same(['state']);
    same(['--systemd-cgroup', 'state', 'f4']);
    same(['--log-format', 'xml', 'state', 'f4']);
    ok(fast(['kill', 'f4', 'KILL']));
    waitStopped('f4');
    same(['kill', 'f4', 'TERM']);
    ok(b.runc(['delete', 'f4']));
  });
});
