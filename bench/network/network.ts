// Networking costs, side by side in one run (root):
//  1. plumbing one container: veth pair into a fresh namespace, address,
//     lo up, default route, then removal: Dray's rtnetlink client vs the
//     same steps as `ip` commands (what a shell-out backend would cost);
//  2. a whole NetworkManager connect+disconnect (plumbing, IPAM, store,
//     one iptables-restore each way; on a user network also the DNS sockets);
//  3. throughput of a bounded transfer (200 MB by default) through a port
//     published on 127.0.0.1: Dray's DNAT (route_localnet) into a namespace
//     vs the real dockerd's -p (docker-proxy, its default), both serving the
//     same file with busybox httpd.
// node_modules/.bin/node bench/network/network.ts [runs=20] [megabytes=200]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, mkdirSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BridgePlumbing } from '../../src/network/bridge.ts';
import { NetworkManager } from '../../src/network/manager.ts';
import { startDockerd } from '../../test/harness/dockerd.ts';
import { testImage } from '../../test/images/index.ts';
import { testPools } from '../../test/network/support.ts';
import { download, waitHttp } from '../support/http.ts';
import { median, printTable, timeRuns, type BenchRow } from '../support/stats.ts';

const RUNS = Number(process.argv[2] ?? 20);
const MB = Number(process.argv[3] ?? 200);
const tag = String(process.pid % 100000);
const NS = `dray-bench-${tag}`;
const dir = mkdtempSync(join(tmpdir(), 'dray-net-bench-'));
const procs: ChildProcess[] = [];
const ip = (...args: string[]): void => { execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] }); };

function freshNetns(): string {
  try { ip('netns', 'del', NS); } catch { /* none yet */ }
  ip('netns', 'add', NS);
  return `/run/netns/${NS}`;
}


const manager = new NetworkManager({
  db: join(dir, 'network.db'), chainPrefix: `DRB${tag}`, bridgePrefix: `db${tag}-`.slice(0, 8), defaultBridge: `db${tag}d0`,
  pools: testPools(), dnsUpstreams: [],
});
const rows: BenchRow[] = [];
const extra: string[] = [];
let docker: Awaited<ReturnType<typeof startDockerd>> | undefined;
try {
  const bridge = manager.inspect('bridge');
  const gw = bridge.IPAM.Config[0]!.Gateway;
  const prefix = gw.replace(/\.1$/, '');
  const br = bridge.Options['com.docker.network.bridge.name']!;
  // 1. raw plumbing: netlink vs ip commands (the namespace is created outside the timing).
  const plumbing = new BridgePlumbing();
  plumbing.ensureBridge(br, gw, 24, 1500);
  const nl: number[] = [], sh: number[] = [], nlUp: number[] = [], shUp: number[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    let path = freshNetns();
    let t0 = performance.now();
    plumbing.connect({ bridge: br, hostVeth: `vb${tag}n`, netns: path, ifname: 'eth0', ip: `${prefix}.9`, prefixLen: 24, mac: '02:42:00:00:00:09', gateway: gw, mtu: 1500 });
    if (i) nlUp.push(performance.now() - t0);
    plumbing.removeLink(`vb${tag}n`);
    if (i) nl.push(performance.now() - t0);
    path = freshNetns();
    t0 = performance.now();
    ip('link', 'add', `vb${tag}i`, 'mtu', '1500', 'master', br, 'up', 'type', 'veth', 'peer', 'name', 'eth0', 'address', '02:42:00:00:00:0a', 'netns', NS);
    ip('-n', NS, 'addr', 'add', `${prefix}.10/24`, 'dev', 'eth0');
    ip('-n', NS, 'link', 'set', 'eth0', 'up');
    ip('-n', NS, 'link', 'set', 'lo', 'up');
    ip('-n', NS, 'route', 'add', 'default', 'via', gw, 'dev', 'eth0');
    if (i) shUp.push(performance.now() - t0);
    ip('link', 'del', `vb${tag}i`);
    if (i) sh.push(performance.now() - t0);
    void path;
  }
  rows.push({ name: 'plumb a container: netlink vs ip commands', dray: nlUp, peer: shUp });
  rows.push({ name: 'plumb+unplumb: netlink vs ip commands', dray: nl, peer: sh });

  // 2. whole manager connect+disconnect (default bridge; user network with embedded DNS).
  manager.createNetwork({ Name: 'benchnet' });
  for (const net of ['bridge', 'benchnet']) {
    const path = freshNetns();
    const samples = await timeRuns(async () => {
      await manager.connect(net, { id: 'f'.repeat(64), name: 'bench', netns: path });
      manager.disconnectAll('f'.repeat(64));
    }, RUNS);
    extra.push(`manager connect+disconnectAll on ${net === 'bridge' ? 'the default bridge' : 'a user network (+DNS sockets)'}: median ${median(samples).toFixed(2)} ms over ${RUNS}`);
  }

  // 3. throughput through a port published on 127.0.0.1.
  const size = MB * 1024 * 1024;
  const www = join(dir, 'www');
  mkdirSync(www);
  const fd = openSync(join(www, 'big'), 'w'); ftruncateSync(fd, size); closeSync(fd);
  const path = freshNetns();
  await manager.connect('bridge', { id: 'e'.repeat(64), name: 'server', netns: path });
  procs.push(spawn('ip', ['netns', 'exec', NS, '/bin/busybox', 'httpd', '-f', '-p', '80', '-h', www], { stdio: 'ignore' }));
  const [port] = await manager.publish('e'.repeat(64), [{ proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1' }]);
  const drayUrl = `http://127.0.0.1:${port!.hostPort}/big`;
  await waitHttp(drayUrl, size);

  docker = await startDockerd();
  const busybox = await testImage('busybox');
  await docker.docker(['load', '-i', busybox.dockerArchive]);
  const hostPort = 20000 + (process.pid % 20000);
  await docker.docker(['run', '-d', '--name', 'netbench', '-p', `127.0.0.1:${hostPort}:80`, 'busybox',
    'sh', '-c', `mkdir -p /www && dd if=/dev/zero of=/www/big bs=1M count=${MB} 2>/dev/null && exec httpd -f -p 80 -h /www`]);
  const dockerUrl = `http://127.0.0.1:${hostPort}/big`;
  await waitHttp(dockerUrl, size);
  // What networking costs per container in dockerd: `run` on the default bridge minus `run --network none`.
  const runs = Math.max(3, Math.min(RUNS, 10));
  const withBridge = await timeRuns(() => docker!.docker(['run', '--rm', 'busybox', 'true']), runs);
  const withNone = await timeRuns(() => docker!.docker(['run', '--rm', '--network', 'none', 'busybox', 'true']), runs);
  extra.push(`dockerd: run --rm busybox true ${median(withBridge).toFixed(1)} ms on the bridge, ${median(withNone).toFixed(1)} ms with --network none: networking costs ${(median(withBridge) - median(withNone)).toFixed(1)} ms per container (Dray's connect+disconnect above)`);

  const d: number[] = [], p: number[] = [];
  for (let i = 0; i < runs; i++) { d.push(await download(drayUrl, size)); p.push(await download(dockerUrl, size)); }
  rows.push({ name: `GET ${MB} MB via 127.0.0.1 -p (dray DNAT vs docker-proxy)`, dray: d, peer: p });
  extra.push(`throughput: dray ${(MB / (median(d) / 1000)).toFixed(0)} MB/s, dockerd ${(MB / (median(p) / 1000)).toFixed(0)} MB/s`);
  printTable(rows, 'ip/dockerd');
  for (const l of extra) console.log(l);
} finally {
  for (const p of procs) p.kill('SIGKILL');
  if (docker) {
    try { await docker.docker(['rm', '-f', 'netbench']); } catch { /* gone */ }
    docker.stop();
  }
  try { manager.teardown(); } catch (err) { console.error(err); }
  manager.close();
  try { ip('netns', 'del', NS); } catch { /* gone */ }
  rmSync(dir, { recursive: true, force: true });
}
