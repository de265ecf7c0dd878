import type { PortcullisError } from '../errors/index.js';
import type { Certificate } from '../x509/index.js';
import type { CheckName, TrustStoreType, VerificationAction } from '../policy/index.js';

export type CheckStatus = 'passed' | 'failed' | 'logged' | 'skipped';

/** The outcome of one check for one signature. */
export interface CheckResult {
  readonly check: CheckName;
  /** passed; failed (enforced failure); logged (failure under `log`); skipped (not evaluated). */
  readonly status: CheckStatus;
  readonly action: VerificationAction;
  readonly error?: PortcullisError;
  /**
   * What decided, when there is more to say than passed/failed (revocation: which source answered
   * for each certificate).
   */
  readonly detail?: string;
}

/** Trust material by store type and name (`ca:acme` → certificates). */
export interface TrustStores {
  /** undefined when no store of that type and name exists. */
  get(type: TrustStoreType, name: string): readonly Certificate[] | undefined;
}

export type RevocationStatus = 'good' | 'revoked' | 'unknown' | 'nonRevokable';

export interface RevocationResult {
  readonly status: RevocationStatus;
  /** Per certificate, leaf first, same length as the chain. */
  readonly certificates: readonly {
    readonly status: RevocationStatus;
    readonly revokedAt?: Date;
    readonly reason?: string;
    readonly detail?: string;
    /** Which source answered, in words (e.g. "preloaded CRL /etc/notation/revocation/crl/ca.crl", "OCSP responder http://…"). */
    readonly answeredBy?: string;
  }[];
}

/**
 * Revocation is the one check that needs the network. The core only calls this interface;
 * the OCSP/CRL implementation lives in an adapter layer and is injected.
 */
export interface RevocationChecker {
  check(chain: readonly Certificate[], at: { signingTime?: Date; verificationTime: Date }): Promise<RevocationResult>;
}

/** The result of evaluating one signature against one trust policy statement. */
export interface SignatureVerification {
  /** Digest of the signature manifest. */
  readonly signature: string;
  /** True when no enforced check failed. */
  readonly passed: boolean;
  /** One entry per check, in CHECKS order. */
  readonly checks: readonly CheckResult[];
  /** The enforced failure that rejected the signature, if any. */
  readonly failure?: { readonly check: CheckName; readonly error: PortcullisError };
  /** What was learnt about the signature (absent when it could not even be parsed). */
  readonly details?: SignatureDetails;
}

export interface SignatureDetails {
  readonly envelopeMediaType: string;
  readonly signingScheme: string;
  readonly algorithm: string;
  readonly signingTime?: Date;
  readonly authenticSigningTime?: Date;
  readonly expiry?: Date;
  readonly signer: string;
  readonly certificateChain: readonly { readonly subject: string; readonly sha256: string; readonly notAfter: Date }[];
  readonly timestamp?: { readonly genTime: Date; readonly notBefore: Date; readonly notAfter: Date };
  /** The verification plugin the signature named, as installed (name, version, its SIGNATURE_VERIFIER capabilities). */
  readonly plugin?: { readonly name: string; readonly version: string; readonly capabilities: readonly string[] };
}

export interface Warning {
  readonly check: CheckName;
  readonly message: string;
}
