// Kernel plumbing of the bridge driver over rtnetlink: bridges with their
// gateway address, veth pairs into container namespaces, addresses, routes.
// No policy here: the manager decides names and addresses.
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { NetlinkError, Rtnetlink, type Link } from './netlink/rtnetlink.ts';

export interface VethPlan {
  bridge: string;
  hostVeth: string;
  netns: string;        // path of the container's network namespace
  ifname: string;       // eth0…, inside the container
  ip: string;
  prefixLen: number;
  mac: string;
  gateway: string | null; // the default route, when the container has none yet
  mtu: number;
}

export class BridgePlumbing {
  private readonly nl = Rtnetlink.open();

  close(): void { this.nl.close(); }

  links(): Link[] { return this.nl.links(); }

  /** Creates the bridge if missing, with gateway/prefixLen, up, and route_localnet for loopback publishing. */
  ensureBridge(name: string, gateway: string, prefixLen: number, mtu: number): void {
    let br = this.nl.link(name);
    if (!br) {
      try {
        this.nl.createBridge(name, { mtu });
      } catch (err) {
        if (!(err instanceof NetlinkError && err.code === 'EEXIST')) throw err;
      }
      br = this.nl.link(name);
      if (!br) throw new Error(`bridge ${name} vanished after creation`);
    }
    if (br.kind !== 'bridge') throw new Error(`${name} exists and is not a bridge (${br.kind || 'no kind'})`);
    if (!this.nl.addresses().some((a) => a.index === br.index && a.ip === gateway && a.prefixLen === prefixLen)) {
      try {
        this.nl.addAddress(br.index, gateway, prefixLen);
      } catch (err) {
        if (!(err instanceof NetlinkError && err.code === 'EEXIST')) throw err;
      }
    }
    if (!(br.flags & 1)) this.nl.setLink(br.index, { up: true });
    writeSysctl(`net/ipv4/conf/${name}/route_localnet`, '1');
    writeSysctl('net/ipv4/ip_forward', '1');
  }

  removeLink(name: string): boolean {
    const l = this.nl.link(name);
    if (!l) return false;
    try {
      this.nl.deleteLink(l.index);
    } catch (err) {
      if (!(err instanceof NetlinkError && err.code === 'ENODEV')) throw err;
    }
    return true;
  }

  /** The first ethN name not used in the namespace. */
  freeInterfaceName(netns: string): string {
    const inner = Rtnetlink.open(netns);
    try {
      const names = new Set(inner.links().map((l) => l.name));
      for (let i = 0; i < 1000; i++) if (!names.has(`eth${i}`)) return `eth${i}`;
      throw new Error('no free ethN name in the container namespace');
    } finally {
      inner.close();
    }
  }

  /** Veth pair, peer named ifname inside netns, addressed and up; lo up; default route via gateway. */
  connect(p: VethPlan): void {
    const br = this.nl.link(p.bridge);
    if (!br) throw new Error(`bridge ${p.bridge} does not exist`);
    const nsFd = openSync(p.netns, 'r');
    try {
      this.nl.createVeth(p.hostVeth, { peerName: p.ifname, peerNsFd: nsFd, peerMac: p.mac, master: br.index, mtu: p.mtu });
    } finally {
      closeSync(nsFd);
    }
    const inner = Rtnetlink.open(p.netns);
    try {
      // Hairpin: the bridge may send a frame back out the port it came in on (a container calling its own published port).
      writeFileSync(`/sys/class/net/${p.hostVeth}/brport/hairpin_mode`, '1');
      const dev = inner.link(p.ifname);
      if (!dev) throw new Error(`${p.ifname} did not appear in ${p.netns}`);
      inner.addAddress(dev.index, p.ip, p.prefixLen);
      inner.setLink(dev.index, { up: true });
      const lo = inner.link('lo');
      if (lo && !(lo.flags & 1)) inner.setLink(lo.index, { up: true });
      if (p.gateway) {
        try {
          inner.addRoute({ dst: null, dstLen: 0, gateway: p.gateway, oif: dev.index });
        } catch (err) {
          if (!(err instanceof NetlinkError && err.code === 'EEXIST')) throw err; // another network already routes by default
        }
      }
    } catch (err) {
      this.removeLink(p.hostVeth);
      throw err;
    } finally {
      inner.close();
    }
  }

  /** Loopback up (the none network's only interface). */
  loopbackUp(netns: string): void {
    const inner = Rtnetlink.open(netns);
    try {
      const lo = inner.link('lo');
      if (lo && !(lo.flags & 1)) inner.setLink(lo.index, { up: true });
    } finally {
      inner.close();
    }
  }
}

export function writeSysctl(key: string, value: string): void {
  const path = `/proc/sys/${key}`;
  try {
    if (readFileSync(path, 'utf8').trim() === value) return;
  } catch {
    // unreadable: try the write, which reports the real problem
  }
  writeFileSync(path, value);
}
