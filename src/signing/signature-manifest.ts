import { type Descriptor, MEDIA_TYPE, THUMBPRINT_ANNOTATION } from '../oci/index.js';
import { digestOf } from '../util/index.js';

/** The 2-byte `{}` config blob of OCI 1.1 artifacts. */
export const EMPTY_CONFIG = {
  mediaType: MEDIA_TYPE.ociEmpty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
} as const satisfies Descriptor;

export interface SignatureManifestInput {
  readonly subject: Descriptor;
  readonly envelope: Uint8Array;
  readonly envelopeMediaType: string;
  /** SHA-256 hex of each chain certificate, leaf first (the thumbprint annotation). */
  readonly thumbprints: readonly string[];
  readonly signingTime: Date;
  /** Extra manifest annotations (from an envelope-generating plugin); the Notary ones win. */
  readonly annotations?: Readonly<Record<string, string>>;
  /** `legacy` writes the notation ≤ 1.1 shape (config media type), for compatibility tests. */
  readonly shape?: 'artifactType' | 'legacy';
}

export interface BuiltSignatureManifest {
  readonly manifest: Uint8Array;
  readonly descriptor: Descriptor;
  readonly envelopeDescriptor: Descriptor;
}

/** Builds the signature manifest notation writes (signature-specification.md, "OCI Signatures"). */
export function buildSignatureManifest(input: SignatureManifestInput): BuiltSignatureManifest {
  const envelopeDescriptor: Descriptor = {
    mediaType: input.envelopeMediaType,
    digest: digestOf(input.envelope),
    size: input.envelope.length,
  };
  const annotations = {
    ...input.annotations,
    [THUMBPRINT_ANNOTATION]: JSON.stringify(input.thumbprints),
    'org.opencontainers.image.created': input.signingTime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  const subject = { mediaType: input.subject.mediaType, digest: input.subject.digest, size: input.subject.size };
  const body =
    input.shape === 'legacy'
      ? {
          schemaVersion: 2,
          mediaType: MEDIA_TYPE.ociManifest,
          config: { mediaType: MEDIA_TYPE.notarySignature, digest: EMPTY_CONFIG.digest, size: EMPTY_CONFIG.size },
          layers: [envelopeDescriptor],
          subject,
          annotations,
        }
      : {
          schemaVersion: 2,
          mediaType: MEDIA_TYPE.ociManifest,
          artifactType: MEDIA_TYPE.notarySignature,
          config: EMPTY_CONFIG,
          layers: [envelopeDescriptor],
          subject,
          annotations,
        };
  const manifest = new TextEncoder().encode(JSON.stringify(body));
  return {
    manifest,
    envelopeDescriptor,
    descriptor: {
      mediaType: MEDIA_TYPE.ociManifest,
      digest: digestOf(manifest),
      size: manifest.length,
      artifactType: MEDIA_TYPE.notarySignature,
      annotations,
    },
  };
}
