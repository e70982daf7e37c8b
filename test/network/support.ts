// Helpers of the network tests: named network namespaces as stand-in
// containers, commands run inside them with the host's static busybox, and
// counters of the kernel state a manager leaves behind.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkManager, type NetworkManagerOptions } from '../../src/network/manager.ts';
import { cidrsOverlap, formatCidr, hostRoutes, parseCidr } from '../../src/network/ipam.ts';

export const BUSYBOX = '/bin/busybox';
const tag = String(process.pid % 100000);

/** Names unique to this test process: chains, bridges, namespaces. */
export const names = {
  chainPrefix: `DRT${tag}`,
  bridgePrefix: `dt${tag}-`.slice(0, 8),
  defaultBridge: `dt${tag}d0`,
  netnsPrefix: `dray-test-${tag}-`,
};

/** /24 pools in 10.217-10.219/16 that overlap no host route (the harness uses 10.213/10.214). */
export function testPools(): string[] {
  const routes = hostRoutes();
  const out: string[] = [];
  for (const b of [217, 218, 219]) {
    for (let c = 0; c < 256; c++) {
      const s = `10.${b}.${c}.0/24`;
      if (!routes.some((r) => cidrsOverlap(r, parseCidr(s)))) out.push(s);
    }
  }
  return out;
}

export class TestEnv {
  readonly dir = mkdtempSync(join(tmpdir(), 'dray-net-'));
  private namespaces: string[] = [];
  private procs: ChildProcess[] = [];
  private managers: NetworkManager[] = [];
  readonly pools = testPools();
  readonly upstreams: string[] = [];

  manager(extra: Partial<NetworkManagerOptions> = {}): NetworkManager {
    const m = new NetworkManager({
      db: join(this.dir, 'network.db'), chainPrefix: names.chainPrefix, bridgePrefix: names.bridgePrefix,
      defaultBridge: names.defaultBridge, pools: this.pools, dnsUpstreams: this.upstreams, dnsTimeoutMs: 1000, ...extra,
    });
    this.managers.push(m);
    return m;
  }

  /** A fresh network namespace (a stand-in container); returns its name and path. */
  netns(label: string): { name: string; path: string } {
    const name = `${names.netnsPrefix}${label}`;
    execFileSync('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    // `ip netns exec` bind-mounts these over /etc: name lookups in the namespace go to the embedded DNS only,
    // never to the host's resolver (tests send nothing beyond loopback and their own subnets).
    mkdirSync(`/etc/netns/${name}`, { recursive: true });
    writeFileSync(`/etc/netns/${name}/resolv.conf`, 'nameserver 127.0.0.11\noptions ndots:0 timeout:1 attempts:1\n');
    writeFileSync(`/etc/netns/${name}/hosts`, '127.0.0.1\tlocalhost\n');
    return { name, path: `/run/netns/${name}` };
  }

  deleteNetns(name: string): void {
    execFileSync('ip', ['netns', 'del', name]);
    rmSync(`/etc/netns/${name}`, { recursive: true, force: true });
    this.namespaces = this.namespaces.filter((n) => n !== name);
  }

  /** Runs a command inside a namespace; resolves with its exit code and output, never rejects. */
  exec(ns: string, args: string[], timeoutMs = 10000): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
      const p = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d) => { out += d; });
      p.stderr.on('data', (d) => { out += d; });
      const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
      p.on('close', (code) => { clearTimeout(t); resolve({ code, out }); });
      p.stdin.end();
    });
  }

  /** busybox httpd serving "hello from <label>" on port inside ns. */
  async httpd(ns: string, label: string, port = 80): Promise<void> {
    const root = mkdtempSync(join(this.dir, 'www-'));
    writeFileSync(join(root, 'index.html'), `hello from ${label}\n`);
    const p = spawn('ip', ['netns', 'exec', ns, BUSYBOX, 'httpd', '-f', '-p', String(port), '-h', root], { stdio: 'ignore' });
    this.procs.push(p);
    // Bounded wait until it listens (ss inside the namespace).
    for (let i = 0; i < 100; i++) {
      const r = await this.exec(ns, ['ss', '-ltn']);
      if (r.out.includes(`:${port} `)) return;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`httpd in ${ns} did not listen`);
  }

  /** A long-running process in a namespace, killed at cleanup. */
  spawnIn(ns: string, args: string[]): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.procs.push(p);
    return p;
  }

  /** GET / through busybox nc from inside ns; '' when it cannot connect. */
  async get(ns: string, host: string, port = 80): Promise<string> {
    const r = await this.exec(ns, ['sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | ${BUSYBOX} nc -w 2 ${host} ${port}`], 8000);
    return r.out;
  }

  cleanup(): void {
    for (const p of this.procs) p.kill('SIGKILL');
    for (const m of this.managers) {
      try { m.teardown(); } catch { /* already torn down */ }
      try { m.close(); } catch { /* closed */ }
    }
    for (const n of this.namespaces) {
      try { execFileSync('ip', ['netns', 'del', n]); } catch { /* gone */ }
      rmSync(`/etc/netns/${n}`, { recursive: true, force: true });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Kernel state named after this process: links, rules, namespaces, addresses in the test pools. */
export function countState(pools: readonly string[]): { links: number; rules: number; netns: number; addresses: number } {
  const links = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(names.bridgePrefix) || l.includes(names.defaultBridge)).length;
  const rules = execFileSync('iptables-save', { encoding: 'utf8' }).split('\n').filter((l) => l.includes(names.chainPrefix)).length;
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(names.netnsPrefix)).length;
  const ours = pools.map(parseCidr);
  const addresses = execFileSync('ip', ['-o', '-4', 'addr'], { encoding: 'utf8' }).split('\n').filter((l) => {
    const m = /inet (\S+)/.exec(l);
    return m && ours.some((p) => cidrsOverlap(p, parseCidr(m[1]!)));
  }).length;
  return { links, rules, netns, addresses };
}

export { formatCidr };
