// One Dray pull in a fresh process, for the benchmark and the memory test:
//   node bench/pull/dray-pull.ts --root DIR --ref REF [--unpack [--after]] [--concurrency N]
// Prints one JSON line: {"ms":..,"cpuMs":..,"maxRssKb":..,"layers":..,"unpacked":bool}.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { openImageStores } from '../../src/images/metadata/open.ts';
import { RegistryClient } from '../../src/images/registry/client.ts';
import { closeIdleConnections } from '../../src/images/registry/transport.ts';
import { pull, type ImageLayer } from '../../src/images/pull.ts';
import { unpack } from '../../src/images/unpack.ts';
import { openSnapshotter } from '../../src/images/snapshots/index.ts';

const { values } = parseArgs({ options: { root: { type: 'string' }, ref: { type: 'string' }, unpack: { type: 'boolean', default: false }, after: { type: 'boolean', default: false }, concurrency: { type: 'string', default: '3' } } });
if (!values.root || !values.ref) throw new Error('usage: dray-pull.ts --root DIR --ref REF [--unpack]');
const stores = openImageStores(values.root);
const snapshotter = values.unpack ? openSnapshotter(join(values.root, 'snapshots')) : undefined;
const done: ImageLayer[] = [];
const t0 = process.hrtime.bigint();
const res = await pull(stores, new RegistryClient({ credentials: () => undefined }), values.ref, {
  concurrency: Number(values.concurrency),
  // Each layer is applied as it arrives, once the ones below it are committed;
  // --after: each applied from the store once downloaded (the older way, for comparison).
  ...(snapshotter && !values.after ? { unpackTo: { snapshotter } } : {}),
  ...(snapshotter && values.after
    ? {
        unpack: async (layer: ImageLayer) => {
          done.push(layer);
          await unpack({ snapshotter, content: stores.content, layers: done.map((l) => l.descriptor), diffIds: done.map((l) => l.diffId) });
        },
      }
    : {}),
});
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
closeIdleConnections();
stores.close();
const ru = process.resourceUsage();
// CPU of every thread of the process (main, apply worker, zlib's pool), in ms.
process.stdout.write(JSON.stringify({ ms, cpuMs: (ru.userCPUTime + ru.systemCPUTime) / 1000, maxRssKb: ru.maxRSS, layers: res.layers.length, unpacked: Boolean(snapshotter) }) + '\n');
