// drayd's memory and CPU around a load and a pull (not a test):
//   node bench/pull/drayd-rss.ts [--semi 1,32] [--rounds 3] [--image nginx]
// Per Node semi-space size: a fresh drayd; VmRSS idle, after `docker load`
// (right away and once idle), then `docker pull` from a local registry into
// a fresh daemon (wall time, drayd CPU time, VmRSS right after and idle).
// Prints medians per setting.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRegistry } from '../../test/harness/index.ts';
import { testImage, type TestImageName } from '../../test/images/index.ts';
import { startDrayd } from '../../test/engine/support/drayd.ts';

const { values } = parseArgs({ options: { semi: { type: 'string', default: '1,32' }, rounds: { type: 'string', default: '3' }, image: { type: 'string', default: 'nginx' }, idle: { type: 'string', default: '4000' } } });
const rounds = Number(values.rounds);
const idleMs = Number(values.idle);
const img = await testImage(values.image as TestImageName);
const reg = await startRegistry();
const ref = `${reg.host}/bench/${values.image}:1`;
execFileSync('skopeo', ['copy', '--dest-tls-verify=false', `oci:${img.ociLayout}:latest`, `docker://${ref}`], { stdio: 'ignore' });

const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
const cpuMs = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // utime+stime in clock ticks (100/s)
};
const threads = (pid: number): number => Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  for (const semi of values.semi.split(',')) {
    const rows: Record<string, number[]> = {};
    const add = (k: string, v: number): void => { (rows[k] ??= []).push(v); };
    for (let r = 0; r < rounds; r++) {
      const flags = [`--max-semi-space-size=${semi}`];
      const a = await startDrayd([], { nodeFlags: flags });
      try {
        const pid = a.pid();
        await sleep(1000);
        add('idleStartKb', rssKb(pid));
        await a.docker(['load', '-i', img.dockerArchive]);
        add('afterLoadKb', rssKb(pid));
        add('threadsAfterLoad', threads(pid));
        await sleep(idleMs);
        add('idleAfterLoadKb', rssKb(pid));
        add('threadsIdle', threads(pid));
      } finally {
        await a.stop();
      }
      const b = await startDrayd([], { nodeFlags: flags });
      try {
        const pid = b.pid();
        await sleep(1000);
        const c0 = cpuMs(pid);
        const t0 = performance.now();
        await b.docker(['pull', ref]);
        add('pullMs', performance.now() - t0);
        add('pullCpuMs', cpuMs(pid) - c0);
        add('afterPullKb', rssKb(pid));
        await sleep(idleMs);
        add('idleAfterPullKb', rssKb(pid));
      } finally {
        await b.stop();
      }
    }
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(rows)) out[k] = Math.round(median(v));
    process.stdout.write(`semi=${semi} rounds=${rounds} ${JSON.stringify(out)}\n`);
  }
} finally {
  reg.stop();
}
