import type { Descriptor } from '../oci/index.js';
import type { ContentTarget } from './endpoint.js';

/** A manifest with its blobs, all in memory (a signature, an attached SBOM). */
export interface ArtifactToPush {
  readonly blobs: readonly { readonly descriptor: Descriptor; readonly bytes: Uint8Array }[];
  readonly manifest: { readonly descriptor: Descriptor; readonly bytes: Uint8Array };
  /** The artifact it refers to (the manifest's `subject`). */
  readonly subject: Descriptor;
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/**
 * Pushes a referrer artifact: its blobs (those the target lacks), then its manifest by digest;
 * where the target does not index the subject itself (a registry without the Referrers API),
 * adds it to the subject's referrers index, as notation and oras do.
 */
export async function pushReferrerArtifact(
  target: ContentTarget,
  artifact: ArtifactToPush,
): Promise<{ indexedBy: 'target' | 'referrers-index' }> {
  for (const blob of artifact.blobs) {
    if (!(await target.hasBlob(blob.descriptor)))
      await target.pushBlob(blob.descriptor, once(blob.bytes), () => undefined);
  }
  const pushed = await target.pushManifest(artifact.manifest.bytes, artifact.manifest.descriptor, {
    subject: artifact.subject,
  });
  if (pushed.indexed) return { indexedBy: 'target' };
  await target.addReferrer(artifact.subject, artifact.manifest.descriptor);
  return { indexedBy: 'referrers-index' };
}
