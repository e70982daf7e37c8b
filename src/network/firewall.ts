// NAT, publishing and isolation through iptables (Debian's iptables-nft).
// Dray's rules live only in its own chains (<prefix>-FORWARD,
// <prefix>-ISOLATION-1/2 in filter; <prefix>-DNAT, <prefix>-POSTROUTING in
// nat), reached by one tagged jump from each built-in chain. The whole rule
// set is a pure function of the networks and published ports, and each change
// rewrites all of Dray's chains in one atomic iptables-restore --noflush
// (declaring a chain there flushes it), so the kernel never holds a half
// state and reconciling after a crash is the same operation.
import { execFileSync } from 'node:child_process';

export interface FirewallNetwork {
  bridge: string;
  subnet: string;       // a.b.c.d/n
  internal: boolean;
  icc: boolean;
  masquerade: boolean;
}

export interface FirewallPort {
  proto: 'tcp' | 'udp';
  hostIp: string;       // '' or 0.0.0.0: every local address
  hostPort: number;
  containerIp: string;
  containerPort: number;
  bridge: string;
}

const TAG = ['-m', 'comment', '--comment', 'dray'];

export class Firewall {
  readonly prefix: string;
  private jumpsChecked = false;
  private applied = '';

  constructor(prefix = 'DRAY') {
    if (!/^[A-Z][A-Z0-9]{0,11}$/.test(prefix)) throw new Error(`invalid firewall chain prefix: ${prefix}`);
    this.prefix = prefix;
  }

  private get chains() {
    const p = this.prefix;
    return { forward: `${p}-FORWARD`, iso1: `${p}-ISOLATION-1`, iso2: `${p}-ISOLATION-2`, dnat: `${p}-DNAT`, post: `${p}-POSTROUTING` };
  }

  /** The jumps from the built-in chains, as iptables arguments after the chain name. */
  private jumps(): Array<{ table: string; chain: string; rule: string[]; insert: boolean }> {
    const c = this.chains;
    return [
      // First in FORWARD: a DROP policy (Docker sets one) would otherwise eat container traffic.
      { table: 'filter', chain: 'FORWARD', rule: [...TAG, '-j', c.forward], insert: true },
      { table: 'nat', chain: 'PREROUTING', rule: ['-m', 'addrtype', '--dst-type', 'LOCAL', ...TAG, '-j', c.dnat], insert: false },
      // OUTPUT includes 127.0.0.0/8: published ports answer on the host's loopback (route_localnet on the bridges).
      { table: 'nat', chain: 'OUTPUT', rule: ['-m', 'addrtype', '--dst-type', 'LOCAL', ...TAG, '-j', c.dnat], insert: false },
      { table: 'nat', chain: 'POSTROUTING', rule: [...TAG, '-j', c.post], insert: false },
    ];
  }

  /** The iptables-restore input that replaces all of Dray's rules (plus the given jump lines per table). */
  render(networks: readonly FirewallNetwork[], ports: readonly FirewallPort[], extra: Record<string, string[]> = {}): string {
    const c = this.chains;
    const f: string[] = ['*filter', `:${c.forward} - [0:0]`, `:${c.iso1} - [0:0]`, `:${c.iso2} - [0:0]`];
    f.push(`-A ${c.forward} -j ${c.iso1}`);
    for (const n of networks) {
      f.push(`-A ${c.iso1} -i ${n.bridge} ! -o ${n.bridge} -j ${c.iso2}`);
      f.push(`-A ${c.iso2} -o ${n.bridge} -j DROP`);
    }
    for (const n of networks.filter((x) => x.internal)) {
      f.push(`-A ${c.forward} -i ${n.bridge} ! -o ${n.bridge} -j DROP`);
      f.push(`-A ${c.forward} -o ${n.bridge} ! -i ${n.bridge} -j DROP`);
    }
    for (const n of networks) f.push(`-A ${c.forward} -o ${n.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    for (const p of ports) {
      f.push(`-A ${c.forward} -d ${p.containerIp}/32 ! -i ${p.bridge} -o ${p.bridge} -p ${p.proto} -m ${p.proto} --dport ${p.containerPort} -j ACCEPT`);
    }
    for (const n of networks) {
      f.push(`-A ${c.forward} -i ${n.bridge} -o ${n.bridge} -j ${n.icc ? 'ACCEPT' : 'DROP'}`);
      if (!n.internal) f.push(`-A ${c.forward} -i ${n.bridge} ! -o ${n.bridge} -j ACCEPT`);
      // Nothing else may be routed into a network, whatever FORWARD's policy is.
      f.push(`-A ${c.forward} -o ${n.bridge} -j DROP`);
    }
    f.push(...(extra.filter ?? []), 'COMMIT');

    const n: string[] = ['*nat', `:${c.dnat} - [0:0]`, `:${c.post} - [0:0]`];
    for (const p of ports) {
      const dst = p.hostIp && p.hostIp !== '0.0.0.0' ? `-d ${p.hostIp}/32 ` : '';
      n.push(`-A ${c.dnat} ${dst}-p ${p.proto} -m ${p.proto} --dport ${p.hostPort} -j DNAT --to-destination ${p.containerIp}:${p.containerPort}`);
    }
    for (const p of ports) {
      // Hairpin: a container reaching its own published port through a host address gets its reply via the host.
      n.push(`-A ${c.post} -s ${p.containerIp}/32 -d ${p.containerIp}/32 -p ${p.proto} -m ${p.proto} --dport ${p.containerPort} -j MASQUERADE`);
    }
    for (const net of networks) {
      if (!net.internal && net.masquerade) n.push(`-A ${c.post} -s ${net.subnet} ! -o ${net.bridge} -j MASQUERADE`);
      // Connections to a published port from the host's loopback keep 127.0.0.1 as source after DNAT: rewrite it.
      n.push(`-A ${c.post} -s 127.0.0.0/8 -o ${net.bridge} -j MASQUERADE`);
    }
    n.push(...(extra.nat ?? []), 'COMMIT');
    return [...f, ...n, ''].join('\n');
  }

  /** Replaces all of Dray's rules atomically with the ones for this state. */
  apply(networks: readonly FirewallNetwork[], ports: readonly FirewallPort[]): void {
    const rules = this.render(networks, ports);
    // Most container stops change no rule (no published port): skip the iptables-restore then.
    if (this.jumpsChecked && rules === this.applied) return;
    restore(this.jumpsChecked ? rules : this.render(networks, ports, this.missingJumps()));
    this.jumpsChecked = true;
    this.applied = rules;
  }

  /** Forgets that the jumps were seen, so the next apply checks them again (someone may have flushed a built-in chain). */
  recheck(): void { this.jumpsChecked = false; this.applied = ''; }

  private missingJumps(): Record<string, string[]> {
    const saved = iptablesSave();
    const add: Record<string, string[]> = { filter: [], nat: [] };
    for (const j of this.jumps()) {
      if (saved[j.table]?.split('\n').includes(`-A ${j.chain} ${j.rule.join(' ')}`)) continue;
      add[j.table]!.push(`${j.insert ? `-I ${j.chain} 1` : `-A ${j.chain}`} ${j.rule.join(' ')}`);
    }
    return add;
  }

  /** Removes every rule, jump and chain of this prefix. */
  remove(): void {
    const saved = iptablesSave();
    const lines: Record<string, string[]> = { filter: [], nat: [] };
    for (const j of this.jumps()) {
      const line = `-A ${j.chain} ${j.rule.join(' ')}`;
      // A jump added twice (two daemons racing) is removed as often as it is there.
      const count = saved[j.table]?.split('\n').filter((l) => l === line).length ?? 0;
      for (let i = 0; i < count; i++) lines[j.table]!.push(`-D ${j.chain} ${j.rule.join(' ')}`);
    }
    const c = this.chains;
    for (const [table, chains] of [['filter', [c.forward, c.iso1, c.iso2]], ['nat', [c.dnat, c.post]]] as const) {
      for (const ch of chains) if (saved[table]?.includes(`:${ch} `)) lines[table]!.push(`-F ${ch}`);
      for (const ch of chains) if (saved[table]?.includes(`:${ch} `)) lines[table]!.push(`-X ${ch}`);
    }
    const input = Object.entries(lines).filter(([, l]) => l.length).map(([t, l]) => `*${t}\n${l.join('\n')}\nCOMMIT\n`).join('');
    if (input) restore(input);
    this.recheck();
  }

  /** The number of rule lines (chains, rules, jumps) of this prefix in the kernel: 0 after remove(). */
  count(): number {
    const saved = iptablesSave();
    let n = 0;
    for (const text of Object.values(saved)) {
      for (const line of text.split('\n')) if (line.includes(`${this.prefix}-`)) n++;
    }
    return n;
  }
}

function restore(input: string): void {
  try {
    execFileSync('iptables-restore', ['-w', '10', '--noflush'], { input, stdio: ['pipe', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`iptables-restore failed: ${stderr || (err as Error).message}\n--- input ---\n${input}`);
  }
}

/** iptables-save of the tables Dray uses, by table name. */
export function iptablesSave(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const table of ['filter', 'nat']) {
    out[table] = execFileSync('iptables-save', ['-t', table], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }
  return out;
}
