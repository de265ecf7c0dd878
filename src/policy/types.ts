import type { TrustStoreType } from '../x509/index.js';

export type { TrustStoreType };

/** The five verification checks of the Notary trust policy, in evaluation order. */
export const CHECKS = ['integrity', 'authenticity', 'authenticTimestamp', 'expiry', 'revocation'] as const;
export type CheckName = (typeof CHECKS)[number];

export type VerificationAction = 'enforce' | 'log' | 'skip';
export type VerificationLevelName = 'strict' | 'permissive' | 'audit' | 'skip';
export type VerifyTimestamp = 'always' | 'afterCertExpiry';

/** `signatureVerification` exactly as written (unvalidated strings). */
export interface SignatureVerificationDocument {
  readonly level: string;
  readonly override?: Readonly<Record<string, string>>;
  readonly verifyTimestamp?: string;
}

/**
 * A trust policy statement as written in trustpolicy(.oci).json (version 1.0), after JSON
 * decoding the way notation-go decodes it: absent or null fields take their zero value.
 */
export interface TrustPolicyStatementDocument {
  readonly name: string;
  readonly registryScopes: readonly string[];
  readonly signatureVerification: SignatureVerificationDocument;
  readonly trustStores?: readonly string[];
  readonly trustedIdentities?: readonly string[];
}

export interface TrustPolicyDocument {
  readonly version: string;
  readonly trustPolicies: readonly TrustPolicyStatementDocument[];
}

/** A statement of trustpolicy.blob.json: no registryScopes, optional globalPolicy. */
export interface BlobTrustPolicyStatementDocument {
  readonly name: string;
  readonly signatureVerification: SignatureVerificationDocument;
  readonly trustStores?: readonly string[];
  readonly trustedIdentities?: readonly string[];
  readonly globalPolicy?: boolean;
}

export interface BlobTrustPolicyDocument {
  readonly version: string;
  readonly trustPolicies: readonly BlobTrustPolicyStatementDocument[];
}

export interface TrustStoreRef {
  readonly type: TrustStoreType;
  readonly name: string;
}

/**
 * The attributes of an `x509.subject:` identity, e.g. {C: 'US', ST: 'WA', O: 'Notary'}
 * (`S` is normalised to `ST`). One value per attribute type.
 */
export type DistinguishedName = Readonly<Record<string, string>>;

/** The part of a validated statement shared by OCI and blob policies. */
export interface StatementCore {
  readonly name: string;
  readonly level: VerificationLevelName;
  /** True when `override` changed at least one action (notation calls the level "custom"). */
  readonly customized: boolean;
  /** Action per check after applying overrides. Integrity is always `enforce` (unless level skip). */
  readonly actions: Readonly<Record<CheckName, VerificationAction>>;
  readonly verifyTimestamp: VerifyTimestamp;
  /** Deduplicated, in document order. Empty for level skip. */
  readonly trustStores: readonly TrustStoreRef[];
  /** `trustedIdentities` as written (what a verification plugin is given). Empty for level skip. */
  readonly trustedIdentities: readonly string[];
  /** True when trustedIdentities is exactly ["*"]. */
  readonly anyIdentity: boolean;
  /** Parsed `x509.subject:` identities, in document order. */
  readonly x509Identities: readonly DistinguishedName[];
  /** Identities with other prefixes (kept for plugins; Portcullis does not evaluate them). */
  readonly otherIdentities: readonly string[];
}

/** A validated OCI statement with everything resolved into typed values. */
export interface TrustPolicyStatement extends StatementCore {
  /** Exact repository scopes, or exactly ['*']. */
  readonly registryScopes: readonly string[];
}

/** A validated OCI trust policy document. */
export interface TrustPolicy {
  readonly version: '1.0';
  readonly statements: readonly TrustPolicyStatement[];
}

/** A validated blob statement. */
export interface BlobTrustPolicyStatement extends StatementCore {
  readonly globalPolicy: boolean;
}

/** A validated blob trust policy document (at most one globalPolicy statement). */
export interface BlobTrustPolicy {
  readonly version: '1.0';
  readonly statements: readonly BlobTrustPolicyStatement[];
}
