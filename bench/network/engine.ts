// Networking at the engine level, drayd vs the real dockerd 20.10 with the
// docker CLI 28 as the client of both, in one run (root):
//  1. `docker run --rm busybox true` on the default bridge vs `--network none`:
//     the difference of the medians is what networking costs per container;
//  2. throughput of a bounded transfer (200 MB by default) through a port
//     published on 127.0.0.1 (`run -d -p 127.0.0.1:<free>:80`, busybox httpd
//     serving a file made with dd inside the container), GET from the host.
// node_modules/.bin/node bench/network/engine.ts [runs=15] [megabytes=200]
import { startDockerd, DOCKER_CLI, execCommand, freePort, type DockerdPeer } from '../../test/harness/index.ts';
import { testImage } from '../../test/images/index.ts';
import { startDrayd, type Drayd } from '../../test/engine/support/drayd.ts';
import { download, waitHttp } from '../support/http.ts';
import { median, printTable, ratio, timeRuns, type BenchRow } from '../support/stats.ts';

const RUNS = Number(process.argv[2] ?? 15);
const MB = Number(process.argv[3] ?? 200);
const GETS = Math.max(3, Math.min(RUNS, 5));


async function main(): Promise<void> {
  const busybox = await testImage('busybox');
  let dray: Drayd | undefined;
  let real: DockerdPeer | undefined;
  try {
    dray = await startDrayd();
    real = await startDockerd();
    const sides = [
      { name: 'dray', env: dray.cliEnv },
      { name: 'dockerd', env: real.cliEnv },
    ];
    const cli = (env: NodeJS.ProcessEnv, args: string[]) => execCommand(DOCKER_CLI.v28, args, { env, timeoutMs: 120_000 }).then((r) => {
      if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    });
    for (const s of sides) await cli(s.env, ['load', '-i', busybox.dockerArchive]);

    // 1. what networking costs per container: bridge vs none
    const bridge: Record<string, number[]> = {};
    const none: Record<string, number[]> = {};
    // (alternated run by run, so drift in the machine's load hits both alike)
    for (const s of sides) {
      bridge[s.name] = [];
      none[s.name] = [];
      for (let i = 0; i < RUNS; i++) {
        bridge[s.name]!.push(...await timeRuns(() => cli(s.env, ['run', '--rm', 'busybox', 'true']), 1, i === 0 ? 2 : 0));
        none[s.name]!.push(...await timeRuns(() => cli(s.env, ['run', '--rm', '--network', 'none', 'busybox', 'true']), 1, i === 0 ? 2 : 0));
      }
    }

    // 2. throughput through a port published on 127.0.0.1
    const size = MB * 1024 * 1024;
    const gets: Record<string, number[]> = {};
    for (const s of sides) {
      const port = await freePort();
      await cli(s.env, ['run', '-d', '--name', 'netbench', '-p', `127.0.0.1:${port}:80`, 'busybox',
        'sh', '-c', `mkdir -p /www && dd if=/dev/zero of=/www/big bs=1M count=${MB} 2>/dev/null && exec httpd -f -p 80 -h /www`]);
      const url = `http://127.0.0.1:${port}/big`;
      await waitHttp(url, size);
      const samples: number[] = [];
      for (let i = 0; i < GETS; i++) samples.push(await download(url, size));
      gets[s.name] = samples;
      await cli(s.env, ['rm', '-f', 'netbench']);
    }

    const rows: BenchRow[] = [
      { name: 'run --rm busybox true (default bridge)', dray: bridge['dray']!, peer: bridge['dockerd']! },
      { name: 'run --rm --network none busybox true', dray: none['dray']!, peer: none['dockerd']! },
      { name: `GET ${MB} MB via -p 127.0.0.1`, dray: gets['dray']!, peer: gets['dockerd']! },
    ];
    printTable(rows, 'dockerd');
    const cost = (n: string) => median(bridge[n]!) - median(none[n]!);
    console.log(`networking cost per container (bridge - none medians): dray ${cost('dray').toFixed(1)} ms, dockerd ${cost('dockerd').toFixed(1)} ms, ratio ${ratio(cost('dray'), cost('dockerd')).toFixed(2)}`);
    const mbs = (n: string) => MB / (median(gets[n]!) / 1000);
    console.log(`throughput: dray ${mbs('dray').toFixed(0)} MB/s, dockerd ${mbs('dockerd').toFixed(0)} MB/s, ratio ${ratio(mbs('dray'), mbs('dockerd')).toFixed(2)} (above 1: Dray faster)`);
  } finally {
    // stop() removes the containers, then the daemon, its bridges, rules, mounts and dirs
    if (dray) await dray.stop().catch((e: unknown) => console.error(e));
    real?.stop();
  }
}

await main();
