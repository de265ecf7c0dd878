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
