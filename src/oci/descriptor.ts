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
 * What is being verified: always the full descriptor of the manifest the registry (or layout)
 * holds — for a digest-pinned reference too, so that the signed payload's media type and size
 * are compared with it exactly as for a tag (the spec requires all three to match).
 */
export type ArtifactTarget = Descriptor;
