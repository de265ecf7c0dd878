import type { Descriptor } from './descriptor.js';

/**
 * Where the signatures of an artifact come from (an OCI layout, a registry, the executor's
 * caching wrapper around a registry, a test). The verification core calls it and does no I/O of
 * its own; it lives here, beside the descriptors it speaks of, so that the core and the sources
 * share one declaration.
 */
export interface SignatureSource {
  /** Descriptors of the signature manifests of the artifact, in the order to try them. */
  listSignatures(artifact: { readonly digest: string }): Promise<readonly Descriptor[]>;
  /**
   * The same descriptors a page at a time (a registry's Referrers API pages), fetched only as the
   * verification asks for the next: when a signature on the first page passes, later pages are
   * never requested. Optional: without it, `listSignatures` is asked for the whole list.
   */
  signaturePages?(artifact: { readonly digest: string }): AsyncIterable<readonly Descriptor[]>;
  /** Manifest bytes, already checked against the descriptor's digest and size cap. */
  fetchManifest(descriptor: Descriptor): Promise<Uint8Array>;
  /** Blob bytes, already checked against the descriptor's digest and size cap. */
  fetchBlob(descriptor: Descriptor): Promise<Uint8Array>;
}
