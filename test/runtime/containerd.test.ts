// Real containerd (Debian's 1.6, started by the harness on its own folders):
// `ctr run --runc-binary bin/dray-runc` and the task verbs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startContainerd, waitUntil, type ContainerdPeer } from '../harness/index.ts';
import { testImage } from '../images/index.ts';
import { needsRoot } from '../support/root.ts';
import { RUNC } from './bundle.ts';

const NS = { namespace: 'dray-runc-test' };
const IMAGE = 'docker.io/library/busybox:latest';

describe('containerd on dray-runc', needsRoot, () => {
  let c: ContainerdPeer;
  before(async () => {
    c = await startContainerd();
    await c.ctr(['images', 'import', (await testImage('busybox')).dockerArchive], NS);
  });
  after(() => c?.stop());

  it('ctr run --rm prints the container output', async () => {
    const out = await c.ctr(['run', '--rm', '--runc-binary', RUNC, IMAGE, 'echo1', 'echo', 'hello from containerd on dray-runc'], NS);
    assert.equal(out.trim(), 'hello from containerd on dray-runc');
  });

  it('ctr task exec, ps, pause/resume, kill, delete', async () => {
    await c.ctr(['run', '-d', '--runc-binary', RUNC, IMAGE, 'bg', 'sleep', '600'], NS);
    try {
      assert.equal((await c.ctr(['task', 'exec', '--exec-id', 'e1', 'bg', 'echo', 'exec ok'], NS)).trim(), 'exec ok');
      assert.match(await c.ctr(['task', 'ps', 'bg'], NS), /^PID\s+INFO\n\d+/);
      await c.ctr(['task', 'pause', 'bg'], NS);
      assert.match(await c.ctr(['task', 'ls'], NS), /bg\s+\d+\s+PAUSED/);
      await c.ctr(['task', 'resume', 'bg'], NS);
      assert.match(await c.ctr(['task', 'ls'], NS), /bg\s+\d+\s+RUNNING/);
      await c.ctr(['task', 'kill', '-s', 'SIGKILL', 'bg'], NS);
      await waitUntil('the task to stop', async () => /bg\s+\d+\s+STOPPED/.test(await c.ctr(['task', 'ls'], NS)), 20000);
      await c.ctr(['task', 'delete', 'bg'], NS);
      assert.doesNotMatch(await c.ctr(['task', 'ls'], NS), /\bbg\b/);
    } finally {
      await c.ctrResult(['task', 'kill', '-s', 'SIGKILL', 'bg'], NS);
      await c.ctrResult(['task', 'delete', '-f', 'bg'], NS);
      await c.ctrResult(['container', 'delete', 'bg'], NS);
    }
  });
});
