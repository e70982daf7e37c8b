// End to end with the runtime: the busybox bundle run by dray-runc with the
// OCI mounts the planner makes. Data written in one container is read in
// the next; read-only mounts refuse writes; tmpfs is empty and sized;
// --volumes-from shares; copy-up brings the image's files into the volume.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Spec } from '../../src/runtime/config/types.ts';
import { VolumeStore } from '../../src/volumes/store.ts';
import { ociMounts, planMounts, type ContainerMountInput, type MountPlan } from '../../src/volumes/mounts.ts';
import { makeBundle, type TestBundle } from '../runtime/bundle.ts';
import { needsRoot } from '../support/root.ts';
import { removeTree } from '../harness/cleanup.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('volumes under dray-runc', needsRoot, () => {
  let b: TestBundle;
  let root: string;
  let store: VolumeStore;
  let n = 0;
  before(() => {
    b = makeBundle();
    root = mkdtempSync(join(tmpdir(), 'dray-vol-e2e-'));
    store = new VolumeStore({ root, db: join(root, 'dray.db') });
  });
  after(() => {
    store.close();
    b.cleanup();
    removeTree(root);
  });

  /** Plans the mounts for a new container, runs `sh -c script` in it, and removes it (rm -v). */
  const run = async (input: ContainerMountInput, script: string, lookup?: MountPlan): Promise<{ status: number | null; stdout: string; stderr: string; plan: MountPlan }> => {
    const id = `vol-e2e-${++n}`;
    const plan = await planMounts(input, {
      store, containerId: id, rootfs: b.rootfs,
      lookupContainer: (ref) => (lookup && ref === 'source' ? { id: 'source', mountPoints: lookup.mountPoints } : undefined),
    });
    try {
      const { mounts } = ociMounts(plan.mountPoints, input.Tmpfs, { store, containerId: id });
      b.configure(['sh', '-c', script], (s: Spec) => {
        s.mounts = [...(s.mounts ?? []), ...mounts];
      });
      const r = b.runc(['run', id]);
      return { status: r.status, stdout: r.stdout, stderr: r.stderr, plan };
    } finally {
      store.releaseContainer(id, true);
    }
  };

  it('a named volume keeps what one container wrote for the next', async () => {
    const w = await run({ Binds: ['shared:/data'] }, 'echo from-first > /data/note && sync');
    assert.equal(w.status, 0, w.stderr);
    const r = await run({ Binds: ['shared:/data'] }, 'cat /data/note');
    assert.equal(r.stdout, 'from-first\n', r.stderr);
    assert.ok(store.get('shared'));
  });

  it('read-only volumes and binds refuse writes inside the container', async () => {
    const r = await run({ Binds: ['shared:/data:ro'] }, 'cat /data/note; echo x > /data/other 2>/dev/null && echo wrote || echo refused');
    assert.equal(r.stdout, 'from-first\nrefused\n', r.stderr);
  });

  it('a --tmpfs mount is empty and has its size; a tmpfs volume too', async () => {
    store.create({ Name: 'tv', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=3m' } });
    const r = await run({ Tmpfs: { '/scratch': 'size=2m' }, Binds: ['tv:/tv'] }, "ls -A /scratch | wc -l; df -k /scratch | tail -1 | awk '{print $2}'; df -k /tv | tail -1 | awk '{print $2}'");
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.trim()), ['0', '2048', '3072']);
  });

  it('--volumes-from shares the other container\'s volumes', async () => {
    const id = 'source';
    const src = (await planMounts({ Binds: ['fromvol:/shared'] }, { store, containerId: id }));
    try {
      const w = await run({ VolumesFrom: ['source'] }, 'echo via-volumes-from > /shared/f', src);
      assert.equal(w.status, 0, w.stderr);
      const r = await run({ VolumesFrom: ['source:ro'] }, 'cat /shared/f; touch /shared/g 2>/dev/null || echo refused', src);
      assert.equal(r.stdout, 'via-volumes-from\nrefused\n', r.stderr);
    } finally {
      store.releaseContainer(id);
    }
  });

  it('copy-up: a new volume over /etc holds the image\'s files; an anonymous image VOLUME goes with rm -v', async () => {
    const r = await run({ Binds: ['etcvol:/etc'] }, 'grep -c root /etc/passwd');
    assert.equal(r.stdout, '1\n', r.stderr);
    const a = await run({ ImageVolumes: { '/var/cache': {} } }, 'echo tmp > /var/cache/x && cat /var/cache/x');
    assert.equal(a.stdout, 'tmp\n', a.stderr);
    const anon = a.plan.mountPoints[0]?.Name as string;
    assert.equal(store.get(anon), undefined, 'removed with the container (rm -v)');
  });
});
