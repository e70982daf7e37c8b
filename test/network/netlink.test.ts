// The rtnetlink client and the addon's namespace sockets against the kernel,
// inside a throwaway network namespace (nothing touches the host's links).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import net from 'node:net';
import { native } from '../../src/common/native.ts';
import { NetlinkError, Rtnetlink } from '../../src/network/netlink/rtnetlink.ts';
import { needsRoot } from '../support/root.ts';
import { names } from './support.ts';

function withNetns(fn: (outer: string, inner: string) => void): () => void {
  return () => {
    const outer = `${names.netnsPrefix}nl-out`, inner = `${names.netnsPrefix}nl-in`;
    execFileSync('ip', ['netns', 'add', outer]);
    try {
      execFileSync('ip', ['netns', 'add', inner]);
      try {
        fn(`/run/netns/${outer}`, `/run/netns/${inner}`);
      } finally {
        execFileSync('ip', ['netns', 'del', inner]);
      }
    } finally {
      execFileSync('ip', ['netns', 'del', outer]);
    }
  };
}

test('rtnetlink: bridge, veth into another namespace, addresses, routes, errors', needsRoot, withNetns((outerPath, innerPath) => {
  const nl = Rtnetlink.open(outerPath);
  const inner = Rtnetlink.open(innerPath);
  try {
    // A fresh namespace has only lo, down: proof the socket lives there and not in the host's.
    assert.deepEqual(nl.links().map((l) => l.name), ['lo']);
    nl.createBridge('br0', { mtu: 1400, mac: '02:00:00:00:00:01' });
    assert.throws(() => nl.createBridge('br0'), (e: unknown) => e instanceof NetlinkError && e.code === 'EEXIST');
    const br = nl.link('br0')!;
    assert.equal(br.kind, 'bridge');
    assert.equal(br.mtu, 1400);
    assert.equal(br.mac, '02:00:00:00:00:01');
    assert.equal(nl.link('nope'), null);
    nl.addAddress(br.index, '10.99.0.1', 24);
    assert.throws(() => nl.addAddress(br.index, '10.99.0.1', 24), (e: unknown) => e instanceof NetlinkError && e.code === 'EEXIST');
    nl.setLink(br.index, { up: true });
    assert.ok(nl.link('br0')!.flags & 1);
    assert.deepEqual(nl.addresses().filter((a) => a.index === br.index), [{ index: br.index, ip: '10.99.0.1', prefixLen: 24 }]);

    const fd = openSync(innerPath, 'r');
    try {
      nl.createVeth('vhost', { peerName: 'eth0', peerNsFd: fd, peerMac: '02:42:0a:63:00:02', master: br.index, mtu: 1400 });
    } finally {
      closeSync(fd);
    }
    const host = nl.link('vhost')!;
    assert.equal(host.master, br.index);
    assert.equal(nl.link('eth0'), null, 'the peer was created in the other namespace only');
    const eth0 = inner.link('eth0')!;
    assert.equal(eth0.mac, '02:42:0a:63:00:02');
    inner.addAddress(eth0.index, '10.99.0.2', 24);
    inner.setLink(eth0.index, { up: true });
    inner.setLink(1, { up: true });
    assert.throws(() => inner.addRoute({ dst: null, dstLen: 0, gateway: '10.98.0.1', oif: eth0.index }), NetlinkError, 'an unreachable gateway is refused');
    inner.addRoute({ dst: null, dstLen: 0, gateway: '10.99.0.1', oif: eth0.index });
    const routes = execFileSync('ip', ['-n', innerPath.split('/').pop()!, 'route'], { encoding: 'utf8' });
    assert.match(routes, /default via 10\.99\.0\.1 dev eth0/);
    inner.deleteAddress(eth0.index, '10.99.0.2', 24);
    assert.ok(!inner.addresses().some((a) => a.ip === '10.99.0.2'));
    nl.deleteLink(host.index);
    assert.equal(inner.link('eth0'), null, 'deleting one end removes the pair');
    assert.throws(() => nl.deleteLink(host.index), (e: unknown) => e instanceof NetlinkError && e.code === 'ENODEV');
  } finally {
    nl.close();
    inner.close();
  }
  assert.throws(() => nl.links(), /closed/);
}));

test('netnsSocket: the socket lives in the namespace; bad paths and arguments are errors', needsRoot, async () => {
  const outer = `${names.netnsPrefix}sock`;
  execFileSync('ip', ['netns', 'add', outer]);
  try {
    const path = `/run/netns/${outer}`;
    const fd = native().netnsSocket(path, 2, 1, 0, '127.0.0.11', 5300);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ fd }, resolve));
    try {
      assert.match(execFileSync('ip', ['netns', 'exec', outer, 'ss', '-ltn'], { encoding: 'utf8' }), /127\.0\.0\.11:5300/);
      assert.doesNotMatch(execFileSync('ss', ['-ltn'], { encoding: 'utf8' }), /127\.0\.0\.11:5300/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  } finally {
    execFileSync('ip', ['netns', 'del', outer]);
  }
  assert.throws(() => native().netnsSocket('/nonexistent/ns', 16, 3, 0, null, 0), (e: Error & { code?: string }) => e.code === 'ENOENT');
  assert.throws(() => native().netnsSocket('/etc/hostname', 16, 3, 0, null, 0), (e: Error & { code?: string; syscall?: string }) => e.code === 'EINVAL' && e.syscall === 'setns');
  assert.throws(() => native().netnsSocket(null, 2, 2, 0, 'not-an-ip', 53), /IPv4/);
  assert.throws(() => native().netnsSocket(null, 2, 2, 0, '127.0.0.1', 70000), /port/);
});

test('connect into a namespace that does not exist fails and leaves nothing', needsRoot, async () => {
  const { TestEnv, countState } = await import('./support.ts');
  const env = new TestEnv();
  try {
    const m = env.manager();
    await assert.rejects(m.connect('bridge', { id: 'a'.repeat(64), name: 'ghost', netns: '/run/netns/dray-test-missing' }), /ENOENT/);
    assert.deepEqual(m.inspect('bridge').Containers, {});
    await assert.rejects(m.connect('nope', { id: 'a'.repeat(64), name: 'x', netns: '/x' }), /not found/);
    await assert.rejects(m.connect('bridge', { id: 'a'.repeat(64), name: 'bad name!', netns: '/x' }), /invalid container name/);
  } finally {
    env.cleanup();
  }
  assert.deepEqual(countState(env.pools), { links: 0, rules: 0, netns: 0, addresses: 0 });
});
