/** An OCI content descriptor (image-spec descriptor.md). */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly data?: string;
}

/** The OCI equality notation uses for payload matching: media type, digest and size. */
export function sameContent(a: Descriptor, b: Descriptor): boolean {
  return a.mediaType === b.mediaType && a.digest === b.digest && a.size === b.size;
}

/**
 * What is being verified: a full descriptor, or, for a digest-pinned reference verified without
 * a manifest lookup, only the digest. The digest fixes the content (and so its size); the
 * signed payload then supplies the media type and size.
 */
export type ArtifactTarget = Descriptor | { readonly digest: string; readonly mediaType?: undefined; readonly size?: undefined };

/** Payload matching for an ArtifactTarget: digest always; media type and size when known. */
export function matchesTarget(signed: Descriptor, target: ArtifactTarget): boolean {
  if (target.mediaType === undefined) return signed.digest === target.digest;
  return sameContent(signed, target);
}
