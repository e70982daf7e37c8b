// The test images, built on demand and cached outside the repository
// (DRAY_TEST_IMAGES, default /var/cache/dray-test-images). A cache entry is
// keyed on everything that goes into it: the builder's own source, the Debian
// package versions (busybox-static; debootstrap, suite and mirror for nginx)
// and the fixed build date; a built entry is reused as is.
//
// Each entry: <cache>/<name>/<key>/{rootfs/, oci/, docker-archive.tar, image.json}.
// rootfs/ is the unpacked image (usable as an OCI bundle rootfs): treat it as
// read-only, copy it or put an overlay on it to write.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxRootfs, EPOCH } from './busybox-rootfs.ts';
import { writeLayer } from './layer.ts';
import { debootstrapNginx, DEBIAN_MIRROR, DEBOOTSTRAP_ARGS, installedPackages, NGINX_SUITE, trimRootfs } from './nginx-rootfs.ts';
import { writeDockerArchive, writeOciLayout, type ImageLayer, type ImageSpec, type RunConfig } from './oci.ts';
import { alive, removeTree, sleepSync } from '../harness/cleanup.ts';

export type TestImageName = 'busybox' | 'nginx';
export const TEST_IMAGE_NAMES: TestImageName[] = ['busybox', 'nginx'];

export interface TestImage {
  name: TestImageName;
  /** "busybox:latest" */
  ref: string;
  /** The cache entry folder. */
  dir: string;
  /** OCI image layout folder (skopeo: `oci:<ociLayout>:latest`). */
  ociLayout: string;
  /** `docker save` archive (docker load -i). */
  dockerArchive: string;
  /** The unpacked image: read-only. */
  rootfs: string;
  /** sha256:… of the config blob: the image ID docker shows. */
  configDigest: string;
  manifestDigest: string;
  layers: { digest: string; diffId: string; size: number }[];
  config: RunConfig;
  /** Debian packages in the image: name -> version. */
  packages: Record<string, string>;
}

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** $DRAY_TEST_IMAGES, else /var/cache/dray-test-images for root and ~/.cache/dray-test-images for others. */
export function cacheRoot(): string {
  if (process.env.DRAY_TEST_IMAGES) return process.env.DRAY_TEST_IMAGES;
  if (process.getuid?.() === 0) return '/var/cache/dray-test-images';
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dray-test-images');
}

/** The builder's own source: a change to it is a new cache key. */
function builderHash(): string {
  const h = createHash('sha256');
  for (const f of ['index.ts', 'layer.ts', 'oci.ts', 'busybox-rootfs.ts', 'nginx-rootfs.ts']) {
    h.update(f).update(readFileSync(new URL(f, import.meta.url)));
  }
  return h.digest('hex');
}

function debVersion(pkg: string): string {
  return execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' }).trim();
}

function cacheKey(name: TestImageName): string {
  const inputs: Record<string, unknown> = { name, builder: builderHash(), epoch: EPOCH.toISOString() };
  if (name === 'busybox') inputs.busybox = debVersion('busybox-static');
  else Object.assign(inputs, { debootstrap: debVersion('debootstrap'), suite: NGINX_SUITE, mirror: DEBIAN_MIRROR, args: DEBOOTSTRAP_ARGS });
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
}

const memo = new Map<TestImageName, Promise<TestImage>>();

/** The test image `name`, built first when the cache does not hold it yet. */
export function testImage(name: TestImageName): Promise<TestImage> {
  let p = memo.get(name);
  if (!p) {
    p = obtain(name);
    memo.set(name, p);
    p.catch(() => memo.delete(name));
  }
  return p;
}

/** Whether `name` is already built (cheap: no build). */
export function isCached(name: TestImageName): boolean {
  return existsSync(join(cacheRoot(), name, cacheKey(name), 'image.json'));
}

async function obtain(name: TestImageName): Promise<TestImage> {
  const dir = join(cacheRoot(), name, cacheKey(name));
  const meta = join(dir, 'image.json');
  if (existsSync(meta)) return load(dir);
  mkdirSync(join(cacheRoot(), name), { recursive: true });
  const unlock = lock(join(cacheRoot(), name, '.lock'));
  try {
    if (existsSync(meta)) return load(dir); // another process built it meanwhile
    const tmp = `${dir}.tmp-${process.pid}`;
    removeTree(tmp);
    mkdirSync(tmp, { recursive: true });
    try {
      const image = await build(name, tmp);
      // Paths point at the final folder; the rename makes the entry appear whole or not at all.
      writeFileSync(join(tmp, 'image.json'), `${JSON.stringify(image, null, 2)}\n`);
      renameSync(tmp, dir);
      prune(join(cacheRoot(), name), dir);
      return load(dir);
    } catch (err) {
      removeTree(tmp);
      throw err;
    }
  } finally {
    unlock();
  }
}

/** Keeps the newest few entries of an image (other checkouts may use an older builder), removes the rest. */
function prune(imageDir: string, keep: string): void {
  const KEEP = 3;
  const entries = readdirSync(imageDir)
    .filter((e) => /^[0-9a-f]{16}$/.test(e) && join(imageDir, e) !== keep)
    .map((e) => ({ path: join(imageDir, e), mtime: statSync(join(imageDir, e)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const e of entries.slice(KEEP - 1)) removeTree(e.path);
}

/** Reads a cache entry; paths come from where it is now, so a moved cache still works. */
function load(dir: string): TestImage {
  const image = JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8')) as Omit<TestImage, Paths>;
  return { ...image, dir, ociLayout: join(dir, 'oci'), dockerArchive: join(dir, 'docker-archive.tar'), rootfs: join(dir, 'rootfs') };
}

type Paths = 'dir' | 'ociLayout' | 'dockerArchive' | 'rootfs';

/** A lock folder holding the owner's pid; a dead owner's lock is taken over. Bounded wait. */
function lock(path: string): () => void {
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(path);
      writeFileSync(join(path, 'pid'), String(process.pid));
      return () => rmSync(path, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = 0;
    try { owner = Number(readFileSync(join(path, 'pid'), 'utf8')); } catch { /* being written or removed */ }
    if (owner > 0 && !alive(owner)) rmSync(path, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`timed out waiting for the test image lock ${path}`);
    sleepSync(200);
  }
}

async function build(name: TestImageName, dir: string): Promise<Omit<TestImage, Paths>> {
  const rootfs = join(dir, 'rootfs');
  const oci = join(dir, 'oci');
  const blobs = join(oci, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  let spec: ImageSpec;
  let packages: Record<string, string>;
  if (name === 'busybox') {
    mkdirSync(rootfs);
    buildBusyboxRootfs(rootfs);
    // The busybox image is all root-owned, whoever builds it.
    const layer = await writeLayer(rootfs, blobs, { clampMtime: EPOCH, owner: { uid: 0, gid: 0 } });
    packages = { 'busybox-static': debVersion('busybox-static') };
    spec = {
      repository: 'busybox', tag: 'latest', created: EPOCH,
      layers: [{ ...layer, createdBy: `busybox-static ${packages['busybox-static']} with its applet links, /etc/passwd, /etc/group` }],
      config: { Env: [PATH_ENV], Cmd: ['sh'] },
      emptyHistory: ['/bin/sh -c #(nop)  CMD ["sh"]'],
    };
  } else {
    if (process.getuid?.() !== 0) throw new Error('building the nginx test image needs root (debootstrap)');
    await debootstrapNginx(rootfs, join(cacheRoot(), 'debs'), join(dir, 'debootstrap.log'));
    trimRootfs(rootfs, EPOCH);
    packages = installedPackages(rootfs);
    const logLinks = ['var/log/nginx/access.log', 'var/log/nginx/error.log'];
    // Layer 1: the Debian system with nginx, as debootstrap made it.
    const base: ImageLayer = {
      ...await writeLayer(rootfs, blobs, { clampMtime: EPOCH }),
      createdBy: `debootstrap ${DEBOOTSTRAP_ARGS.join(' ')} ${NGINX_SUITE} ${DEBIAN_MIRROR} (nginx ${packages.nginx ?? '?'})`,
    };
    // Layer 2: logs to the container's stdout/stderr, as the official image does.
    for (const l of logLinks) {
      rmSync(join(rootfs, l), { force: true });
      symlinkSync(l.endsWith('access.log') ? '/dev/stdout' : '/dev/stderr', join(rootfs, l));
    }
    const inLayer2 = (rel: string): boolean => logLinks.some((l) => l === rel || l.startsWith(`${rel}/`));
    const links: ImageLayer = {
      ...await writeLayer(rootfs, blobs, { clampMtime: EPOCH, include: inLayer2 }),
      createdBy: '/bin/sh -c ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log',
    };
    spec = {
      repository: 'nginx', tag: 'latest', created: EPOCH,
      layers: [base, links],
      config: { Env: [PATH_ENV], Cmd: ['nginx', '-g', 'daemon off;'], ExposedPorts: { '80/tcp': {} }, StopSignal: 'SIGQUIT' },
      emptyHistory: [
        '/bin/sh -c #(nop)  EXPOSE 80',
        '/bin/sh -c #(nop)  STOPSIGNAL SIGQUIT',
        '/bin/sh -c #(nop)  CMD ["nginx" "-g" "daemon off;"]',
      ],
    };
  }
  const written = writeOciLayout(oci, spec);
  await writeDockerArchive(oci, join(dir, 'docker-archive.tar'), spec, written);
  return {
    name, ref: written.ref, configDigest: written.configDigest, manifestDigest: written.manifestDigest,
    layers: spec.layers.map(({ digest, diffId, size }) => ({ digest, diffId, size })),
    config: spec.config, packages,
  };
}
