import { lstat, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PortcullisError } from '../errors/index.js';
import {
  type Descriptor,
  effectiveArtifactType,
  parseManifest,
  type Manifest,
  MAX_MANIFEST_BYTES,
  MEDIA_TYPE,
} from '../oci/index.js';
import { matchesDigest, parseDigest, isJsonObject, parseStrictJson } from '../util/index.js';
import { streamLayoutBlob } from './blob-stream.js';

/** Envelopes are small; notation caps them at 32 MiB, Portcullis defaults to 4 MiB (configurable). */
export const DEFAULT_BLOB_MAX_BYTES = 4 * 1024 * 1024;

const REF_NAME = 'org.opencontainers.image.ref.name';

export interface OciLayoutOptions {
  readonly blobMaxBytes?: number;
}

/**
 * A read-only OCI image layout on disk (image-spec image-layout.md). Every blob read is capped
 * and checked against its digest, so a tampered layout fails loudly instead of verifying.
 */
export class OciLayout {
  readonly dir: string;
  readonly #index: Manifest;
  readonly #blobMaxBytes: number;

  private constructor(dir: string, index: Manifest, blobMaxBytes: number) {
    this.dir = dir;
    this.#index = index;
    this.#blobMaxBytes = blobMaxBytes;
  }

  static async open(dir: string, options: OciLayoutOptions = {}): Promise<OciLayout> {
    let layoutText: string;
    let indexBytes: Uint8Array;
    try {
      layoutText = await readFile(join(dir, 'oci-layout'), 'utf8');
      indexBytes = await readFile(join(dir, 'index.json'));
    } catch (cause) {
      throw new PortcullisError(
        'ERR_LAYOUT_INVALID',
        `"${dir}" is not a readable OCI image layout: ${(cause as Error).message}`,
        { cause, context: { subject: dir } },
      );
    }
    checkLayoutVersion(dir, layoutText);
    let index: Manifest;
    try {
      index = parseManifest(indexBytes);
    } catch (cause) {
      throw new PortcullisError('ERR_LAYOUT_INVALID', `"${dir}/index.json" is invalid: ${(cause as Error).message}`, {
        cause,
      });
    }
    return new OciLayout(dir, index, options.blobMaxBytes ?? DEFAULT_BLOB_MAX_BYTES);
  }

  /** The descriptors index.json lists. */
  get manifests(): readonly Descriptor[] {
    return this.#index.manifests;
  }

  /** Resolves a tag (index.json ref name) or a digest to a descriptor. */
  async resolve(reference: { tag?: string; digest?: string }): Promise<Descriptor> {
    if (reference.digest !== undefined) {
      if (parseDigest(reference.digest) === undefined) {
        throw new PortcullisError('ERR_DIGEST_INVALID', `"${reference.digest}" is not a valid digest`);
      }
      const listed = this.#index.manifests.find((d) => d.digest === reference.digest);
      if (listed !== undefined) return listed;
      // Not in index.json: it may still be a manifest blob (e.g. a platform manifest of an index).
      const bytes = await this.#readBlob(reference.digest, MAX_MANIFEST_BYTES).catch((error: unknown) => {
        if (error instanceof PortcullisError && error.code === 'ERR_LAYOUT_NOT_FOUND') {
          throw new PortcullisError(
            'ERR_LAYOUT_NOT_FOUND',
            `digest ${reference.digest} is not in the OCI layout "${this.dir}"`,
          );
        }
        throw error;
      });
      const mediaType = parseManifest(bytes).mediaType;
      if (mediaType === undefined)
        throw new PortcullisError('ERR_LAYOUT_INVALID', `blob ${reference.digest} has no mediaType`);
      return { mediaType, digest: reference.digest, size: bytes.length };
    }
    const tag = reference.tag ?? 'latest';
    const found = this.#index.manifests.filter((d) => d.annotations?.[REF_NAME] === tag);
    if (found.length === 0)
      throw new PortcullisError('ERR_LAYOUT_NOT_FOUND', `tag "${tag}" is not in the OCI layout "${this.dir}"`);
    if (found.length > 1)
      throw new PortcullisError('ERR_LAYOUT_INVALID', `tag "${tag}" names ${found.length} manifests in "${this.dir}"`);
    return found[0] as Descriptor;
  }

  async fetchManifest(descriptor: Descriptor): Promise<Uint8Array> {
    return this.#readBlob(descriptor.digest, MAX_MANIFEST_BYTES, descriptor.size);
  }

  async fetchBlob(descriptor: Descriptor): Promise<Uint8Array> {
    return this.#readBlob(descriptor.digest, this.#blobMaxBytes, descriptor.size);
  }

  /** A blob of any size as a verified stream (layers, for copying out of the layout). */
  openBlob(descriptor: Descriptor): AsyncIterable<Uint8Array> {
    return streamLayoutBlob(this.dir, descriptor);
  }

  /**
   * The Notary signatures of a subject: entries of the referrers tag-schema index
   * (`sha256-<hex>`) first, then any other manifest of the layout whose subject is the artifact
   * (what oras and notation find by walking predecessors). Filtered on artifact type.
   */
  async listReferrers(subject: { readonly digest: string }, artifactType?: string): Promise<Descriptor[]> {
    const out: Descriptor[] = [];
    const seen = new Set<string>();
    const add = (d: Descriptor): void => {
      if (seen.has(d.digest)) return;
      if (artifactType !== undefined && d.artifactType !== artifactType) return;
      seen.add(d.digest);
      out.push(d);
    };
    const parsed = parseDigest(subject.digest);
    if (parsed !== undefined) {
      const tag = `${parsed.algorithm}-${parsed.hex}`;
      const tagIndex = this.#index.manifests.find((d) => d.annotations?.[REF_NAME] === tag);
      if (tagIndex !== undefined) {
        for (const d of parseManifest(await this.fetchManifest(tagIndex)).manifests) add(d);
      }
    }
    for (const d of this.#index.manifests) {
      if (d.mediaType !== MEDIA_TYPE.ociManifest || seen.has(d.digest)) continue;
      const manifest = parseManifest(await this.fetchManifest(d));
      if (manifest.subject?.digest !== subject.digest) continue;
      const type = effectiveArtifactType(manifest);
      add({
        ...d,
        ...(type === undefined ? {} : { artifactType: type }),
        ...(Object.keys(manifest.annotations).length === 0 ? {} : { annotations: manifest.annotations }),
      });
    }
    return out;
  }

  async #readBlob(digest: string, maxBytes: number, expectedSize?: number): Promise<Uint8Array> {
    const parsed = parseDigest(digest);
    if (parsed === undefined) throw new PortcullisError('ERR_DIGEST_INVALID', `"${digest}" is not a valid digest`);
    if (expectedSize !== undefined && expectedSize > maxBytes) {
      throw new PortcullisError(
        'ERR_SIZE_LIMIT',
        `blob ${digest} is ${expectedSize} bytes, over the ${maxBytes}-byte cap`,
      );
    }
    const path = join(this.dir, 'blobs', parsed.algorithm, parsed.hex);
    let bytes: Uint8Array;
    try {
      const info = await lstat(path);
      if (!info.isFile()) throw new PortcullisError('ERR_LAYOUT_INVALID', `blob ${digest} is not a regular file`);
      if (info.size > maxBytes)
        throw new PortcullisError(
          'ERR_SIZE_LIMIT',
          `blob ${digest} is ${info.size} bytes, over the ${maxBytes}-byte cap`,
        );
      const handle = await open(path, 'r');
      try {
        const buffer = Buffer.alloc(Math.min(info.size, maxBytes));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
        bytes = buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    } catch (cause) {
      if (cause instanceof PortcullisError) throw cause;
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new PortcullisError('ERR_LAYOUT_NOT_FOUND', `blob ${digest} is not in the OCI layout "${this.dir}"`);
      }
      throw new PortcullisError('ERR_LAYOUT_INVALID', `blob ${digest} cannot be read: ${(cause as Error).message}`, {
        cause,
      });
    }
    if (expectedSize !== undefined && bytes.length !== expectedSize) {
      throw new PortcullisError(
        'ERR_DIGEST_MISMATCH',
        `blob ${digest} is ${bytes.length} bytes, its descriptor says ${expectedSize}`,
      );
    }
    if (!matchesDigest(bytes, digest))
      throw new PortcullisError('ERR_DIGEST_MISMATCH', `blob ${digest} in "${this.dir}" does not match its digest`);
    return bytes;
  }
}

/** The `oci-layout` file of `dir` must say imageLayoutVersion 1.0.0 (ERR_LAYOUT_INVALID otherwise). */
export function checkLayoutVersion(dir: string, layoutText: string): void {
  let version: unknown;
  try {
    const doc = parseStrictJson(layoutText, { what: 'oci-layout' });
    version = isJsonObject(doc) ? doc['imageLayoutVersion'] : undefined;
  } catch (cause) {
    throw new PortcullisError(
      'ERR_LAYOUT_INVALID',
      `"${dir}/oci-layout" is not valid JSON: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  if (version !== '1.0.0')
    throw new PortcullisError(
      'ERR_LAYOUT_INVALID',
      `"${dir}/oci-layout" has unsupported imageLayoutVersion ${JSON.stringify(version)}`,
    );
}
