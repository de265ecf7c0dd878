import type { Descriptor } from '../oci/index.js';

/**
 * The two ends of a copy: a repository of a registry or an OCI image layout on disk. The graph
 * copier (copier.ts) sees only these, so every pairing (registry → registry, layout → registry,
 * registry → layout, layout → layout) is the same code.
 */

/** Where content is read from. */
export interface ContentSource {
  /** For messages: `registry 127.0.0.1:5000/net-monitor` or `oci-layout ./backup`. */
  readonly name: string;
  fetchManifest(descriptor: Descriptor): Promise<Uint8Array>;
  /** The blob's content, checked against its digest as it streams. */
  openBlob(descriptor: Descriptor): AsyncIterable<Uint8Array>;
  listReferrers(subject: Descriptor): Promise<Descriptor[]>;
}

/** Where content is written to. */
export interface ContentTarget {
  readonly name: string;
  hasManifest(descriptor: Descriptor): Promise<boolean>;
  /** The descriptor a tag names now, if any. */
  resolveTag(tag: string): Promise<Descriptor | undefined>;
  hasBlob(descriptor: Descriptor): Promise<boolean>;
  /**
   * Copies a blob without moving its bytes when the target can (a cross-repository mount within
   * one registry). `undefined` when it cannot; else whether it was mounted (false: it was
   * transferred after all, `bytes` reported through onBytes).
   */
  mountFrom?(
    source: ContentSource,
    descriptor: Descriptor,
    onBytes: (n: number) => void,
  ): Promise<{ mounted: boolean } | undefined>;
  pushBlob(descriptor: Descriptor, content: AsyncIterable<Uint8Array>, onBytes: (n: number) => void): Promise<void>;
  /**
   * Stores a manifest under `tag` or by digest. For a referrer (`subject` given) the result says
   * whether the target indexed it by its subject already (the Referrers API, a layout's
   * index.json); if not, the caller adds it with addReferrer.
   */
  pushManifest(
    bytes: Uint8Array,
    descriptor: Descriptor,
    options: { tag?: string; subject?: Descriptor },
  ): Promise<{ indexed: boolean }>;
  listsReferrer(subject: Descriptor, referrer: Descriptor): Promise<boolean>;
  addReferrer(subject: Descriptor, referrer: Descriptor): Promise<void>;
}
