import { isPortcullisError } from '../errors/index.js';
import type { Descriptor } from '../oci/descriptor.js';
import { parseManifest } from '../oci/manifest.js';
import { MEDIA_TYPE } from '../oci/media-types.js';
import type { RegistryClient, RepositoryRef } from '../registry/index.js';

export interface CopyEnd {
  readonly client: RegistryClient;
  readonly repo: RepositoryRef;
}

export interface CopyStats {
  manifests: number;
  blobs: number;
  bytes: number;
  mounted: number;
  skipped: number;
  referrers: number;
}

export interface CopyOptions {
  /** Copy the referrer graph (signatures, SBOMs and their signatures) too. */
  readonly referrers: boolean;
  readonly onProgress?: (stats: Readonly<CopyStats>, what: string) => void;
  /** Deadline of one blob transfer (large layers need more than a manifest). */
  readonly blobTimeoutMs?: number;
}

const INDEX_TYPES = new Set<string>([MEDIA_TYPE.ociIndex, MEDIA_TYPE.dockerManifestList]);
// Attacker-shaped graphs: bound them.
const MAX_REFERRER_DEPTH = 8;
const MAX_NODES = 10_000;

/**
 * Copies an artifact (an index with its platform manifests, or a manifest) and, with
 * `referrers`, its whole referrer graph, from one repository to another. Children are pushed
 * before their parents so a registry never sees a dangling reference; content the destination
 * already has is skipped; within one registry blobs are mounted instead of transferred. A
 * referrer pushed to a registry that does not index subjects is added to the tag-schema index.
 */
export class GraphCopier {
  readonly stats: CopyStats = { manifests: 0, blobs: 0, bytes: 0, mounted: 0, skipped: 0, referrers: 0 };
  readonly #done = new Set<string>();
  #nodes = 0;

  constructor(
    private readonly src: CopyEnd,
    private readonly dst: CopyEnd,
    private readonly options: CopyOptions,
  ) {}

  /** Copies `root` and tags it `tag` at the destination (when given). */
  async copy(root: Descriptor, tag: string | undefined): Promise<void> {
    await this.#copyContent(root, tag);
    if (this.options.referrers) await this.#copyReferrers(root, MAX_REFERRER_DEPTH);
  }

  #progress(what: string): void {
    this.options.onProgress?.(this.stats, what);
  }

  async #dstHasManifest(d: Descriptor): Promise<boolean> {
    return (await this.#dstResolve({ digest: d.digest })) !== undefined;
  }

  async #dstTagPointsTo(tag: string, d: Descriptor): Promise<boolean> {
    return (await this.#dstResolve({ tag }))?.digest === d.digest;
  }

  async #dstResolve(ref: { tag: string } | { digest: string }): Promise<Descriptor | undefined> {
    try {
      return await this.dst.client.resolve({ ...this.dst.repo, ...ref });
    } catch (error) {
      if (isPortcullisError(error) && error.code === 'ERR_REGISTRY_NOT_FOUND') return undefined;
      throw error;
    }
  }

  /** `pushed` false: the destination had it already. */
  async #copyContent(d: Descriptor, tag?: string): Promise<{ pushed: boolean; subjectProcessed: boolean }> {
    if (++this.#nodes > MAX_NODES) throw new Error(`more than ${MAX_NODES} objects to copy`);
    if (this.#done.has(d.digest) && tag === undefined) return { pushed: false, subjectProcessed: false };
    if (tag === undefined ? await this.#dstHasManifest(d) : await this.#dstTagPointsTo(tag, d)) {
      this.stats.skipped++;
      this.#done.add(d.digest);
      this.#progress(`skipped ${d.digest}`);
      return { pushed: false, subjectProcessed: false };
    }
    const { bytes, descriptor } = await this.src.client.fetchManifest(this.src.repo, d);
    const manifest = parseManifest(bytes);
    if (INDEX_TYPES.has(descriptor.mediaType)) {
      for (const child of manifest.manifests) await this.#copyContent(child);
    } else {
      for (const blob of [...(manifest.config === undefined ? [] : [manifest.config]), ...manifest.layers]) await this.#copyBlob(blob);
    }
    const pushed = await this.dst.client.pushManifest(this.dst.repo, tag ?? descriptor.digest, bytes, descriptor.mediaType);
    this.stats.manifests++;
    this.#done.add(d.digest);
    this.#progress(`pushed ${descriptor.digest}`);
    return { pushed: true, subjectProcessed: pushed.subjectProcessed };
  }

  async #dstListsReferrer(subject: Descriptor, referrer: Descriptor): Promise<boolean> {
    return (await this.dst.client.listReferrers(this.dst.repo, subject)).some((d) => d.digest === referrer.digest);
  }

  async #copyBlob(d: Descriptor): Promise<void> {
    if (this.#done.has(d.digest)) return;
    const call = this.options.blobTimeoutMs === undefined ? undefined : { timeoutMs: this.options.blobTimeoutMs };
    if (await this.dst.client.blobExists(this.dst.repo, d, call)) {
      this.stats.skipped++;
    } else if (this.src.client === this.dst.client && this.src.repo.registry === this.dst.repo.registry) {
      const { mounted } = await this.dst.client.mountBlob(this.dst.repo, this.src.repo.repository, d, call);
      if (mounted) this.stats.mounted++;
      else this.stats.bytes += d.size;
      this.stats.blobs++;
    } else {
      await this.dst.client.pushBlob(this.dst.repo, this.src.client.openBlob(this.src.repo, d, call), d, { ...call });
      this.stats.blobs++;
      this.stats.bytes += d.size;
    }
    this.#done.add(d.digest);
    this.#progress(`blob ${d.digest}`);
  }

  async #copyReferrers(subject: Descriptor, depth: number): Promise<void> {
    if (depth <= 0) return;
    for (const referrer of await this.src.client.listReferrers(this.src.repo, subject)) {
      if (referrer.digest === subject.digest) continue;
      if (this.#done.has(referrer.digest)) continue;
      const { pushed, subjectProcessed } = await this.#copyContent(referrer);
      if (pushed) this.stats.referrers++;
      // A registry that did not index the subject needs the tag-schema entry; for a referrer
      // the destination already had, add the entry only if the destination does not list it.
      if (pushed ? !subjectProcessed : !(await this.#dstListsReferrer(subject, referrer))) {
        await this.dst.client.addReferrer(this.dst.repo, subject, referrer);
      }
      await this.#copyReferrers(referrer, depth - 1);
    }
  }
}
