// The network manager on real namespaces: reachability by address and by
// name, isolation, ICC, internal networks, live connect/disconnect,
// publishing, reconcile after a crash, and cleanup. Traffic goes only to
// loopback and the test's own subnets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { needsRoot } from '../support/root.ts';
import { TestEnv, countState, names } from './support.ts';

const A = 'a'.repeat(64), B = 'b'.repeat(64), C = 'c'.repeat(64);
const node = process.execPath;

function withEnv(fn: (env: TestEnv) => Promise<void>): () => Promise<void> {
  return async () => {
    const env = new TestEnv();
    try {
      await fn(env);
    } finally {
      env.cleanup();
    }
    assert.deepEqual(countState(env.pools), { links: 0, rules: 0, netns: 0, addresses: 0 }, 'cleanup left kernel state');
  };
}

test('containers on a user-defined network reach each other by address and name; other networks cannot; live connect/disconnect', needsRoot, withEnv(async (env) => {
  const m = env.manager();
  m.createNetwork({ Name: 'front' });
  m.createNetwork({ Name: 'back' });
  const a = env.netns('a'), b = env.netns('b'), c = env.netns('c');
  const ea = await m.connect('front', { id: A, name: '/alpha', netns: a.path }, { aliases: ['web'] });
  await m.connect('front', { id: B, name: 'beta', netns: b.path });
  const ec = await m.connect('back', { id: C, name: 'gamma', netns: c.path });
  assert.equal(ea.Interface, 'eth0');
  assert.match(ea.MacAddress, /^02:42:/);
  await env.httpd(a.name, 'alpha');

  assert.match(await env.get(b.name, ea.IPAddress), /hello from alpha/);
  assert.match(await env.get(b.name, 'alpha'), /hello from alpha/, 'by container name through the embedded DNS');
  assert.match(await env.get(b.name, 'web'), /hello from alpha/, 'by network alias');
  const ns = await env.exec(b.name, ['/bin/busybox', 'nslookup', 'alpha', '127.0.0.11']);
  assert.match(ns.out, new RegExp(`Address:\\s+${ea.IPAddress.replaceAll('.', '\\.')}`));

  assert.doesNotMatch(await env.get(c.name, ea.IPAddress), /hello/, 'another network is isolated');
  assert.doesNotMatch(await env.get(c.name, 'alpha'), /hello/, 'names of other networks do not resolve');

  // Connect gamma to front while it runs: it gets eth1 and reaches alpha; disconnect takes it away again.
  const ec2 = await m.connect('front', { id: C, name: 'gamma', netns: c.path });
  assert.equal(ec2.Interface, 'eth1');
  assert.match(await env.get(c.name, 'alpha'), /hello from alpha/);
  assert.equal(Object.keys(m.inspect('front').Containers).length, 3);
  m.disconnect('front', C);
  assert.doesNotMatch(await env.get(c.name, ea.IPAddress), /hello/);
  const links = execFileSync('ip', ['netns', 'exec', c.name, 'ip', '-o', 'link'], { encoding: 'utf8' });
  assert.doesNotMatch(links, /eth1/);
  assert.match(links, /eth0/);
  assert.deepEqual(Object.keys(m.containerNetworks(C)), ['back']);
  assert.equal(m.containerNetworks(C).back!.IPAddress, ec.IPAddress);

  // A network with endpoints cannot go; after the containers stop it can.
  assert.throws(() => m.removeNetwork('front'), (e: Error & { statusCode?: number }) => e.statusCode === 403);
  for (const id of [A, B, C]) m.disconnectAll(id);
  m.removeNetwork('front');
  m.removeNetwork('back');
}));

test('ICC off blocks traffic between containers of one network but not to the gateway', needsRoot, withEnv(async (env) => {
  const m = env.manager();
  m.createNetwork({ Name: 'noicc', Options: { 'com.docker.network.bridge.enable_icc': 'false' } });
  m.createNetwork({ Name: 'icc' });
  const a = env.netns('a'), b = env.netns('b');
  const ea = await m.connect('noicc', { id: A, name: 'alpha', netns: a.path });
  await m.connect('noicc', { id: B, name: 'beta', netns: b.path });
  await env.httpd(a.name, 'alpha');
  assert.doesNotMatch(await env.get(b.name, ea.IPAddress), /hello/);
  // The same pair on an ICC network talks (so the block above is ICC's, not a broken setup).
  const ea2 = await m.connect('icc', { id: A, name: 'alpha', netns: a.path });
  await m.connect('icc', { id: B, name: 'beta', netns: b.path });
  assert.match(await env.get(b.name, ea2.IPAddress), /hello from alpha/);
}));

test('an internal network has no MASQUERADE and no default route', needsRoot, withEnv(async (env) => {
  const m = env.manager();
  const { Id } = m.createNetwork({ Name: 'inside', Internal: true });
  const net = m.inspect(Id);
  assert.equal(net.Internal, true);
  const subnet = net.IPAM.Config[0]!.Subnet;
  const a = env.netns('a'), b = env.netns('b');
  const ea = await m.connect('inside', { id: A, name: 'alpha', netns: a.path });
  await m.connect('inside', { id: B, name: 'beta', netns: b.path });
  const nat = execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' });
  assert.ok(!nat.split('\n').some((l) => l.includes(names.chainPrefix) && l.includes(`-s ${subnet}`) && l.includes('MASQUERADE')));
  // Only a route lookup: nothing is sent.
  const route = await env.exec(a.name, ['ip', 'route', 'get', '192.0.2.200']);
  assert.notEqual(route.code, 0);
  assert.match(route.out, /unreachable/i);
  // Inside the network, containers still talk.
  await env.httpd(a.name, 'alpha');
  assert.match(await env.get(b.name, ea.IPAddress), /hello from alpha/);
  // A normal network does masquerade (the check above can fail).
  const { Id: outId } = m.createNetwork({ Name: 'outside' });
  const outSubnet = m.inspect(outId).IPAM.Config[0]!.Subnet;
  assert.ok(execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).includes(`-s ${outSubnet} ! -o`));
}));

test('published ports answer on 127.0.0.1 and on the bridge address; random ports are reported; udp works', needsRoot, withEnv(async (env) => {
  const m = env.manager();
  const a = env.netns('a');
  const ea = await m.connect('bridge', { id: A, name: 'alpha', netns: a.path });
  await env.httpd(a.name, 'alpha', 80);
  // A UDP echo server inside the namespace (busybox nc has no -u).
  const echo = env.spawnIn(a.name, [node, '-e', "const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(Buffer.concat([Buffer.from('echo:'),m]),r.port,r.address));s.bind(5353,()=>console.log('ready'))"]);
  await new Promise<void>((res, rej) => { echo.stdout!.once('data', () => res()); echo.once('exit', () => rej(new Error('echo died'))); });

  const ports = await m.publish(A, [
    { proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPort: 0 },
    { proto: 'tcp', containerPort: 80 },
    { proto: 'udp', containerPort: 5353, hostIp: '127.0.0.1' },
  ]);
  assert.equal(ports.length, 3);
  for (const p of ports) assert.ok(p.hostPort >= 1024 && p.hostPort <= 65535, `random port ${p.hostPort}`);
  assert.deepEqual(m.ports(A), ports);
  const [loop, any, udp] = ports as [typeof ports[0], typeof ports[0], typeof ports[0]];
  assert.equal(loop.hostIp, '127.0.0.1');
  assert.equal(any.hostIp, '0.0.0.0');

  assert.equal(await (await fetch(`http://127.0.0.1:${loop.hostPort}/`)).text(), 'hello from alpha\n');
  assert.equal(await (await fetch(`http://127.0.0.1:${any.hostPort}/`)).text(), 'hello from alpha\n');
  assert.equal(await (await fetch(`http://${ea.Gateway}:${any.hostPort}/`)).text(), 'hello from alpha\n');
  // Hairpin: the container reaches its own published port through a host address.
  assert.match(await env.get(a.name, ea.Gateway, any.hostPort), /hello from alpha/);
  // Bound to 127.0.0.1 only: the bridge address does not forward it.
  await assert.rejects(fetch(`http://${ea.Gateway}:${loop.hostPort}/`, { signal: AbortSignal.timeout(3000) }));

  const reply = await new Promise<string>((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); reject(new Error('no udp reply')); }, 5000);
    s.on('message', (msg) => { clearTimeout(t); s.close(); resolve(msg.toString()); });
    s.send('ping', udp.hostPort, '127.0.0.1');
  });
  assert.equal(reply, 'echo:ping');

  // A fixed port that is taken is refused; a host-port range takes the next free one.
  await assert.rejects(m.publish(A, [{ proto: 'tcp', containerPort: 81, hostPort: any.hostPort }]), /already allocated/);
  const fixed = await m.publish(A, [{ proto: 'tcp', containerPort: 82, hostIp: '127.0.0.1', hostPort: loop.hostPort, hostPortEnd: loop.hostPort + 1 }]);
  assert.equal(fixed.find((p) => p.containerPort === 82)!.hostPort, loop.hostPort + 1);

  m.unpublish(A);
  assert.deepEqual(m.ports(A), []);
  assert.ok(!execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).includes(`--dport ${any.hostPort} `));
  await assert.rejects(fetch(`http://127.0.0.1:${any.hostPort}/`, { signal: AbortSignal.timeout(3000) }));
}));

test('IPAM: static address, ip-range, gateway, exhaustion, overlap', needsRoot, withEnv(async (env) => {
  const m = env.manager();
  const [p1, p2] = env.pools.slice(-2) as [string, string];
  const base = p1.replace(/\.0\/24$/, '');
  m.createNetwork({ Name: 'ipam', IPAM: { Config: [{ Subnet: p1, Gateway: `${base}.254`, IPRange: `${base}.8/30` }] } });
  const net = m.inspect('ipam');
  assert.deepEqual(net.IPAM.Config, [{ Subnet: p1, Gateway: `${base}.254`, IPRange: `${base}.8/30` }]);
  const a = env.netns('a'), b = env.netns('b'), c = env.netns('c'), d = env.netns('d'), e = env.netns('e'), f = env.netns('f');
  const ea = await m.connect('ipam', { id: A, name: 'a', netns: a.path });
  assert.equal(ea.IPAddress, `${base}.8`);
  assert.equal(ea.Gateway, `${base}.254`);
  const es = await m.connect('ipam', { id: 'e'.repeat(64), name: 'static', netns: e.path }, { ipv4Address: `${base}.100` });
  assert.equal(es.IPAddress, `${base}.100`);
  assert.deepEqual(es.IPAMConfig, { IPv4Address: `${base}.100` });
  await assert.rejects(m.connect('ipam', { id: 'f'.repeat(64), name: 'dup', netns: f.path }, { ipv4Address: `${base}.100` }), /already in use/);
  await assert.rejects(m.connect('ipam', { id: 'f'.repeat(64), name: 'gw', netns: f.path }, { ipv4Address: `${base}.254` }), /reserved/);
  await assert.rejects(m.connect('ipam', { id: 'f'.repeat(64), name: 'out', netns: f.path }, { ipv4Address: '192.0.2.77' }), /no configured subnet/);
  assert.equal((await m.connect('ipam', { id: B, name: 'b', netns: b.path })).IPAddress, `${base}.9`);
  assert.equal((await m.connect('ipam', { id: C, name: 'c', netns: c.path })).IPAddress, `${base}.10`);
  assert.equal((await m.connect('ipam', { id: 'd'.repeat(64), name: 'd', netns: d.path })).IPAddress, `${base}.11`);
  await assert.rejects(m.connect('ipam', { id: 'f'.repeat(64), name: 'full', netns: f.path }), /no available IPv4 addresses/);
  // The failed attempts left no endpoint, interface or record behind.
  assert.equal(Object.keys(m.inspect('ipam').Containers).length, 5);
  assert.equal(execFileSync('ip', ['netns', 'exec', f.name, 'ip', '-o', 'link'], { encoding: 'utf8' }).trim().split('\n').length, 1);
  // The address answers on the wire: the gateway (a host address) reaches the static one.
  await env.httpd(e.name, 'static');
  assert.equal(await (await fetch(`http://${base}.100/`)).text(), 'hello from static\n');

  assert.throws(() => m.createNetwork({ Name: 'overlap', IPAM: { Config: [{ Subnet: p1 }] } }), /overlaps/);
  assert.throws(() => m.createNetwork({ Name: 'badgw', IPAM: { Config: [{ Subnet: p2, Gateway: '192.0.2.1' }] } }), /gateway/);
  assert.throws(() => m.createNetwork({ Name: 'badrange', IPAM: { Config: [{ Subnet: p2, IPRange: '192.0.2.0/28' }] } }), /ip-range/);
  assert.throws(() => m.createNetwork({ Name: 'ipam' }), (err: Error & { statusCode?: number }) => err.statusCode === 409);
}));

test('network API shapes: defaults, list filters, inspect by prefix, remove, prune', needsRoot, withEnv(async (env) => {
  const m = env.manager();
  const names0 = m.list().map((n) => n.Name);
  assert.deepEqual(names0.sort(), ['bridge', 'host', 'none']);
  const bridge = m.inspect('bridge');
  assert.equal(bridge.Options['com.docker.network.bridge.name'], names.defaultBridge);
  assert.equal(bridge.Driver, 'bridge');
  assert.equal(m.inspect('none').Driver, 'null');
  const { Id } = m.createNetwork({ Name: 'labelled', Labels: { team: 'blue' }, Attachable: true });
  m.createNetwork({ Name: 'plain' });
  const n = m.inspect(Id.slice(0, 6));
  assert.equal(n.Id, Id);
  assert.equal(n.Scope, 'local');
  assert.equal(n.Attachable, true);
  assert.deepEqual(n.Labels, { team: 'blue' });
  assert.deepEqual(Object.keys(n).sort(), ['Attachable', 'ConfigFrom', 'ConfigOnly', 'Containers', 'Created', 'Driver', 'EnableIPv6', 'IPAM', 'Id', 'Ingress', 'Internal', 'Labels', 'Name', 'Options', 'Scope'].sort());
  assert.deepEqual(m.list({ label: ['team=blue'] }).map((x) => x.Name), ['labelled']);
  assert.deepEqual(m.list({ type: ['custom'] }).map((x) => x.Name).sort(), ['labelled', 'plain']);
  assert.deepEqual(m.list({ driver: ['null'] }).map((x) => x.Name), ['none']);
  assert.throws(() => m.inspect('nope'), (e: Error & { statusCode?: number }) => e.statusCode === 404);
  assert.throws(() => m.removeNetwork('bridge'), /pre-defined/);
  assert.throws(() => m.createNetwork({ Name: 'x', Driver: 'host' }), /only one instance/);
  assert.throws(() => m.createNetwork({ Name: 'bad name' }), /invalid network name/);
  assert.throws(() => m.createNetwork({ Name: 'v6', EnableIPv6: true }), (e: Error & { statusCode?: number }) => e.statusCode === 501);
  const a = env.netns('a');
  await m.connect('plain', { id: A, name: 'alpha', netns: a.path });
  assert.deepEqual(m.prune().NetworksDeleted, ['labelled']);
  assert.deepEqual(m.list().map((x) => x.Name).sort(), ['bridge', 'host', 'none', 'plain']);
  // Records persist: a second manager on the same database sees the same networks and ids.
  const m2 = env.manager();
  assert.equal(m2.inspect('plain').Id, m.inspect('plain').Id);
  assert.equal(m2.inspect('bridge').Id, bridge.Id);
}));

test('embedded DNS: aliases, links, PTR, AAAA, forwarding to the upstream and SERVFAIL when it is silent', needsRoot, withEnv(async (env) => {
  // A fake upstream on loopback: answers every A query with 192.0.2.44 (never contacted beyond loopback).
  const dnsPacket = (await import('dns-packet')).default;
  const upstream = dgram.createSocket('udp4');
  upstream.on('message', (msg, r) => {
    const q = dnsPacket.decode(msg);
    upstream.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers: [{ type: 'A', name: q.questions![0]!.name, data: '192.0.2.44' }] }), r.port, r.address);
  });
  await new Promise<void>((res) => upstream.bind(0, '127.0.0.1', res));
  env.upstreams.push(`127.0.0.1:${upstream.address().port}`);
  try {
    const m = env.manager();
    m.createNetwork({ Name: 'dns' });
    const a = env.netns('a'), b = env.netns('b');
    const ea = await m.connect('dns', { id: A, name: 'alpha', netns: a.path }, { aliases: ['db', 'Primary'] });
    await m.connect('dns', { id: B, name: 'beta', netns: b.path }, { links: [{ name: 'alpha', alias: 'mydb' }] });
    const look = async (ns: string, q: string, type = 'A'): Promise<string> => (await env.exec(ns, ['/bin/busybox', 'nslookup', `-type=${type}`, q, '127.0.0.11'])).out;
    const ipRe = new RegExp(`Address:\\s+${ea.IPAddress.replaceAll('.', '\\.')}\\b`);
    assert.match(await look(b.name, 'db'), ipRe);
    assert.match(await look(b.name, 'primary'), ipRe, 'names are case-insensitive');
    assert.match(await look(b.name, 'mydb'), ipRe, '--link alias');
    assert.doesNotMatch(await look(a.name, 'mydb'), ipRe, 'a link alias is private to the linking container');
    assert.match(await look(b.name, A.slice(0, 12)), ipRe, 'short container id');
    assert.match(await look(b.name, `${ea.IPAddress.split('.').reverse().join('.')}.in-addr.arpa`, 'PTR'), /alpha\.dns/);
    const aaaa = await look(b.name, 'alpha', 'AAAA');
    assert.doesNotMatch(aaaa, /NXDOMAIN|SERVFAIL/);
    assert.match(await look(b.name, 'example.test'), /192\.0\.2\.44/, 'forwarded to the upstream');
    // TCP answers too.
    const tcp = await env.exec(b.name, [node, '-e', `const d=require('dns');const r=new d.promises.Resolver({tries:1,timeout:2000});r.setServers(['127.0.0.11']);r.resolve4('alpha').then(x=>console.log(x.join(',')),e=>console.log('ERR',e.code))`]);
    assert.match(tcp.out, new RegExp(ea.IPAddress.replaceAll('.', '\\.')));
    // A silent upstream: SERVFAIL after the timeout, not a hang.
    upstream.removeAllListeners('message');
    assert.match(await look(b.name, 'silent.test'), /SERVFAIL|can't resolve|server failure/i);
  } finally {
    upstream.close();
  }
}));

test('reconcile after a crash removes what belonged to dead containers and rebuilds the live ones', needsRoot, withEnv(async (env) => {
  const m1 = env.manager();
  const { Id } = m1.createNetwork({ Name: 'rec' });
  const bridgeName = m1.inspect(Id).Options['com.docker.network.bridge.name'] ?? '';
  assert.equal(bridgeName, '', 'user networks do not show a bridge name option unless given');
  const a = env.netns('a'), b = env.netns('b');
  const ea = await m1.connect('rec', { id: A, name: 'alpha', netns: a.path });
  await m1.connect('rec', { id: B, name: 'beta', netns: b.path });
  const [pa] = await m1.publish(A, [{ proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1' }]);
  const [pb] = await m1.publish(B, [{ proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1' }]);
  await env.httpd(a.name, 'alpha');
  const rulesBefore = countState(env.pools).rules;

  // The crash: the daemon vanishes without cleaning anything (its DNS sockets die with it).
  m1.close();
  // Meanwhile beta's container died, and something left a stray veth on our bridge.
  env.deleteNetns(b.name);
  const br = execFileSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }).split('\n').map((l) => l.split(': ')[1] ?? '').find((n) => n.startsWith(names.bridgePrefix))!;
  execFileSync('ip', ['link', 'add', `${names.bridgePrefix}st`, 'type', 'veth', 'peer', 'name', `${names.bridgePrefix}sp`]);
  execFileSync('ip', ['link', 'set', `${names.bridgePrefix}st`, 'master', br]);
  // …and someone flushed a rule: reconcile must put it back.
  execFileSync('iptables', ['-t', 'nat', '-F', `${names.chainPrefix}-DNAT`]);

  const m2 = env.manager();
  const report = await m2.reconcile((id) => (id === A ? a.path : null));
  assert.equal(report.endpointsRemoved, 1);
  assert.equal(report.linksRemoved, 1);
  assert.equal(report.dnsStarted, 1);
  assert.equal(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).includes(`${names.bridgePrefix}st`), false);
  assert.deepEqual(Object.keys(m2.inspect('rec').Containers), [A]);
  assert.deepEqual(m2.ports(B), []);
  const nat = execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' });
  assert.ok(nat.includes(`--dport ${pa!.hostPort} `), 'the live container\'s port is back');
  assert.ok(!nat.includes(`--dport ${pb!.hostPort} `), 'the dead container\'s port is gone');
  assert.equal(countState(env.pools).rules, rulesBefore - 3, 'its DNAT, FORWARD and hairpin rules are gone, nothing else');
  assert.equal(await (await fetch(`http://127.0.0.1:${pa!.hostPort}/`)).text(), 'hello from alpha\n');
  const ns = await env.exec(a.name, ['/bin/busybox', 'nslookup', 'alpha', '127.0.0.11']);
  assert.match(ns.out, new RegExp(ea.IPAddress.replaceAll('.', '\\.')), 'the DNS listener is back');
  // Reconciling again changes nothing.
  assert.deepEqual(await m2.reconcile((id) => (id === A ? a.path : null)), { endpointsRemoved: 0, linksRemoved: 0, bridgesCreated: 0, dnsStarted: 0 });
}));

test('host and none networks', needsRoot, withEnv(async (env) => {
  const m = env.manager();
  const a = env.netns('a'), b = env.netns('b');
  const eh = await m.connect('host', { id: A, name: 'hosty', netns: a.path });
  assert.equal(eh.IPAddress, '');
  const en = await m.connect('none', { id: B, name: 'nothing', netns: b.path });
  assert.equal(en.IPAddress, '');
  const links = execFileSync('ip', ['netns', 'exec', b.name, 'ip', '-o', 'link'], { encoding: 'utf8' });
  assert.match(links, /lo: <LOOPBACK,UP/);
  await assert.rejects(m.connect('bridge', { id: A, name: 'hosty', netns: a.path }), /host/);
  await assert.rejects(m.connect('bridge', { id: B, name: 'nothing', netns: b.path }), /cannot be connected/);
  const files = m.containerFiles(A, { hostname: 'h' });
  assert.equal(files.hosts, execFileSync('cat', ['/etc/hosts'], { encoding: 'utf8' }));
  const none = m.containerFiles(B, { hostname: 'n' });
  assert.doesNotMatch(none.hosts, /\tn\n/);
}));
