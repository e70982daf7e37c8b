// Pure parts of the network library, without a kernel: netlink encoding,
// IPAM arithmetic, iptables rule rendering, /etc files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAttrs, decodeMessages, encodeAttrs, encodeMessage, ifinfomsg, ipv4Bytes, macBytes, NLM_F, RTM } from '../../src/network/netlink/message.ts';
import { allocateAddress, checkStaticAddress, choosePool, cidrsOverlap, hostRoutes, ipToInt, intToIp, parseCidr, subnetFromConfig } from '../../src/network/ipam.ts';
import { Firewall } from '../../src/network/firewall.ts';
import { hostsFile, parseExtraHost, parseResolvConf, resolvConfFile } from '../../src/network/files.ts';
import { portSpecs, portsJson } from '../../src/network/ports.ts';

test('netlink: attributes pad to 4 bytes, nest, and decode back', () => {
  const enc = encodeAttrs([{ type: 3, value: Buffer.from('eth0\0') }, { type: 18, value: [{ type: 1, value: Buffer.from('veth\0') }] }]);
  assert.equal(enc.length % 4, 0);
  const attrs = decodeAttrs(enc);
  assert.equal(attrs.get(3)!.toString(), 'eth0\0');
  assert.equal(decodeAttrs(attrs.get(18)!).get(1)!.toString(), 'veth\0');
  const msg = encodeMessage(RTM.NEWLINK, NLM_F.REQUEST | NLM_F.ACK, 7, ifinfomsg(5, 1, 1), [{ type: 3, value: Buffer.from('x\0') }]);
  assert.equal(msg.readUInt32LE(0), msg.length);
  const [m] = decodeMessages(msg);
  assert.equal(m!.type, RTM.NEWLINK);
  assert.equal(m!.seq, 7);
  assert.equal(m!.payload.readInt32LE(4), 5);
  // A truncated datagram is an error, not a read past the end.
  assert.throws(() => decodeMessages(msg.subarray(0, msg.length - 4)), /malformed/);
  // A lying attribute length stops decoding.
  const bad = Buffer.from(enc); bad.writeUInt16LE(200, 0);
  assert.equal(decodeAttrs(bad).size, 0);
  assert.deepEqual([...ipv4Bytes('10.0.0.1')], [10, 0, 0, 1]);
  assert.throws(() => ipv4Bytes('10.0.0.256'));
  assert.throws(() => macBytes('02:42:zz:00:00:01'));
});

test('IPAM: CIDRs, pools that avoid taken subnets, allocation order and limits', () => {
  assert.equal(intToIp(ipToInt('172.18.3.4')), '172.18.3.4');
  assert.throws(() => ipToInt('1.2.3'), /invalid IPv4/);
  assert.deepEqual(parseCidr('10.1.2.3/16'), { base: ipToInt('10.1.0.0'), prefixLen: 16 });
  assert.throws(() => parseCidr('10.0.0.0/33'));
  assert.ok(cidrsOverlap(parseCidr('10.0.0.0/8'), parseCidr('10.5.0.0/16')));
  assert.ok(!cidrsOverlap(parseCidr('10.0.0.0/16'), parseCidr('10.1.0.0/16')));
  const pools = ['172.18.0.0/16', '172.19.0.0/16', '172.20.0.0/16'].map(parseCidr);
  assert.equal(intToIp(choosePool(pools, [parseCidr('172.18.5.0/24'), parseCidr('172.19.0.0/16')]).base), '172.20.0.0');
  assert.throws(() => choosePool(pools, [parseCidr('172.16.0.0/12')]), /non-overlapping/);
  const s = subnetFromConfig({ Subnet: '10.9.0.0/29' });
  assert.equal(intToIp(s.gateway), '10.9.0.1');
  const used = new Set<number>();
  const got: string[] = [];
  for (let i = 0; i < 5; i++) { const ip = allocateAddress(s, used); used.add(ip); got.push(intToIp(ip)); }
  assert.deepEqual(got, ['10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6']);
  assert.throws(() => allocateAddress(s, used), /no available/);
  assert.throws(() => checkStaticAddress(s, ipToInt('10.9.0.7'), new Set()), /reserved/);
  assert.throws(() => subnetFromConfig({ Subnet: '10.9.0.0/24', Gateway: '10.9.0.255' }), /gateway/);
  assert.throws(() => subnetFromConfig({ Subnet: '10.9.0.0/24', IPRange: '10.8.0.0/28' }), /ip-range/);
  // /proc/net/route parsing (a fixture, little-endian hex as the kernel writes it).
  const dir = mkdtempSync(join(tmpdir(), 'dray-routes-'));
  try {
    writeFileSync(join(dir, 'route'), 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n'
      + 'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\n'
      + 'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n'
      + 'br0\t0000D50A\t00000000\t0001\t0\t0\t0\t0000FFFF\n');
    assert.deepEqual(hostRoutes(join(dir, 'route')).map((c) => `${intToIp(c.base)}/${c.prefixLen}`), ['192.0.2.0/24', '10.213.0.0/16']);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('firewall: rules live only in the prefix chains, per network and port', () => {
  const fw = new Firewall('DRAYX');
  const text = fw.render(
    [{ bridge: 'br1', subnet: '10.1.0.0/24', internal: false, icc: false, masquerade: true },
      { bridge: 'br2', subnet: '10.2.0.0/24', internal: true, icc: true, masquerade: true }],
    [{ proto: 'udp', hostIp: '127.0.0.1', hostPort: 5353, containerIp: '10.1.0.2', containerPort: 53, bridge: 'br1' }],
  );
  for (const line of text.split('\n').filter((l) => l.startsWith('-A'))) assert.match(line, /^-A DRAYX-/);
  assert.match(text, /-A DRAYX-FORWARD -i br1 -o br1 -j DROP/);
  assert.match(text, /-A DRAYX-FORWARD -i br2 ! -o br2 -j DROP/);
  assert.match(text, /-A DRAYX-POSTROUTING -s 10\.1\.0\.0\/24 ! -o br1 -j MASQUERADE/);
  assert.doesNotMatch(text, /-s 10\.2\.0\.0\/24 ! -o br2 -j MASQUERADE/);
  assert.match(text, /-A DRAYX-DNAT -d 127\.0\.0\.1\/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 10\.1\.0\.2:53/);
  assert.throws(() => new Firewall('bad prefix'));
});

test('/etc/hosts and resolv.conf as Docker writes them', () => {
  const hosts = hostsFile({ hostname: 'web', domainname: 'example.org', extraHosts: ['db:10.0.0.9', 'gw:host-gateway'] },
    { ip: '172.18.0.2', links: [{ ip: '172.18.0.3', alias: 'cache', name: 'redis' }], hostGateway: '172.18.0.1' });
  assert.equal(hosts, '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\n'
    + 'ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n10.0.0.9\tdb\n172.18.0.1\tgw\n172.18.0.3\tcache redis\n172.18.0.2\tweb.example.org web\n');
  assert.throws(() => parseExtraHost('nohost'), /invalid/);
  assert.deepEqual(parseExtraHost('v6:[::1]'), { name: 'v6', ip: '::1' });
  const host = parseResolvConf('# comment\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0 ndots:2\n');
  assert.deepEqual(host, { nameservers: ['127.0.0.53', '10.0.0.2'], search: ['corp.example'], options: ['edns0', 'ndots:2'] });
  assert.equal(resolvConfFile({ hostname: 'h' }, host, false), 'search corp.example\nnameserver 10.0.0.2\noptions edns0 ndots:2\n');
  assert.equal(resolvConfFile({ hostname: 'h', dns: ['9.9.9.9'], dnsSearch: ['a.b'], dnsOptions: ['rotate'] }, host, false), 'search a.b\nnameserver 9.9.9.9\noptions rotate\n');
  assert.equal(resolvConfFile({ hostname: 'h' }, parseResolvConf('nameserver 127.0.0.1\n'), false), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(resolvConfFile({ hostname: 'h' }, host, true), 'search corp.example\nnameserver 127.0.0.11\noptions ndots:0 edns0\n');
});

test('ports: PortBindings and PublishAllPorts to specs, published ports to NetworkSettings.Ports', () => {
  const specs = portSpecs({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }, { HostPort: '' }], '53/udp': [{ HostPort: '5300-5310' }], '9000': null },
    { '80/tcp': {}, '443/tcp': {} }, true);
  assert.deepEqual(specs, [
    { proto: 'tcp', containerPort: 9000, hostIp: '', hostPort: 0 }, // integer-like keys come first in a JS object
    { proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPort: 8080 },
    { proto: 'tcp', containerPort: 80, hostIp: '', hostPort: 0 },
    { proto: 'udp', containerPort: 53, hostIp: '', hostPort: 5300, hostPortEnd: 5310 },
    { proto: 'tcp', containerPort: 443, hostIp: '', hostPort: 0 },
  ]);
  assert.throws(() => portSpecs({ '80/xyz': [] }, {}, false), /invalid port/);
  assert.throws(() => portSpecs({ '70000/tcp': [] }, {}, false), /invalid port/);
  assert.throws(() => portSpecs({ '80/tcp': [{ HostPort: 'abc' }] }, {}, false), /invalid hostPort/);
  assert.throws(() => portSpecs({ '80/tcp': [{ HostPort: '90-80' }] }, {}, false), /invalid hostPort/);
  assert.deepEqual(portsJson([{ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 32768 }], { '80/tcp': {}, '443': {} }),
    { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '32768' }], '443/tcp': null });
});
