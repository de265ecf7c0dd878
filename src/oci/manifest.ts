import { PortcullisError } from '../errors/index.js';
import { parseStrictJson } from '../util/index.js';
import type { Descriptor } from './descriptor.js';
import { MEDIA_TYPE } from './media-types.js';

/** An OCI image manifest or index, as far as Portcullis reads one. */
export interface Manifest {
  readonly mediaType: string | undefined;
  readonly artifactType: string | undefined;
  readonly config: Descriptor | undefined;
  readonly layers: readonly Descriptor[];
  /** For an index: the manifests it lists. */
  readonly manifests: readonly Descriptor[];
  readonly subject: Descriptor | undefined;
  readonly annotations: Readonly<Record<string, string>>;
}

/** Manifests are small; 4 MiB is the cap registries and notation use. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

function fail(message: string): never {
  throw new PortcullisError('ERR_SIGNATURE_MANIFEST_INVALID', message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, what: string): Record<string, string> {
  if (v === undefined) return {};
  if (!isRecord(v)) fail(`${what} must be an object of strings`);
  for (const [k, val] of Object.entries(v)) if (typeof val !== 'string') fail(`${what}["${k}"] must be a string`);
  return v as Record<string, string>;
}

/** Validates one descriptor object. */
export function toDescriptor(v: unknown, what: string): Descriptor {
  if (!isRecord(v)) fail(`${what} must be a descriptor object`);
  const { mediaType, digest, size, artifactType, annotations, data } = v;
  if (typeof mediaType !== 'string' || mediaType === '') fail(`${what}.mediaType must be a non-empty string`);
  if (typeof digest !== 'string' || !/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) {
    fail(`${what}.digest is not a valid digest`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    fail(`${what}.size must be a non-negative integer`);
  if (artifactType !== undefined && typeof artifactType !== 'string') fail(`${what}.artifactType must be a string`);
  if (data !== undefined && typeof data !== 'string') fail(`${what}.data must be a string`);
  return {
    mediaType,
    digest,
    size,
    ...(artifactType === undefined ? {} : { artifactType: artifactType as string }),
    ...(annotations === undefined ? {} : { annotations: stringMap(annotations, `${what}.annotations`) }),
    ...(data === undefined ? {} : { data: data as string }),
  };
}

/** Parses an image manifest or index (strict JSON, duplicate keys rejected). */
export function parseManifest(bytes: Uint8Array): Manifest {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new PortcullisError(
      'ERR_SIZE_LIMIT',
      `manifest of ${bytes.length} bytes exceeds the ${MAX_MANIFEST_BYTES}-byte cap`,
    );
  }
  let doc: unknown;
  try {
    doc = parseStrictJson(Buffer.from(bytes).toString('utf8'), { maxDepth: 32, maxBytes: MAX_MANIFEST_BYTES });
  } catch (cause) {
    throw new PortcullisError(
      'ERR_SIGNATURE_MANIFEST_INVALID',
      `manifest is not valid JSON: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (!isRecord(doc)) fail('manifest must be a JSON object');
  const layers = doc.layers === undefined ? [] : doc.layers;
  const manifests = doc.manifests === undefined ? [] : doc.manifests;
  if (!Array.isArray(layers)) fail('manifest.layers must be an array');
  if (!Array.isArray(manifests)) fail('manifest.manifests must be an array');
  if (doc.mediaType !== undefined && typeof doc.mediaType !== 'string') fail('manifest.mediaType must be a string');
  if (doc.artifactType !== undefined && typeof doc.artifactType !== 'string')
    fail('manifest.artifactType must be a string');
  return {
    mediaType: doc.mediaType as string | undefined,
    artifactType: doc.artifactType as string | undefined,
    config: doc.config === undefined ? undefined : toDescriptor(doc.config, 'config'),
    layers: layers.map((l, i) => toDescriptor(l, `layers[${i}]`)),
    manifests: manifests.map((m, i) => toDescriptor(m, `manifests[${i}]`)),
    subject: doc.subject === undefined ? undefined : toDescriptor(doc.subject, 'subject'),
    annotations: stringMap(doc.annotations, 'annotations'),
  };
}

/** The artifact type a referrers listing reports: artifactType, else config.mediaType. */
export function effectiveArtifactType(m: Manifest): string | undefined {
  return m.artifactType ?? m.config?.mediaType;
}

/** A signature manifest that has the Notary shape. */
export interface SignatureManifest {
  readonly manifest: Manifest;
  /** The single layer: the envelope blob. Its media type selects the envelope parser. */
  readonly envelope: Descriptor;
  readonly subject: Descriptor;
  /** `artifactType` (OCI 1.1 shape) or `legacy` (config media type, notation ≤ 1.1). */
  readonly shape: 'artifactType' | 'legacy';
}

/**
 * Checks the Notary signature manifest shape (signature-specification.md, "OCI Signatures"):
 * an image manifest, either artifactType notary + empty config, or no artifactType and config
 * media type notary; exactly one layer; a subject.
 */
export function toSignatureManifest(manifest: Manifest): SignatureManifest {
  if (manifest.mediaType !== MEDIA_TYPE.ociManifest) {
    fail(`signature manifest media type must be ${MEDIA_TYPE.ociManifest}, got ${JSON.stringify(manifest.mediaType)}`);
  }
  let shape: SignatureManifest['shape'];
  if (manifest.artifactType === MEDIA_TYPE.notarySignature) {
    if (manifest.config?.mediaType !== MEDIA_TYPE.ociEmpty) {
      fail(
        `signature manifest with artifactType ${MEDIA_TYPE.notarySignature} must have config media type ${MEDIA_TYPE.ociEmpty}`,
      );
    }
    shape = 'artifactType';
  } else if (manifest.artifactType === undefined && manifest.config?.mediaType === MEDIA_TYPE.notarySignature) {
    shape = 'legacy';
  } else {
    fail(
      'manifest is not a Notary signature (neither artifactType nor config media type is application/vnd.cncf.notary.signature)',
    );
  }
  if (manifest.layers.length !== 1)
    fail(`signature manifest must have exactly one layer, found ${manifest.layers.length}`);
  if (manifest.subject === undefined) fail('signature manifest has no subject');
  return { manifest, envelope: manifest.layers[0] as Descriptor, subject: manifest.subject, shape };
}
