// `docker commit`: the container's writable layer as a new gzip layer on top
// of its image, a new config (the container's Cmd, Env, ... with the
// request's overrides and --change instructions, changes.ts), a manifest of the base's family; recorded and unpacked.
import { randomBytes } from 'node:crypto';
import { badRequest } from '../api/errors.ts';
import { writeBlob } from '../../images/content/local-store.ts';
import { digestOf } from '../../images/content/digest.ts';
import { ContentError } from '../../images/content/errors.ts';
import type { Descriptor } from '../../images/content/types.ts';
import { snapshotDiffSource, writeDiff } from '../../images/layers/diff.ts';
import type { ImageConfig } from '../../images/manifest/config.ts';
import { MEDIA_TYPE } from '../../images/manifest/media-types.ts';
import { formatReference, parseNormalized } from '../../images/reference/reference.ts';
import type { ImageService } from '../images/service.ts';
import type { ContainerConfig, ContainerRecord } from './types.ts';
import { applyChanges, mergeCommitConfig } from './changes.ts';

export interface CommitRequest {
  repo?: string;
  tag?: string;
  author?: string;
  comment?: string;
  changes?: string[];
  config?: ContainerConfig;
}

const CONFIG_KEYS = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'Healthcheck', 'OnBuild'] as const;

export async function commitContainer(images: ImageService, rec: ContainerRecord, req: CommitRequest): Promise<string> {
  let name: string | undefined;
  const base = await images.resolve(rec.Image);
  const cc: Record<string, unknown> = { ...(base.config.config ?? {}) };
  for (const k of CONFIG_KEYS) if (rec.Config[k] !== undefined) cc[k] = rec.Config[k];
  for (const [k, v] of Object.entries(req.config ?? {})) if ((CONFIG_KEYS as readonly string[]).includes(k) && v !== undefined && v !== null) cc[k] = v;
  // --change: the instructions on that config, then dockerd's merge with it (checked before any layer is written)
  const imageConfig = req.changes?.length ? mergeCommitConfig(applyChanges(cc, req.changes), cc) : cc;
  if (req.repo) {
    try {
      const r = parseNormalized(req.repo);
      name = formatReference({ domain: r.domain, path: r.path, tag: req.tag || r.tag || 'latest' });
    } catch (err) {
      throw badRequest((err as Error).message);
    }
  }
  const content = images.stores.content;
  const snap = images.snapshotter;
  const w = await content.writer({ ref: `commit-${randomBytes(8).toString('hex')}` });
  let layer: Descriptor;
  let diffId: string;
  try {
    const d = await writeDiff(snapshotDiffSource(snap, rec.Dray.snapshot), (c) => w.write(c), { compression: 'gzip' });
    // the same unchanged container committed again makes the same layer blob
    await w.commit(d.size, d.digest).catch((err: unknown) => { if (!(err instanceof ContentError && err.code === 'already-exists')) throw err; });
    diffId = d.diffId;
    const docker = base.manifestDesc.mediaType === MEDIA_TYPE.dockerManifest;
    layer = { mediaType: docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : d.mediaType, digest: d.digest, size: d.size };
  } finally {
    await w.close?.();
  }
  const created = new Date().toISOString();
  const config: ImageConfig = {
    ...base.config,
    created,
    ...(req.author ? { author: req.author } : {}),
    config: imageConfig,
    rootfs: { type: 'layers', diff_ids: [...base.config.rootfs.diff_ids, diffId] },
    history: [...(base.config.history ?? []), { created, created_by: [rec.Path, ...rec.Args].join(' '), ...(req.comment ? { comment: req.comment } : {}) }],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const docker = base.manifestDesc.mediaType === MEDIA_TYPE.dockerManifest;
  const configDesc: Descriptor = { mediaType: docker ? MEDIA_TYPE.dockerConfig : MEDIA_TYPE.ociConfig, digest: digestOf(configBytes), size: configBytes.length };
  await writeBlob(content, `commit-config-${configDesc.digest}`, configBytes, configDesc);
  const manifest = { schemaVersion: 2, mediaType: base.manifestDesc.mediaType, config: configDesc, layers: [...base.manifest.layers, layer] };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const manifestDesc: Descriptor = { mediaType: base.manifestDesc.mediaType, digest: digestOf(manifestBytes), size: manifestBytes.length };
  await writeBlob(content, `commit-manifest-${manifestDesc.digest}`, manifestBytes, manifestDesc);
  images.stores.images.put(name ?? `dray-dangling@${configDesc.digest}`, manifestDesc);
  await images.unpack(await images.resolve(configDesc.digest));
  return configDesc.digest;
}
