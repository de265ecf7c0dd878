import type { Certificate, CertificateCache, SignatureAlgorithm } from '../x509/index.js';

/** The six signature algorithms the Notary spec allows, by their JWS names (defined with the key specs in x509). */
export type { SignatureAlgorithm };

export type SigningScheme = 'notary.x509' | 'notary.x509.signingAuthority';

export type EnvelopeMediaType = 'application/jose+json' | 'application/cose';

/** A signed attribute that is not one the Notary spec defines. */
export interface ExtendedAttribute {
  readonly key: string;
  readonly value: unknown;
  readonly critical: boolean;
}

/** Signed (integrity-protected) attributes, format independent. */
export interface SignedAttributes {
  readonly contentType: string;
  readonly signingScheme: SigningScheme;
  /** `io.cncf.notary.signingTime` (notary.x509 only; the signer's unauthenticated clock). */
  readonly signingTime: Date | undefined;
  /** `io.cncf.notary.authenticSigningTime` (signingAuthority scheme only). */
  readonly authenticSigningTime: Date | undefined;
  readonly expiry: Date | undefined;
  readonly verificationPlugin: string | undefined;
  readonly verificationPluginMinVersion: string | undefined;
  readonly extendedAttributes: readonly ExtendedAttribute[];
}

/** Unsigned attributes. */
export interface UnsignedAttributes {
  /** Leaf first, root last, parsed. */
  readonly certificateChain: readonly Certificate[];
  /** DER RFC 3161 TimeStampToken over the primitive signature bytes, when present. */
  readonly timestampSignature: Uint8Array | undefined;
  readonly signingAgent: string | undefined;
}

/**
 * A signature envelope that has been parsed and whose primitive signature has been checked
 * against the leaf certificate (integrity). Nothing here is trusted yet beyond that.
 */
export interface VerifiedEnvelope {
  readonly mediaType: EnvelopeMediaType;
  readonly algorithm: SignatureAlgorithm;
  /** The raw payload bytes (JSON of `{targetArtifact}`). */
  readonly payload: Uint8Array;
  readonly signed: SignedAttributes;
  readonly unsigned: UnsignedAttributes;
  /** The primitive signature bytes (what an RFC 3161 timestamp imprints). */
  readonly signature: Uint8Array;
}

/** What a signer needs to produce an envelope. */
export interface SignRequest {
  readonly payload: Uint8Array;
  /** Payload content type; defaults to application/vnd.cncf.notary.payload.v1+json (the only one verifiers accept). */
  readonly contentType?: string;
  readonly signingScheme?: SigningScheme;
  /** Signing time (notary.x509) or authentic signing time (signingAuthority). Passed in: the core reads no clock. */
  readonly signingTime: Date;
  readonly expiry?: Date;
  readonly signingAgent?: string;
  readonly extendedAttributes?: readonly ExtendedAttribute[];
  readonly timestampSignature?: Uint8Array;
}

/** Options of the envelope parsers. */
export interface EnvelopeParseOptions {
  /** Parses each distinct certificate once across envelopes. */
  readonly certificateCache?: CertificateCache;
  /** Largest accepted envelope in bytes (default 4 MiB); larger ones fail with ERR_SIZE_LIMIT. */
  readonly maxBytes?: number;
}

/** Default cap on envelope size: notation envelopes are a few KiB, timestamped ones ~10 KiB. */
export const DEFAULT_MAX_ENVELOPE_BYTES = 4 * 1024 * 1024;
