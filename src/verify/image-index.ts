import { PortcullisError } from '../errors/index.js';
import type { Descriptor } from '../oci/index.js';
import { MAX_MANIFEST_BYTES, toDescriptor } from '../oci/index.js';
import { MEDIA_TYPE } from '../oci/index.js';
import { isJsonObject, parseStrictJson } from '../util/index.js';

/** More platform manifests than this are refused rather than verified one by one (`platforms: all`). */
export const MAX_PLATFORM_MANIFESTS = 64;

/** One entry of an image index that is a platform manifest. */
export interface PlatformEntry {
  readonly descriptor: Descriptor;
  /** `linux/arm64/v8` as the entry's `platform` says, or undefined when it names none. */
  readonly platform: string | undefined;
}

export interface ImageIndex {
  /** Every entry of `manifests`, in order (attestation manifests included). */
  readonly manifests: readonly Descriptor[];
  /** The entries a runtime may pull: all but those of platform `unknown/unknown` (BuildKit attestations). */
  readonly platforms: readonly PlatformEntry[];
}

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPE.ociIndex || mediaType === MEDIA_TYPE.dockerManifestList;
}

function fail(message: string): never {
  throw new PortcullisError('ERR_INDEX_INVALID', message);
}

function platformOf(value: unknown): string | undefined {
  if (!isJsonObject(value)) return undefined;
  const { os, architecture, variant } = value;
  if (typeof os !== 'string' || typeof architecture !== 'string') return undefined;
  return [os, architecture, ...(typeof variant === 'string' && variant !== '' ? [variant] : [])].join('/');
}

/**
 * Reads an image index (OCI image index or Docker manifest list), strict JSON. BuildKit puts
 * attestation manifests in the index with platform `unknown/unknown`, which no node matches, so
 * they are not among `platforms`; every other entry is.
 */
export function parseImageIndex(bytes: Uint8Array, what = 'image index'): ImageIndex {
  if (bytes.length > MAX_MANIFEST_BYTES)
    fail(`${what} of ${bytes.length} bytes exceeds the ${MAX_MANIFEST_BYTES}-byte cap`);
  let doc: unknown;
  try {
    doc = parseStrictJson(bytes, { maxDepth: 32, maxBytes: MAX_MANIFEST_BYTES });
  } catch (cause) {
    fail(`${what} is not valid JSON: ${(cause as Error).message}`);
  }
  if (!isJsonObject(doc)) fail(`${what} must be a JSON object`);
  const entries = doc.manifests;
  if (!Array.isArray(entries)) fail(`${what} has no manifests list`);
  const manifests: Descriptor[] = [];
  const platforms: PlatformEntry[] = [];
  entries.forEach((entry, i) => {
    let descriptor: Descriptor;
    try {
      descriptor = toDescriptor(entry, `manifests[${i}]`);
    } catch (error) {
      fail(`${what}: ${(error as Error).message}`);
    }
    manifests.push(descriptor);
    const platform = platformOf(isJsonObject(entry) ? entry.platform : undefined);
    // Only the platform decides, never the annotation: an entry for linux/amd64 annotated as an
    // attestation manifest would still be pulled by an amd64 node. An entry naming no platform
    // matches any node (containerd), so it is a platform manifest too.
    if (platform !== 'unknown/unknown') platforms.push({ descriptor, platform });
  });
  return { manifests, platforms };
}

/** The entry of the index that is `digest` with the same size, if any (the index covers it by digest). */
export function listedIn(index: ImageIndex, target: Descriptor): Descriptor | undefined {
  return index.manifests.find((d) => d.digest === target.digest && d.size === target.size);
}
