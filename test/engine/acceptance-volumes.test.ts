// Issue 9's acceptance against drayd, through bin/dray and through the docker
// CLI 28: data outlives its container, a volume in use refuses rm, copy-up
// happens once, --volumes-from shares, :ro refuses writes, --tmpfs is empty
// and sized, and kill -9 of drayd plus a restart loses no volume or data.
// (network-volumes.test.ts covers binds, anonymous volumes of --rm and inspect's Mounts.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from '../support/root.ts';
import { testImage } from '../images/index.ts';
import { startDrayd, type Drayd } from './support/drayd.ts';
import { CLIENTS, client, clientResult } from './support/clis.ts';

let dray: Drayd;

before(async () => {
  if (needsRoot.skip) return;
  dray = await startDrayd();
  await dray.docker(['load', '-i', (await testImage('busybox')).dockerArchive]);
});

after(async () => {
  await dray?.stop();
});

/** Removes containers and volumes a test made, whatever happened. */
async function cleanup(containers: string[], volumes: string[]): Promise<void> {
  if (containers.length) await dray.dockerResult(['rm', '-f', ...containers]);
  if (volumes.length) await dray.dockerResult(['volume', 'rm', '-f', ...volumes]);
}

for (const c of CLIENTS) {
  test(`${c}: a named volume carries data to the next container and refuses rm while in use`, needsRoot, async () => {
    const vol = `data-${c}`;
    const holder = `holder-${c}`;
    try {
      await client(dray, c, ['run', '--rm', '-v', `${vol}:/data`, 'busybox', 'sh', '-c', 'echo written by one > /data/f']);
      assert.equal(await client(dray, c, ['run', '--rm', '-v', `${vol}:/data`, 'busybox', 'cat', '/data/f']), 'written by one\n');
      await client(dray, c, ['run', '-d', '--name', holder, '-v', `${vol}:/data`, 'busybox', 'sleep', '60']);
      const busy = await clientResult(dray, c, ['volume', 'rm', vol]);
      assert.notEqual(busy.code, 0);
      assert.match(busy.stderr, /in use/i);
      assert.match(await client(dray, c, ['volume', 'ls', '-q']), new RegExp(`^${vol}$`, 'm'));
      await client(dray, c, ['rm', '-f', holder]);
      await client(dray, c, ['volume', 'rm', vol]);
      assert.doesNotMatch(await client(dray, c, ['volume', 'ls', '-q']), new RegExp(`^${vol}$`, 'm'));
    } finally {
      await cleanup([holder], [vol]);
    }
  });

  test(`${c}: copy-up of the image's content into an empty volume happens once`, needsRoot, async () => {
    const vol = `copyup-${c}`;
    try {
      // busybox's /etc holds group and passwd: the empty volume gets them on first use
      const first = await client(dray, c, ['run', '--rm', '-v', `${vol}:/etc`, 'busybox', 'sh', '-c', 'ls /etc | grep -E "^(group|passwd)$"; rm /etc/group']);
      assert.equal(first, 'group\npasswd\n');
      // the volume is no longer empty: nothing is copied again
      const second = await client(dray, c, ['run', '--rm', '-v', `${vol}:/etc`, 'busybox', 'sh', '-c', 'ls /etc | grep -E "^(group|passwd)$"']);
      assert.equal(second, 'passwd\n');
    } finally {
      await cleanup([], [vol]);
    }
  });

  test(`${c}: --volumes-from shares, :ro refuses writes, --tmpfs is empty and sized`, needsRoot, async () => {
    const src = `src-${c}`;
    const vol = `shared-${c}`;
    try {
      await client(dray, c, ['run', '-d', '--name', src, '-v', `${vol}:/shared`, '-v', '/anon', 'busybox', 'sh', '-c', 'echo s > /shared/f; echo a > /anon/f; sleep 60']);
      // the reader starts after the writer wrote: poll the file a bounded number of times
      const read = await client(dray, c, ['run', '--rm', '--volumes-from', src, 'busybox', 'sh', '-c',
        'i=0; while [ ! -s /anon/f ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; cat /shared/f /anon/f; echo more >> /shared/f']);
      assert.equal(read, 's\na\n');
      assert.equal(await client(dray, c, ['exec', src, 'cat', '/shared/f']), 's\nmore\n');
      const ro = await clientResult(dray, c, ['run', '--rm', '-v', `${vol}:/shared:ro`, 'busybox', 'sh', '-c', 'cat /shared/f; echo x > /shared/g']);
      assert.notEqual(ro.code, 0);
      assert.equal(ro.stdout, 's\nmore\n');
      assert.match(ro.stderr, /read-only/i);
      const tmpfs = await client(dray, c, ['run', '--rm', '--tmpfs', '/x:size=1m', 'busybox', 'sh', '-c',
        'ls -A /x | wc -l; df -k /x | tail -n 1 | awk "{print \\$2}"; grep " /x " /proc/mounts | cut -d" " -f3']);
      assert.equal(tmpfs, '0\n1024\ntmpfs\n');
    } finally {
      await cleanup([src], [vol]);
    }
  });
}

test('kill -9 of drayd and a restart lose no volume or its contents (both clients)', needsRoot, async () => {
  const vols = CLIENTS.map((c) => `crash-${c}`);
  try {
    for (const [i, c] of CLIENTS.entries()) {
      await client(dray, c, ['volume', 'create', '--label', `by=${c}`, vols[i]!]);
      await client(dray, c, ['run', '--rm', '-v', `${vols[i]}:/v`, 'busybox', 'sh', '-c', `echo survives ${c} > /v/f; sync`]);
    }
    await dray.kill9();
    await dray.restart();
    for (const [i, c] of CLIENTS.entries()) {
      assert.match(await client(dray, c, ['volume', 'ls', '-q']), new RegExp(`^${vols[i]}$`, 'm'));
      assert.equal((await client(dray, c, ['volume', 'inspect', '--format', '{{.Labels.by}}', vols[i]!])).trim(), c);
      assert.equal(await client(dray, c, ['run', '--rm', '-v', `${vols[i]}:/v`, 'busybox', 'cat', '/v/f']), `survives ${c}\n`);
    }
  } finally {
    await cleanup([], vols);
  }
});
