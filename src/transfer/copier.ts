import { PortcullisError } from '../errors/index.js';
import { type Descriptor, parseManifest } from '../oci/index.js';
import type { ContentSource, ContentTarget } from './endpoint.js';
import { Limit } from './limit.js';
import { INDEX_TYPES } from './platform.js';

/** One object of a copy and what happened to it. */
export interface CopiedItem {
  readonly kind: 'manifest' | 'blob';
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  readonly artifactType?: string;
}

/** What a copy did: the `-o json` of `portcullis copy`. */
export interface CopyReport {
  /** Transferred (a blob's bytes moved; a manifest pushed). */
  readonly copied: CopiedItem[];
  /** Already at the destination. */
  readonly skipped: CopiedItem[];
  /** Blobs mounted from another repository of the same registry (no bytes moved). */
  readonly mounted: CopiedItem[];
  /** Referrers (signatures, SBOMs, …) copied, at any depth. */
  readonly referrers: CopiedItem[];
  /** Blob bytes transferred. */
  bytes: number;
}

/** Progress events, for a terminal's progress bars. */
export interface CopyEvents {
  blobStart?(d: Descriptor): void;
  blobBytes?(d: Descriptor, n: number): void;
  blobDone?(d: Descriptor, outcome: 'copied' | 'skipped' | 'mounted'): void;
  manifestDone?(d: Descriptor, outcome: 'copied' | 'skipped'): void;
}

export interface CopyOptions {
  /** Copy the referrer graph (signatures, SBOMs and their signatures) too. */
  readonly referrers: boolean;
  /** Blob transfers at once. If unset, 3 (oras's default). */
  readonly concurrency?: number;
  readonly events?: CopyEvents;
}

// Attacker-shaped graphs: bound them.
const MAX_REFERRER_DEPTH = 8;
const MAX_NODES = 10_000;

function item(kind: CopiedItem['kind'], d: Descriptor): CopiedItem {
  return {
    kind,
    digest: d.digest,
    mediaType: d.mediaType,
    size: d.size,
    ...(d.artifactType === undefined ? {} : { artifactType: d.artifactType }),
  };
}

/**
 * Copies an artifact (an index with its platform manifests, or a manifest) and, with
 * `referrers`, its whole referrer graph, between any two ends (registry repositories, OCI
 * layouts). Children are pushed before their parents so a target never sees a dangling
 * reference; content the target has is skipped; within one registry blobs are mounted; blob
 * transfers run `concurrency` at a time and each blob is transferred once even when several
 * manifests share it. A referrer the target does not index by its subject is added to the
 * target's referrers index (the tag schema of registries without the Referrers API).
 */
export class GraphCopier {
  readonly report: CopyReport = { copied: [], skipped: [], mounted: [], referrers: [], bytes: 0 };
  readonly #done = new Map<string, Promise<{ pushed: boolean; indexed: boolean }>>();
  readonly #blobs = new Map<string, Promise<void>>();
  readonly #limit: Limit;
  #nodes = 0;

  constructor(
    private readonly src: ContentSource,
    private readonly dst: ContentTarget,
    private readonly options: CopyOptions,
  ) {
    this.#limit = new Limit(Math.max(1, options.concurrency ?? 3));
  }

  /** Copies `root` and tags it `tag` at the destination (when given). */
  async copy(root: Descriptor, tag: string | undefined): Promise<CopyReport> {
    await this.#copyManifest(root, tag);
    if (this.options.referrers) await this.#copyReferrers(root, MAX_REFERRER_DEPTH);
    return this.report;
  }

  #count(): void {
    if (++this.#nodes > MAX_NODES)
      throw new PortcullisError('ERR_SIZE_LIMIT', `the graph to copy has more than ${MAX_NODES} objects`);
  }

  /** `pushed` false: the destination had it already; `indexed`: the target indexed its subject itself. */
  #copyManifest(d: Descriptor, tag?: string): Promise<{ pushed: boolean; indexed: boolean }> {
    if (tag === undefined) {
      const running = this.#done.get(d.digest);
      if (running !== undefined) return running.then(() => ({ pushed: false, indexed: false }));
    }
    const work = this.#copyManifestOnce(d, tag);
    this.#done.set(d.digest, work);
    return work;
  }

  async #copyManifestOnce(d: Descriptor, tag: string | undefined): Promise<{ pushed: boolean; indexed: boolean }> {
    this.#count();
    const present =
      tag === undefined ? await this.dst.hasManifest(d) : (await this.dst.resolveTag(tag))?.digest === d.digest;
    if (present) {
      this.report.skipped.push(item('manifest', d));
      this.options.events?.manifestDone?.(d, 'skipped');
      return { pushed: false, indexed: false };
    }
    const bytes = await this.src.fetchManifest(d);
    const manifest = parseManifest(bytes);
    if (INDEX_TYPES.has(d.mediaType)) {
      await Promise.all(manifest.manifests.map((child) => this.#copyManifest(child)));
    } else {
      await Promise.all(
        [...(manifest.config === undefined ? [] : [manifest.config]), ...manifest.layers].map((blob) =>
          this.#copyBlob(blob),
        ),
      );
    }
    const pushed = await this.dst.pushManifest(bytes, d, {
      ...(tag === undefined ? {} : { tag }),
      ...(manifest.subject === undefined ? {} : { subject: manifest.subject }),
    });
    this.report.copied.push(item('manifest', d));
    this.options.events?.manifestDone?.(d, 'copied');
    return { pushed: true, indexed: pushed.indexed };
  }

  #copyBlob(d: Descriptor): Promise<void> {
    let work = this.#blobs.get(d.digest);
    if (work === undefined) {
      this.#count();
      work = this.#limit.run(() => this.#copyBlobOnce(d));
      this.#blobs.set(d.digest, work);
    }
    return work;
  }

  async #copyBlobOnce(d: Descriptor): Promise<void> {
    const events = this.options.events;
    events?.blobStart?.(d);
    if (await this.dst.hasBlob(d)) {
      this.report.skipped.push(item('blob', d));
      events?.blobDone?.(d, 'skipped');
      return;
    }
    const onBytes = (n: number): void => {
      this.report.bytes += n;
      events?.blobBytes?.(d, n);
    };
    const mount = await this.dst.mountFrom?.(this.src, d, onBytes);
    if (mount?.mounted === true) {
      this.report.mounted.push(item('blob', d));
      events?.blobDone?.(d, 'mounted');
      return;
    }
    if (mount === undefined) await this.dst.pushBlob(d, this.src.openBlob(d), onBytes);
    this.report.copied.push(item('blob', d));
    events?.blobDone?.(d, 'copied');
  }

  async #copyReferrers(subject: Descriptor, depth: number): Promise<void> {
    if (depth <= 0) return;
    for (const referrer of await this.src.listReferrers(subject)) {
      if (referrer.digest === subject.digest || this.#done.has(referrer.digest)) continue;
      const { pushed, indexed } = await this.#copyManifest(referrer);
      if (pushed) this.report.referrers.push(item('manifest', referrer));
      // A target that did not index the subject needs the referrers-index entry; for a referrer
      // the target already had, add the entry only if the target does not list it.
      if (pushed ? !indexed : !(await this.dst.listsReferrer(subject, referrer)))
        await this.dst.addReferrer(subject, referrer);
      await this.#copyReferrers(referrer, depth - 1);
    }
  }
}
