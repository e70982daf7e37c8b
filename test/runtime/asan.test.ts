// The C executor under AddressSanitizer and UBSan (native/out/dray-executor-asan):
// create/start, exec, a user namespace, a terminal and a failing config all
// run without a sanitizer report.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { needsRoot } from '../support/root.ts';
import { makeBundle, type TestBundle } from './bundle.ts';

const ASAN = new URL('../../native/out/dray-executor-asan', import.meta.url).pathname;
const env = {
  ...process.env, DRAY_EXECUTOR: ASAN,
  ASAN_OPTIONS: 'detect_leaks=0:halt_on_error=1', // the plan lives until exec or exit by design
  UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
};
const clean = (stderr: string): void => assert.doesNotMatch(stderr, /AddressSanitizer|runtime error:|UndefinedBehaviorSanitizer/);

describe('dray-executor under ASan/UBSan', { ...needsRoot, skip: needsRoot.skip || (existsSync(ASAN) ? false : 'no ASan build') }, () => {
  let b: TestBundle;
  before(() => { b = makeBundle(); });
  after(() => b.cleanup());

  it('run, user namespace, exec, terminal, and an error path', () => {
    b.configure(['sh', '-c', 'echo sanitized; cat /proc/self/uid_map'], (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.hooks = { createContainer: [{ path: '/bin/true' }] };
    });
    const r = b.runc(['run', 'as1'], { env });
    clean(r.stderr);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^sanitized\n\s+0\s+100000\s+65536\n$/);

    b.configure(['sleep', '100']);
    assert.equal(b.runc(['run', '-d', 'as2'], { env }).status, 0);
    try {
      const e = b.runc(['exec', '--user', '1000:1000', 'as2', 'id', '-u'], { env });
      clean(e.stderr);
      assert.equal(e.stdout, '1000\n');
      const t = b.runc(['exec', '-t', 'as2', 'tty'], { env });
      clean(t.stderr);
      assert.match(t.stdout, /\/dev\/pts\/\d+/);
    } finally {
      b.runc(['delete', '-f', 'as2']);
    }

    b.configure(['/no/such/binary']);
    const bad = b.runc(['run', 'as3'], { env });
    clean(bad.stderr);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /no\/such\/binary/);
  });
});
