// Child process for the crash test: prepares, commits and removes snapshots
// in a loop (with files in them) until it is killed with SIGKILL.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OverlaySnapshotter } from '../../src/images/snapshots/overlay.ts';
import { NaiveSnapshotter } from '../../src/images/snapshots/naive.ts';

const [root, kind] = process.argv.slice(2) as [string, string];
const s = kind === 'naive' ? new NaiveSnapshotter(root) : new OverlaySnapshotter(root);
let parent: string | undefined;
for (let i = 0; i < 100_000; i++) {
  const key = `k${process.pid}-${i}`;
  await s.prepare(key, parent);
  writeFileSync(join(s.dir(key), `f${i}`), 'x'.repeat(4096));
  if (i % 3 === 2) {
    await s.remove(key);
  } else {
    await s.commit(`c${process.pid}-${i}`, key);
    parent = `c${process.pid}-${i}`;
  }
  if (i === 5) process.stdout.write('running\n');
}
