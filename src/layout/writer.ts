import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PortcullisError } from '../errors/index.js';
import { type Descriptor, MEDIA_TYPE } from '../oci/index.js';
import { parseDigest, isJsonObject, parseStrictJson } from '../util/index.js';
import { blobPath } from './blob-stream.js';
import { checkLayoutVersion } from './oci-layout.js';

const REF_NAME = 'org.opencontainers.image.ref.name';
const INDEX_MAX_BYTES = 16 * 1024 * 1024;

interface IndexDocument {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/**
 * Writes into an OCI image layout (image-spec image-layout.md), creating it when missing: what
 * `copy --to-oci-layout`, `sign --oci-layout` and `attach --oci-layout` need. Blobs are
 * written to a temporary file while their digest is computed and renamed into place only when
 * size and digest match, so a layout never holds content under a wrong name. index.json lists
 * tagged manifests (`org.opencontainers.image.ref.name`) and, untagged, the referrers
 * (signatures, SBOMs) so that readers find them by their subject, as notation and oras do.
 */
export class OciLayoutWriter {
  readonly dir: string;
  #index: IndexDocument;
  #writes: Promise<void> = Promise.resolve();

  private constructor(dir: string, index: IndexDocument) {
    this.dir = dir;
    this.#index = index;
  }

  /** Opens a layout for writing; creates `oci-layout`, `index.json` and `blobs/` when the directory has none. */
  static async open(dir: string): Promise<OciLayoutWriter> {
    let layoutText: string | undefined;
    try {
      layoutText = await readFile(join(dir, 'oci-layout'), 'utf8');
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new PortcullisError(
          'ERR_LAYOUT_INVALID',
          `"${dir}" is not a readable OCI image layout: ${(cause as Error).message}`,
          { cause },
        );
    }
    if (layoutText === undefined) {
      await mkdir(join(dir, 'blobs'), { recursive: true });
      await writeFile(join(dir, 'oci-layout'), `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}\n`);
      const index: IndexDocument = { schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: [] };
      const writer = new OciLayoutWriter(dir, index);
      await writer.#saveIndex();
      return writer;
    }
    checkLayoutVersion(dir, layoutText);
    let index: IndexDocument;
    try {
      const doc = parseStrictJson(await readFile(join(dir, 'index.json'), 'utf8'), {
        what: 'index.json',
        maxBytes: INDEX_MAX_BYTES,
      });
      if (!isJsonObject(doc) || !Array.isArray(doc['manifests'])) throw new Error('no "manifests" array');
      index = doc as unknown as IndexDocument;
    } catch (cause) {
      throw new PortcullisError('ERR_LAYOUT_INVALID', `"${dir}/index.json" is invalid: ${(cause as Error).message}`, {
        cause,
      });
    }
    return new OciLayoutWriter(dir, index);
  }

  /** The descriptors index.json lists. */
  get manifests(): readonly Descriptor[] {
    return this.#index.manifests;
  }

  /** Whether the layout has a blob of that digest and size (content is checked when it is read). */
  async hasBlob(descriptor: Descriptor): Promise<boolean> {
    try {
      const info = await lstat(blobPath(this.dir, descriptor.digest));
      return info.isFile() && info.size === descriptor.size;
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw cause;
    }
  }

  /** Writes a blob; `onBytes` is told of every chunk written. Checks size and digest before the blob takes its name. */
  async writeBlob(
    descriptor: Descriptor,
    content: Uint8Array | AsyncIterable<Uint8Array>,
    onBytes?: (n: number) => void,
  ): Promise<void> {
    const parsed = parseDigest(descriptor.digest);
    if (parsed === undefined)
      throw new PortcullisError('ERR_DIGEST_INVALID', `"${descriptor.digest}" is not a valid digest`);
    const path = blobPath(this.dir, descriptor.digest);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const hash = createHash(parsed.algorithm);
    let total = 0;
    const counted = async function* (): AsyncGenerator<Uint8Array> {
      const chunks = content instanceof Uint8Array ? [content] : content;
      for await (const chunk of chunks) {
        total += chunk.length;
        if (total > descriptor.size)
          throw new PortcullisError(
            'ERR_DIGEST_MISMATCH',
            `the content of ${descriptor.digest} is longer than its ${descriptor.size} bytes`,
          );
        hash.update(chunk);
        yield chunk;
        onBytes?.(chunk.length);
      }
    };
    try {
      await pipeline(counted, createWriteStream(temporary, { mode: 0o644 }));
      if (total !== descriptor.size || hash.digest('hex') !== parsed.hex) {
        throw new PortcullisError(
          'ERR_DIGEST_MISMATCH',
          `the content written for ${descriptor.digest} (${total} bytes) does not match its digest and size (${descriptor.size})`,
        );
      }
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  /**
   * Writes a manifest and lists it in index.json: under `tag` (which then names only this
   * manifest), or untagged when `listed` (a referrer: readers find it by its subject).
   */
  async putManifest(
    bytes: Uint8Array,
    descriptor: Descriptor,
    options: { tag?: string; listed?: boolean } = {},
  ): Promise<void> {
    if (!(await this.hasBlob(descriptor))) await this.writeBlob(descriptor, bytes);
    if (options.tag === undefined && options.listed !== true) return;
    await this.#list(descriptor, options.tag);
  }

  /** Lists a manifest the layout holds in index.json, untagged (a referrer found by its subject). */
  async list(descriptor: Descriptor): Promise<void> {
    if (!(await this.hasBlob(descriptor)))
      throw new PortcullisError(
        'ERR_LAYOUT_NOT_FOUND',
        `manifest ${descriptor.digest} is not in the OCI layout "${this.dir}"`,
      );
    await this.#list(descriptor, undefined);
  }

  async #list(descriptor: Descriptor, tag: string | undefined): Promise<void> {
    await this.#update((manifests) => {
      const entry: Descriptor = {
        mediaType: descriptor.mediaType,
        digest: descriptor.digest,
        size: descriptor.size,
        ...(descriptor.artifactType === undefined ? {} : { artifactType: descriptor.artifactType }),
      };
      if (tag !== undefined) {
        const kept = manifests.filter((d) => d.annotations?.[REF_NAME] !== tag);
        return [...kept, { ...entry, annotations: { [REF_NAME]: tag } }];
      }
      if (manifests.some((d) => d.digest === descriptor.digest)) return manifests;
      return [...manifests, entry];
    });
  }

  /** Whether index.json lists the manifest (tagged or not). */
  lists(digest: string): boolean {
    return this.#index.manifests.some((d) => d.digest === digest);
  }

  /** The manifest a tag names, if any. */
  tagged(tag: string): Descriptor | undefined {
    return this.#index.manifests.find((d) => d.annotations?.[REF_NAME] === tag);
  }

  async #update(change: (manifests: Descriptor[]) => Descriptor[]): Promise<void> {
    // One index.json write at a time: concurrent copies of referrers must not lose an entry.
    const next = this.#writes.then(async () => {
      this.#index = { ...this.#index, manifests: change([...this.#index.manifests]) };
      await this.#saveIndex();
    });
    this.#writes = next.catch(() => undefined);
    await next;
  }

  async #saveIndex(): Promise<void> {
    const path = join(this.dir, 'index.json');
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temporary, JSON.stringify(this.#index));
    await rename(temporary, path);
  }
}
