// drayd against dockerd 20.10, with the docker CLI 28 as the client of both,
// in one run: `docker run --rm busybox true` (medians, ratio), 20 parallel
// `run -d` then `rm -f`, and the idle resident memory of each daemon side.
// Run as root: node_modules/.bin/node bench/engine/engine.ts [runs]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDockerd, DOCKER_CLI, execCommand } from '../../test/harness/index.ts';
import { testImage } from '../../test/images/index.ts';
import { startDrayd } from '../../test/engine/support/drayd.ts';
import { median, printTable, ratio, timeRuns } from '../support/stats.ts';

const RUNS = Number(process.argv[2] ?? 10);
const PARALLEL = 20;

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/**
 * The resident memory of a group of processes with file pages counted once:
 * anonymous memory summed, each mapped file's resident pages once (the
 * largest of the group's mappings of it). RSS sums count the Node binary's
 * pages twice for drayd + dray-containerd; PSS depends on whatever else on
 * the machine maps the same files (other Node processes, other dockerds).
 */
function footprintKb(pids: number[]): number {
  let anon = 0;
  const files = new Map<string, number>();
  for (const pid of pids) {
    let key = '';
    for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
      const head = /^[0-9a-f]+-[0-9a-f]+ \S+ ([0-9a-f]+) (\S+) (\d+)/.exec(line);
      if (head) { key = head[3] === '0' ? '' : `${head[2]}:${head[3]}:${head[1]}`; continue; }
      const rss = /^Rss:\s+(\d+) kB/.exec(line);
      if (!rss) continue;
      if (key) files.set(key, Math.max(files.get(key) ?? 0, Number(rss[1])));
      else anon += Number(rss[1]);
    }
  }
  let f = 0;
  for (const v of files.values()) f += v;
  return anon + f;
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function main(): Promise<void> {
  const img = await testImage('busybox');
  const dray = await startDrayd(process.env['BENCH_DRAYD_RUNTIME'] ? ['--runtime', process.env['BENCH_DRAYD_RUNTIME']] : []);
  const real = await startDockerd().catch(async (e: unknown) => { await dray.stop(); throw e; });
  try {
    const sides = [
      { name: 'dray', env: dray.cliEnv },
      { name: 'dockerd', env: real.cliEnv },
    ];
    const cli = (env: NodeJS.ProcessEnv, args: string[]) => execCommand(DOCKER_CLI.v28, args, { env }).then((r) => {
      if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    });
    for (const s of sides) await cli(s.env, ['load', '-i', img.dockerArchive]);
    const runRm: Record<string, number[]> = {};
    const par: Record<string, number[]> = {};
    for (const s of sides) {
      runRm[s.name] = await timeRuns(() => cli(s.env, ['run', '--rm', 'busybox', 'true']), RUNS, 2);
    }
    for (const s of sides) {
      par[s.name] = await timeRuns(async () => {
        const ids = await Promise.all(Array.from({ length: PARALLEL }, () => cli(s.env, ['run', '-d', 'busybox', 'sleep', '1000']).then((o) => o.trim())));
        await cli(s.env, ['rm', '-f', ...ids]);
      }, Math.max(3, Math.floor(RUNS / 3)), 1);
    }
    printTable([
      { name: 'docker run --rm busybox true', dray: runRm['dray']!, peer: runRm['dockerd']! },
      { name: `${PARALLEL} parallel run -d, then rm -f`, dray: par['dray']!, peer: par['dockerd']! },
    ], 'dockerd');
    // idle memory: the daemons after the runs, no containers left, 2 s of quiet
    await new Promise((r) => setTimeout(r, 2000));
    const supPid = (): number => Number(readFileSync(join(dray.execRoot, 'containerd', 'containerd.pid'), 'utf8').trim());
    const drayRss = rssKb(dray.pid()) + rssKb(supPid());
    const drayRssParts = `drayd ${(rssKb(dray.pid()) / 1024).toFixed(1)} MB + dray-containerd ${(rssKb(supPid()) / 1024).toFixed(1)} MB`;
    const containerd = childrenOf(real.pid).filter((p) => /containerd/.test(readFileSync(`/proc/${p}/comm`, 'utf8')));
    const dockerdRss = rssKb(real.pid);
    const containerdRss = containerd.reduce((a, p) => a + rssKb(p), 0);
    console.log(`idle RSS: ${drayRssParts} = ${(drayRss / 1024).toFixed(1)} MB`);
    console.log(`idle RSS: dockerd ${(dockerdRss / 1024).toFixed(1)} MB + containerd ${(containerdRss / 1024).toFixed(1)} MB = ${((dockerdRss + containerdRss) / 1024).toFixed(1)} MB`);
    const drayFp = footprintKb([dray.pid(), supPid()]);
    const dockerFp = footprintKb([real.pid, ...containerd]);
    console.log(`idle footprint (file pages once): drayd + dray-containerd ${(drayFp / 1024).toFixed(1)} MB; dockerd + containerd ${(dockerFp / 1024).toFixed(1)} MB; ratio ${ratio(drayFp, dockerFp).toFixed(2)}`);
    // the same drayd restarted (warm compile cache, images in place): the layer-apply worker of the
    // images library, which stays once a layer was applied, is not there until the next pull/load
    await dray.kill9();
    await dray.restart();
    await new Promise((r) => setTimeout(r, 2000));
    const drayRestarted = rssKb(dray.pid()) + rssKb(supPid());
    console.log(`idle RSS: drayd restarted (dray-containerd kept) ${(rssKb(dray.pid()) / 1024).toFixed(1)} MB + ${(rssKb(supPid()) / 1024).toFixed(1)} MB = ${(drayRestarted / 1024).toFixed(1)} MB`);
    console.log(`memory ratio: footprint ${ratio(drayFp, dockerFp).toFixed(2)}; RSS sums ${ratio(drayRss, dockerdRss + containerdRss).toFixed(2)} (restarted: ${ratio(drayRestarted, dockerdRss + containerdRss).toFixed(2)}; the Node binary's pages counted twice); run --rm median ${median(runRm['dray']!).toFixed(0)} vs ${median(runRm['dockerd']!).toFixed(0)} ms`);
  } finally {
    await dray.stop();
    real.stop();
  }
}

await main();
