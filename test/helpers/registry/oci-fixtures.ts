import { createHash } from 'node:crypto';

/** Small OCI building blocks for registry tests: blobs, descriptors and manifests as exact bytes. */

export const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  empty: 'application/vnd.oci.empty.v1+json',
  notarySignature: 'application/vnd.cncf.notary.signature',
  jws: 'application/jose+json',
  cose: 'application/cose',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  imageConfig: 'application/vnd.oci.image.config.v1+json',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface Blob {
  readonly bytes: Uint8Array;
  readonly digest: string;
  descriptor(mediaType: string): Descriptor;
}

export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function blob(content: string | Uint8Array): Blob {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  const digest = digestOf(bytes);
  return { bytes, digest, descriptor: (mediaType) => ({ mediaType, digest, size: bytes.length }) };
}

/** The OCI empty descriptor's blob: `{}`. */
export const EMPTY = blob('{}');

export interface Manifest {
  readonly bytes: Uint8Array;
  readonly digest: string;
  readonly mediaType: string;
  readonly json: Record<string, unknown>;
  descriptor(): Descriptor;
}

export function manifest(json: Record<string, unknown>): Manifest {
  const bytes = new TextEncoder().encode(JSON.stringify(json));
  const digest = digestOf(bytes);
  const mediaType = typeof json.mediaType === 'string' ? json.mediaType : MEDIA.manifest;
  return { bytes, digest, mediaType, json, descriptor: () => ({ mediaType, digest, size: bytes.length }) };
}

export function imageManifest(opts: {
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}): Manifest {
  return manifest({
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    ...(opts.artifactType === undefined ? {} : { artifactType: opts.artifactType }),
    config: opts.config,
    layers: opts.layers,
    ...(opts.subject === undefined ? {} : { subject: opts.subject }),
    ...(opts.annotations === undefined ? {} : { annotations: opts.annotations }),
  });
}

export function imageIndex(manifests: Descriptor[], extra: Record<string, unknown> = {}): Manifest {
  return manifest({ schemaVersion: 2, mediaType: MEDIA.index, manifests, ...extra });
}

/** The referrers tag-schema tag for a digest: `sha256:abc…` → `sha256-abc…`. */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-');
}
