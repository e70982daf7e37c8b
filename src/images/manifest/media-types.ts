// Media types of OCI and Docker image content.

export const MEDIA_TYPE = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondist: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export const MANIFEST_TYPES: readonly string[] = [MEDIA_TYPE.ociManifest, MEDIA_TYPE.dockerManifest];
export const INDEX_TYPES: readonly string[] = [MEDIA_TYPE.ociIndex, MEDIA_TYPE.dockerManifestList];
export const CONFIG_TYPES: readonly string[] = [MEDIA_TYPE.ociConfig, MEDIA_TYPE.dockerConfig];
export const SCHEMA1_TYPES: readonly string[] = [MEDIA_TYPE.dockerSchema1, MEDIA_TYPE.dockerSchema1Signed];

/** The Accept header a client sends for manifests: both families, index types included. */
export const MANIFEST_ACCEPT: readonly string[] = [
  MEDIA_TYPE.ociIndex,
  MEDIA_TYPE.ociManifest,
  MEDIA_TYPE.dockerManifestList,
  MEDIA_TYPE.dockerManifest,
];

export type Compression = 'none' | 'gzip' | 'zstd';

export interface LayerType {
  compression: Compression;
  /** Non-distributable ("foreign") layer: may be fetched from its urls, never pushed by default. */
  foreign: boolean;
}

const LAYERS: Record<string, LayerType> = {
  [MEDIA_TYPE.ociLayer]: { compression: 'none', foreign: false },
  [MEDIA_TYPE.ociLayerGzip]: { compression: 'gzip', foreign: false },
  [MEDIA_TYPE.ociLayerZstd]: { compression: 'zstd', foreign: false },
  [MEDIA_TYPE.ociLayerNondist]: { compression: 'none', foreign: true },
  [MEDIA_TYPE.ociLayerNondistGzip]: { compression: 'gzip', foreign: true },
  [MEDIA_TYPE.ociLayerNondistZstd]: { compression: 'zstd', foreign: true },
  [MEDIA_TYPE.dockerLayer]: { compression: 'none', foreign: false },
  [MEDIA_TYPE.dockerLayerGzip]: { compression: 'gzip', foreign: false },
  [MEDIA_TYPE.dockerForeignLayerGzip]: { compression: 'gzip', foreign: true },
};

/** The layer kind of a media type, or undefined when it is not a layer type Dray knows. */
export function layerType(mediaType: string): LayerType | undefined {
  return LAYERS[mediaType];
}

export function isManifestType(t: string): boolean {
  return MANIFEST_TYPES.includes(t);
}
export function isIndexType(t: string): boolean {
  return INDEX_TYPES.includes(t);
}
